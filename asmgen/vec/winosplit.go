package vec

import (
	"fmt"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/compiler/winograd"
)

// The Winograd input transform reads its input tiles as vectors of
// consecutive tiles, which are o columns apart in the input: codegen/rt's
// rtWinoInput first splits each padded input row by column modulo o into
// o planes, in which they are consecutive. The split kernels do that in one
// pass from the unpadded row for o = 2 and 4 (F2x3, F2x5, F4x3, F4x5): the
// loads are masked to the row, so the padding comes in as zeros and
// nothing outside the row is read, and o vectors of the row are
// deinterleaved in registers into one vector of each plane (VPERMT2PS on
// AVX-512; VSHUFPS, VUNPCKLPS/HPS, VPERMPD and VPERMPS on AVX2). Go's
// loops over the same took 12-14% of a 64-channel 56x56 F4x3 layer.

// WinoSplitName is the name of the split kernel of o planes for isa.
func WinoSplitName(isa gemm.ISA, o int) string { return fmt.Sprintf("vecWinoSplit%d%s", o, isa) }

// WinoSplits are the plane counts that have split kernels.
var WinoSplits = []int{2, 4}

// SplitsOf lists the plane counts of WinoSplits among the forms' output
// tile sizes: the split kernels that Generate emits with those forms.
func SplitsOf(forms []winograd.Form) []int {
	var out []int
	for _, o := range WinoSplits {
		for _, f := range forms {
			if f.M == o {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// The byte offsets of splitConsts' vectors.
const (
	splitIota  = 0   // lane numbers 0-15
	splitQuads = 64  // AVX-512 split: planes 0|1, then (at +64) 2|3, of two vectors
	splitHalf  = 192 // AVX-512: the low halves of two vectors, then (at +64) the high ones
	splitOrder = 320 // AVX2 split's VPERMPS order of four planes' lanes
	joinOrder  = 352 // AVX2 join's: the split's inverse
	joinQuads  = 384 // AVX-512 join of four planes: columns 0-3, then (at +64) 4-7
	joinPairs  = 512 // AVX-512 join of two planes: columns 0-7, then (at +64) 8-15
)

// splitConsts emits the tables the split kernels read: lane numbers 0-15,
// AVX-512's VPERMT2PS indices for four planes (every fourth element of two
// vectors from offsets 0-3, then the low and the high halves of two
// vectors) and AVX2's VPERMPS order of four planes' lanes.
func splitConsts(ctx *build.Context) operand.Mem {
	t := ctx.StaticGlobal("splitIdx")
	ctx.DataAttributes(attr.RODATA | attr.NOPTR)
	put := func(v []int) {
		for _, x := range v {
			ctx.AppendDatum(operand.U32(uint32(x)))
		}
	}
	iota := make([]int, 16)
	for i := range iota {
		iota[i] = i
	}
	put(iota) // splitIota
	for q := 0; q < 4; q += 2 {
		v := make([]int, 16) // splitQuads: planes q and q+1 of 32 elements
		for i := range 8 {
			v[i], v[8+i] = 4*i+q, 4*i+q+1
		}
		put(v)
	}
	lo, hi := make([]int, 16), make([]int, 16) // splitHalf
	for i := range 8 {
		lo[i], lo[8+i] = i, 16+i
		hi[i], hi[8+i] = 8+i, 24+i
	}
	put(lo)
	put(hi)
	put([]int{0, 4, 1, 5, 2, 6, 3, 7, 0, 2, 4, 6, 1, 3, 5, 7}) // splitOrder, joinOrder
	// The joins' VPERMT2PS indices: four planes' elements x of two
	// vectors holding planes 0|1 and 2|3 (x, 8+x, 16+x, 24+x for x of
	// 0-3, joinQuads, and of 4-7); two planes' (x, 16+x for x of 0-7,
	// joinPairs, and of 8-15).
	for h := range 2 {
		v := make([]int, 16)
		for x := range 4 {
			for q := range 4 {
				v[4*x+q] = 8*q + x + 4*h
			}
		}
		put(v)
	}
	for h := range 2 {
		v := make([]int, 16)
		for x := range 8 {
			v[2*x], v[2*x+1] = x+8*h, 16+x+8*h
		}
		put(v)
	}
	return t
}

// WinoJoinName is the name of the join kernel of o planes for isa.
func WinoJoinName(isa gemm.ISA, o int) string { return fmt.Sprintf("vecWinoJoin%d%s", o, isa) }

// winoJoin emits the join kernel of o planes (2 or 4) for isa, the split's
// inverse: the output transform's rows of o×o tiles, src[(o*dy+q)*ldS+t]
// for output column q of tile t, into an output row. The stores of the
// last block are masked to n, so that nothing past the row is written
// (the output tensor has no slack).
func winoJoin(ctx *build.Context, isa gemm.ISA, o int, idx, poolIdx operand.Mem) {
	name := WinoJoinName(isa, o)
	ctx.Function(name)
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst, src *float32, n, ldS int)")
	L := isa.Lanes()
	ctx.Doc(
		fmt.Sprintf("%s sets dst[%d*i+q] = src[q*ldS+i] for %d*i+q < n: o rows joined column by", name, o, o),
		fmt.Sprintf("column. It writes nothing else, and reads whole vectors of src: up to %d", L-1),
		"elements past the last it needs in each row.",
	)
	avx512 := isa == gemm.AVX512
	vec := newVec(ctx, isa)
	d := ctx.Load(ctx.Param("dst"), ctx.GP64())
	s := ctx.Load(ctx.Param("src"), ctx.GP64())
	n := ctx.GP64()
	ctx.Load(ctx.Param("n"), n)
	ld := ctx.Load(ctx.Param("ldS"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ld)
	ld3 := ctx.GP64()
	ctx.LEAQ(operand.Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	tbl := ctx.GP64()
	ctx.LEAQ(idx, tbl)
	// rem holds, in every lane, n minus the output index of that lane of
	// the next store: a lane is stored where rem > 0.
	rem, step := vec(), vec()
	ctx.VMOVD(n.As32(), rem.AsX())
	ctx.VPBROADCASTD(rem.AsX(), rem)
	ctx.VPSUBD(operand.Mem{Base: tbl, Disp: splitIota}, rem, rem)
	c := ctx.GP32()
	ctx.MOVL(operand.U32(uint32(L)), c)
	ctx.VMOVD(c, step.AsX())
	ctx.VPBROADCASTD(step.AsX(), step)
	var zero reg.VecVirtual
	zero = vec()
	ctx.VPXOR(zero.AsY(), zero.AsY(), zero.AsY())
	var perm []reg.VecVirtual
	switch {
	case avx512 && o == 2:
		for i := range 2 {
			p := vec()
			ctx.VMOVUPS(operand.Mem{Base: tbl, Disp: joinPairs + 64*i}, p)
			perm = append(perm, p)
		}
	case avx512:
		// lo, hi halves (as the split's), then the two joins.
		for _, off := range []int{splitHalf, splitHalf + 64, joinQuads, joinQuads + 64} {
			p := vec()
			ctx.VMOVUPS(operand.Mem{Base: tbl, Disp: off}, p)
			perm = append(perm, p)
		}
	case o == 4:
		p := vec()
		ctx.VMOVUPS(operand.Mem{Base: tbl, Disp: joinOrder}, p)
		perm = append(perm, p)
	}
	srcs := []operand.Mem{{Base: s}, {Base: s, Index: ld, Scale: 1}, {Base: s, Index: ld, Scale: 2}, {Base: s, Index: ld3, Scale: 1}}

	ctx.Label("block")
	ctx.TESTQ(n, n)
	ctx.JLE(operand.LabelRef("done"))
	p := make([]reg.VecVirtual, o)
	for q := range o {
		p[q] = vec()
		ctx.VMOVUPS(srcs[q], p[q])
	}
	out := make([]reg.VecVirtual, o)
	switch {
	case avx512 && o == 2:
		for h := range 2 {
			out[h] = permt2(ctx, p[0], p[1], perm[h])
		}
	case avx512:
		// t: planes 0|1 of columns 0-7, 2|3 of 0-7, 0|1 of 8-15, 2|3
		// of 8-15; then columns 0-3, 4-7 of the first two, and of the
		// last two.
		t := []reg.VecVirtual{permt2(ctx, p[0], p[1], perm[0]), permt2(ctx, p[2], p[3], perm[0]),
			permt2(ctx, p[0], p[1], perm[1]), permt2(ctx, p[2], p[3], perm[1])}
		for j := range 4 {
			out[j] = permt2(ctx, t[2*(j/2)], t[2*(j/2)+1], perm[2+j%2])
		}
	case o == 2:
		lo, hi := vec(), vec()
		ctx.VUNPCKLPS(p[1], p[0], lo)
		ctx.VUNPCKHPS(p[1], p[0], hi)
		out[0], out[1] = vec(), vec()
		ctx.VPERM2F128(operand.U8(0x20), hi, lo, out[0])
		ctx.VPERM2F128(operand.U8(0x31), hi, lo, out[1])
	default:
		// Columns in the lanes' order 0 2 4 6 | 1 3 5 7, then a 4x4
		// transpose within each 128-bit lane.
		for q := range 4 {
			ctx.VPERMPS(p[q], perm[0], p[q])
		}
		copy(out, transpose4(ctx, vec, p))
	}
	// Whole vectors while n covers them all, else masked stores.
	ctx.CMPQ(n, operand.U32(uint32(o*L)))
	ctx.JL(operand.LabelRef("tail"))
	for j := range o {
		ctx.VMOVUPS(out[j], operand.Mem{Base: d, Disp: 4 * L * j})
	}
	ctx.VPSUBD(step, rem, rem)
	for range o - 1 {
		ctx.VPSUBD(step, rem, rem)
	}
	ctx.ADDQ(operand.U32(uint32(4*o*L)), d)
	ctx.ADDQ(operand.U32(uint32(4*L)), s)
	ctx.SUBQ(operand.U32(uint32(o*L)), n)
	ctx.JMP(operand.LabelRef("block"))

	// The last block: whole vectors while n covers them, then one masked
	// (AVX2's masked stores are slow on AMD's cores).
	ctx.Label("tail")
	for j := range o {
		m := operand.Mem{Base: d, Disp: 4 * L * j}
		part := fmt.Sprintf("part%d", j)
		ctx.CMPQ(n, operand.U32(uint32(L*(j+1))))
		ctx.JL(operand.LabelRef(part))
		ctx.VMOVUPS(out[j], m)
		ctx.VPSUBD(step, rem, rem)
		continue_ := fmt.Sprintf("next%d", j)
		ctx.JMP(operand.LabelRef(continue_))
		ctx.Label(part)
		if avx512 {
			k := ctx.K()
			ctx.VPCMPD(operand.U8(6), zero, rem, k) // rem > 0
			ctx.VMOVUPS(out[j], k, m)
		} else {
			mask := vec()
			ctx.VPCMPGTD(zero, rem, mask) // rem > 0
			ctx.VMASKMOVPS(out[j], mask, m)
		}
		ctx.JMP(operand.LabelRef("done"))
		ctx.Label(continue_)
	}
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// permt2 returns a new zmm register holding the elements of a (indices
// 0-15) and b (16-31) that idx selects.
func permt2(ctx *build.Context, a, b, idx reg.VecVirtual) reg.VecVirtual {
	r := ctx.ZMM()
	ctx.VMOVAPS(a, r)
	ctx.VPERMT2PS(b, idx, r)
	return r
}

// transpose4 returns the 4x4 transposes of rows r[0..3] within each
// 128-bit lane (AVX2): lane l of result i holds element i of lane l of
// r[0], r[1], r[2], r[3].
func transpose4(ctx *build.Context, vec func() reg.VecVirtual, r []reg.VecVirtual) []reg.VecVirtual {
	t := []reg.VecVirtual{vec(), vec(), vec(), vec()}
	ctx.VUNPCKLPS(r[1], r[0], t[0])
	ctx.VUNPCKHPS(r[1], r[0], t[1])
	ctx.VUNPCKLPS(r[3], r[2], t[2])
	ctx.VUNPCKHPS(r[3], r[2], t[3])
	out := make([]reg.VecVirtual, 4)
	for i := range out {
		out[i] = vec()
		imm := uint8(0x44)
		if i%2 == 1 {
			imm = 0xEE
		}
		ctx.VSHUFPS(operand.U8(imm), t[2+i/2], t[i/2], out[i])
	}
	return out
}

// winoSplit emits the split kernel of o planes (2 or 4) for isa.
func winoSplit(ctx *build.Context, isa gemm.ISA, o int, idx, poolIdx operand.Mem) {
	name := WinoSplitName(isa, o)
	ctx.Function(name)
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst, src *float32, n, ps, w, pl int)")
	L := isa.Lanes()
	ctx.Doc(
		fmt.Sprintf("%s sets dst[q*ps+X] = src[%d*X+q-pl] for q < %d, X < n, and zero where", name, o, o),
		fmt.Sprintf("%d*X+q-pl is outside [0, w): a padded row split by column modulo %d. It reads", o, o),
		fmt.Sprintf("no element of src outside [0, w), and writes whole vectors: up to %d elements", L-1),
		"past n in each plane.",
	)
	avx512 := isa == gemm.AVX512
	vec := newVec(ctx, isa)
	d := ctx.Load(ctx.Param("dst"), ctx.GP64())
	s := ctx.Load(ctx.Param("src"), ctx.GP64())
	n := ctx.Load(ctx.Param("n"), ctx.GP64())
	ps := ctx.Load(ctx.Param("ps"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ps)
	ps3 := ctx.GP64()
	ctx.LEAQ(operand.Mem{Base: ps, Index: ps, Scale: 2}, ps3)
	w, base := ctx.GP64(), ctx.GP64()
	ctx.Load(ctx.Param("w"), w)
	ctx.Load(ctx.Param("pl"), base)
	ctx.NEGQ(base) // the element of src at the block's first lane
	tbl := ctx.GP64()
	ctx.LEAQ(idx, tbl)

	// cur holds the source index of every lane of the next load; a lane
	// is loaded where 0 <= cur < w.
	cur, wv, step := vec(), vec(), vec()
	ctx.VMOVD(base.As32(), cur.AsX())
	ctx.VPBROADCASTD(cur.AsX(), cur)
	ctx.VPADDD(operand.Mem{Base: tbl, Disp: splitIota}, cur, cur)
	ctx.VMOVD(w.As32(), wv.AsX())
	ctx.VPBROADCASTD(wv.AsX(), wv)
	c := ctx.GP32()
	ctx.MOVL(operand.U32(uint32(L)), c)
	ctx.VMOVD(c, step.AsX())
	ctx.VPBROADCASTD(step.AsX(), step)
	var neg1 reg.VecVirtual
	if !avx512 {
		neg1 = vec()
		ctx.VPCMPEQD(neg1, neg1, neg1)
	}
	// The permutations' index vectors.
	var perm []reg.VecVirtual
	switch {
	case avx512 && o == 2:
		for i := range 2 {
			p := vec()
			ctx.VMOVUPS(poolIdx.Offset(64*i), p)
			perm = append(perm, p)
		}
	case avx512:
		for i := range 4 {
			p := vec()
			ctx.VMOVUPS(operand.Mem{Base: tbl, Disp: splitQuads + 64*i}, p)
			perm = append(perm, p)
		}
	case o == 4:
		p := vec()
		ctx.VMOVUPS(operand.Mem{Base: tbl, Disp: splitOrder}, p)
		perm = append(perm, p)
	}

	ctx.Label("block")
	ctx.TESTQ(n, n)
	ctx.JLE(operand.LabelRef("done"))
	v := make([]reg.VecVirtual, o)
	for j := range o {
		v[j] = vec()
		m := operand.Mem{Base: s, Index: base, Scale: 4, Disp: 4 * L * j}
		if avx512 {
			k := ctx.K()
			ctx.VPCMPUD(operand.U8(1), wv, cur, k) // cur < w, unsigned: and cur >= 0
			ctx.VMOVUPS_Z(m, k, v[j])
		} else {
			in, hi := vec(), vec()
			ctx.VPCMPGTD(neg1, cur, in) // cur > -1
			ctx.VPCMPGTD(cur, wv, hi)   // w > cur
			ctx.VPAND(hi, in, in)
			ctx.VMASKMOVPS(m, in, v[j])
		}
		ctx.VPADDD(step, cur, cur)
	}
	out := make([]reg.VecVirtual, o)
	switch {
	case avx512 && o == 2:
		for q := range 2 {
			out[q] = permt2(ctx, v[0], v[1], perm[q])
		}
	case avx512:
		// t: planes 0|1 and 2|3 of v[0:2], then of v[2:4]; then the low
		// and high halves of those.
		t := []reg.VecVirtual{permt2(ctx, v[0], v[1], perm[0]), permt2(ctx, v[0], v[1], perm[1]),
			permt2(ctx, v[2], v[3], perm[0]), permt2(ctx, v[2], v[3], perm[1])}
		for q := range 4 {
			out[q] = permt2(ctx, t[q/2], t[2+q/2], perm[2+q%2])
		}
	case o == 2:
		// Even and odd elements within lanes of 128 bits, then the
		// lanes' halves in order.
		for q, imm := range []uint8{0x88, 0xDD} {
			out[q] = vec()
			ctx.VSHUFPS(operand.U8(imm), v[1], v[0], out[q])
			ctx.VPERMPD(operand.U8(0xD8), out[q], out[q])
		}
	default:
		// A 4x4 transpose within each 128-bit lane (rows v[0..3]: lane
		// 0 of v[j] holds the 4 elements of X = 2j, lane 1 of X = 2j+1),
		// then X in order: 0 2 4 6 | 1 3 5 7 -> 0..7.
		copy(out, transpose4(ctx, vec, v))
		for q := range 4 {
			ctx.VPERMPS(out[q], perm[0], out[q])
		}
	}
	dsts := []operand.Mem{{Base: d}, {Base: d, Index: ps, Scale: 1}, {Base: d, Index: ps, Scale: 2}, {Base: d, Index: ps3, Scale: 1}}
	for q := range o {
		ctx.VMOVUPS(out[q], dsts[q])
	}
	ctx.ADDQ(operand.U32(4*L), d)
	ctx.ADDQ(operand.U32(uint32(o*L)), base)
	ctx.SUBQ(operand.U32(uint32(L)), n)
	ctx.JMP(operand.LabelRef("block"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}
