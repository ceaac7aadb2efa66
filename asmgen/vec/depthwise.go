package vec

import (
	"fmt"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/cnnc/cnnc/asmgen/gemm"
)

// DepthwiseName and EvensName name the depthwise convolution kernel and
// its stride-2 gather for isa.
func DepthwiseName(isa gemm.ISA) string { return "vecDepthwise" + isa.String() }
func EvensName(isa gemm.ISA) string     { return "vecEvens" + isa.String() }

// DepthwiseLanesName names the depthwise convolution kernel over channels
// staged side by side (depthwise_lanes.go) for isa.
func DepthwiseLanesName(isa gemm.ISA) string { return "vecDepthwiseLanes" + isa.String() }

// dwBlock is the most vectors of outputs the depthwise kernel computes
// together: four independent chains of FMAs hide most of their latency,
// and each tap's broadcast weight serves all of them. AVX-512's 32
// registers take eight: a row of up to eight vectors (a 7x7 map's
// channels side by side, or its 5 vectors as one run of a channel) is
// then one pass over the taps, where 4 + 1 made the last vector a chain
// of dependent FMAs.
func dwBlock(isa gemm.ISA) int {
	if isa == gemm.AVX512 {
		return 8
	}
	return 4
}

// depthwise emits a depthwise convolution over a channel staged by
// codegen/rt's rtDWStage, where every tap of consecutive outputs is a
// contiguous run: its Go equivalent is
//
//	for r := range rows {
//		for q := range cols {
//			v := bias
//			for t := range taps {
//				v += w[t] * s[r*ldS+q+offs[t]] // an FMA
//			}
//			v = act(v) // see activate
//			d[r*ldD+q] = v
//		}
//	}
//
// A row goes dwBlock vectors at a time, then one block of the rest; rows
// of one or two vectors go four or two at a time, so that a block always
// has dwBlock independent chains of FMAs. Loads are whole vectors, up to
// lanes-1 values past the last needed (the staged input has rtDWSlack to
// spare). On AVX-512 a row's last store is masked; on AVX2 its last
// vector ends at the row's end, overlapping the one before, or with
// cols < 8 is whole.
//
// The activation is activate's, shared with the elementwise kernels.
//
// With lanes set it emits DepthwiseLanesName's kernel instead: the same
// loops over lanes channels staged side by side, value i of channel c at
// lanes*i+c (toLanes), where a tap's offset and a row are in values of
// that layout and the weights and bias are vectors: w[t*lanes+c] and
// bias[c] are channel c's. A vector of outputs is then one position of
// lanes channels, and cols is a multiple of lanes.
func depthwise(ctx *build.Context, isa gemm.ISA, tail16 operand.Mem, pool *gemm.ConstPool, lanes bool) {
	L := isa.Lanes()
	avx512 := isa == gemm.AVX512
	name, sig := DepthwiseName(isa), "func(d, s, w *float32, offs *int, taps, rows, cols, ldD, ldS, act int, bias, slope, hi float32)"
	stores := "It writes nothing past d[(rows-1)*ldD+cols-1]."
	if !avx512 {
		stores = "It writes nothing past d[(rows-1)*ldD+cols-1] if cols >= 8, else whole vectors."
	}
	doc := []string{
		name + " computes d[r*ldD+q] = act(bias + Σ_t w[t]*s[r*ldS+q+offs[t]]) for",
		"r < rows, q < cols, t < taps, with act(v) = v for act 0, max(v, 0) for act 1,",
		"max(v, 0) + slope*min(v, 0) for act 2, min(max(v, slope), hi) for act 3,",
		"v*min(max(v/6+1/2, 0), 1) for act 4, 1/(1+e^-v) for act 5 and v/(1+e^-v) for act 6.",
		fmt.Sprintf("It reads s to %d values past the last it needs. %s", L-1, stores),
	}
	if lanes {
		name, sig = DepthwiseLanesName(isa), "func(d, s, w *float32, offs *int, taps, rows, cols, ldD, ldS, act int, bias *float32, slope, hi float32)"
		doc = []string{
			name + " computes d[r*ldD+q] = act(bias[c] + Σ_t w[t*L+c]*s[r*ldS+q+offs[t]]),",
			fmt.Sprintf("c = q mod L, for r < rows, q < cols (a multiple of L = %d), t < taps,", L),
			"with " + DepthwiseName(isa) + "'s activations. It reads and writes nothing else.",
		}
	}
	ctx.Function(name)
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr(sig)
	ctx.Doc(doc...)
	vec := newVec(ctx, isa)
	d := ctx.Load(ctx.Param("d"), ctx.GP64())
	s := ctx.Load(ctx.Param("s"), ctx.GP64())
	rows := ctx.Load(ctx.Param("rows"), ctx.GP64())
	cols, act := paramAddr(ctx, "cols"), paramAddr(ctx, "act")
	bias, zero, slope, hi := vec(), vec(), vec(), vec()
	if lanes {
		bp := ctx.GP64()
		ctx.MOVQ(paramAddr(ctx, "bias"), bp)
		ctx.VMOVUPS(operand.Mem{Base: bp}, bias)
	} else {
		ctx.VBROADCASTSS(paramAddr(ctx, "bias"), bias)
	}
	ctx.VBROADCASTSS(paramAddr(ctx, "slope"), slope)
	ctx.VBROADCASTSS(paramAddr(ctx, "hi"), hi)
	ctx.VXORPS(zero.AsY(), zero.AsY(), zero.AsY()) // zeroes the whole register
	q, rem := ctx.GP64(), ctx.GP64()

	// sum emits the sums of len(acc) vectors of outputs: acc[i] = bias,
	// then for each tap (at element offset off) acc[i] += w[t] * src(i,
	// off), then the activation.
	sum := func(prefix string, acc []reg.VecVirtual, src func(i int, off reg.Register) operand.Mem) {
		for _, a := range acc {
			ctx.VMOVAPS(bias, a)
		}
		tw, to, tc := ctx.GP64(), ctx.GP64(), ctx.GP64()
		ctx.MOVQ(paramAddr(ctx, "w"), tw)
		ctx.MOVQ(paramAddr(ctx, "offs"), to)
		ctx.MOVQ(paramAddr(ctx, "taps"), tc)
		ctx.Label(prefix + "tap")
		off, wv := ctx.GP64(), vec()
		ctx.MOVQ(operand.Mem{Base: to}, off)
		wstep := 4
		if lanes {
			ctx.VMOVUPS(operand.Mem{Base: tw}, wv)
			wstep = 4 * L
		} else {
			ctx.VBROADCASTSS(operand.Mem{Base: tw}, wv)
		}
		for i, a := range acc {
			ctx.VFMADD231PS(src(i, off), wv, a)
		}
		ctx.ADDQ(operand.U32(8), to)
		ctx.ADDQ(operand.U32(uint64(wstep)), tw)
		ctx.DECQ(tc)
		ctx.JNZ(operand.LabelRef(prefix + "tap"))

		activate(ctx, isa, pool, prefix, act, acc, zero, slope, hi, vec)
	}
	newAcc := func(n int) []reg.VecVirtual {
		acc := make([]reg.VecVirtual, n)
		for i := range acc {
			acc[i] = vec()
		}
		return acc
	}

	// Rows of one or two vectors go in blocks of several rows (short).
	c := ctx.GP64()
	ctx.MOVQ(cols, c)
	ctx.CMPQ(c, operand.U32(2*L))
	ctx.JLE(operand.LabelRef("short"))

	// block emits nb vectors of outputs from position q; tail marks the
	// row's last block, which computes rem of them (in ((nb-1)*L, nb*L]).
	block := func(prefix string, nb int, tail bool) {
		p := ctx.GP64()
		ctx.LEAQ(operand.Mem{Base: s, Index: q, Scale: 4}, p)
		// Where the last vector starts: on AVX2's last block at cols-L,
		// so that it ends at the row's end.
		var last, pl reg.GPVirtual
		var k reg.Register
		if tail && !avx512 {
			last, pl = ctx.GP64(), ctx.GP64()
			ctx.MOVQ(cols, last)
			ctx.SUBQ(operand.U32(L), last)
			ctx.LEAQ(operand.Mem{Base: s, Index: last, Scale: 4}, pl)
		}
		if tail && avx512 {
			// The last vector stores rem-(nb-1)*L outputs.
			n, tbl := ctx.GP64(), ctx.GP64()
			ctx.MOVQ(rem, n)
			if nb > 1 {
				ctx.SUBQ(operand.U32((nb-1)*L), n)
			}
			ctx.LEAQ(tail16, tbl)
			k = ctx.K()
			ctx.KMOVW(operand.Mem{Base: tbl, Index: n, Scale: 2}, k)
		}
		acc := newAcc(nb)
		sum(prefix, acc, func(i int, off reg.Register) operand.Mem {
			if pl != nil && i == nb-1 {
				return operand.Mem{Base: pl, Index: off, Scale: 4}
			}
			return operand.Mem{Base: p, Index: off, Scale: 4, Disp: 4 * L * i}
		})
		for i, a := range acc {
			m := operand.Mem{Base: d, Index: q, Scale: 4, Disp: 4 * L * i}
			switch {
			case i < nb-1 || !tail:
				ctx.VMOVUPS(a, m)
			case avx512:
				ctx.VMOVUPS(a, k, m)
			default:
				ctx.VMOVUPS(a, operand.Mem{Base: d, Index: last, Scale: 4})
			}
		}
	}

	ctx.Label("row")
	ctx.CMPQ(rows, operand.U32(0))
	ctx.JLE(operand.LabelRef("done"))
	ctx.XORQ(q, q)
	ctx.Label("block")
	ctx.MOVQ(cols, rem)
	ctx.SUBQ(q, rem)
	ctx.JLE(operand.LabelRef("next"))
	blk := dwBlock(isa)
	ctx.CMPQ(rem, operand.U32(blk*L))
	ctx.JL(operand.LabelRef("tail"))
	block("full", blk, false)
	ctx.ADDQ(operand.U32(blk*L), q)
	ctx.JMP(operand.LabelRef("block"))

	// The row's last block: nb vectors for rem in ((nb-1)*L, nb*L].
	ctx.Label("tail")
	for nb := blk; nb > 1; nb-- {
		ctx.CMPQ(rem, operand.U32((nb-1)*L))
		ctx.JG(operand.LabelRef(fmt.Sprintf("tail%d", nb)))
	}
	for nb := 1; nb <= blk; nb++ {
		ctx.Label(fmt.Sprintf("tail%d", nb))
		block(fmt.Sprintf("t%d", nb), nb, true)
		ctx.JMP(operand.LabelRef("next"))
	}

	ctx.Label("next")
	step := ctx.GP64()
	ctx.MOVQ(paramAddr(ctx, "ldD"), step)
	ctx.SHLQ(operand.U8(2), step)
	ctx.ADDQ(step, d)
	ctx.MOVQ(paramAddr(ctx, "ldS"), step)
	ctx.SHLQ(operand.U8(2), step)
	ctx.ADDQ(step, s)
	ctx.DECQ(rows)
	ctx.JMP(operand.LabelRef("row"))

	// Short rows, of v = 1 or 2 vectors: 4/v rows at a time, so that the
	// block still has four chains of FMAs. Each row's last vector is
	// masked (AVX-512) or ends at the row's end (AVX2; with cols < 8 it is
	// whole).
	ctx.Label("short")
	ldS, ldD := ctx.GP64(), ctx.GP64()
	ctx.MOVQ(paramAddr(ctx, "ldS"), ldS)
	ctx.SHLQ(operand.U8(2), ldS)
	ctx.MOVQ(paramAddr(ctx, "ldD"), ldD)
	ctx.SHLQ(operand.U8(2), ldD)
	// shortBlock emits nr rows of v vectors from row pointers s and d;
	// last is the last vector's byte offset in a row on AVX2 with v = 2,
	// k its store mask on AVX-512.
	shortBlock := func(prefix string, nr, v int, last reg.Register, k reg.Register) {
		ps := []reg.Register{s}
		for r := 1; r < nr; r++ {
			p := ctx.GP64()
			ctx.LEAQ(operand.Mem{Base: ps[r-1], Index: ldS, Scale: 1}, p)
			ps = append(ps, p)
		}
		var pl []reg.Register // AVX2: the rows' last vectors
		if !avx512 && v == 2 {
			for _, p := range ps {
				x := ctx.GP64()
				ctx.LEAQ(operand.Mem{Base: p, Index: last, Scale: 1}, x)
				pl = append(pl, x)
			}
		}
		acc := newAcc(nr * v)
		sum(prefix, acc, func(i int, off reg.Register) operand.Mem {
			r, j := i/v, i%v
			if pl != nil && j == 1 {
				return operand.Mem{Base: pl[r], Index: off, Scale: 4}
			}
			return operand.Mem{Base: ps[r], Index: off, Scale: 4, Disp: 4 * L * j}
		})
		dr := ctx.GP64()
		ctx.MOVQ(d, dr)
		for r := range nr {
			for j := range v {
				a := acc[r*v+j]
				switch {
				case j < v-1:
					ctx.VMOVUPS(a, operand.Mem{Base: dr})
				case avx512:
					ctx.VMOVUPS(a, k, operand.Mem{Base: dr, Disp: 4 * L * j})
				case v == 2:
					ctx.VMOVUPS(a, operand.Mem{Base: dr, Index: last, Scale: 1})
				default:
					ctx.VMOVUPS(a, operand.Mem{Base: dr})
				}
			}
			if r < nr-1 {
				ctx.ADDQ(ldD, dr)
			}
		}
	}
	for _, v := range []int{1, 2} {
		name := fmt.Sprintf("short%d", v)
		if v == 1 {
			ctx.CMPQ(c, operand.U32(L))
			ctx.JG(operand.LabelRef("short2"))
		}
		ctx.Label(name)
		// The last vector's store mask, or its offset in a row.
		var k, last reg.Register
		if avx512 {
			n, tbl := ctx.GP64(), ctx.GP64()
			ctx.MOVQ(c, n)
			if v == 2 {
				ctx.SUBQ(operand.U32(L), n)
			}
			ctx.LEAQ(tail16, tbl)
			k = ctx.K()
			ctx.KMOVW(operand.Mem{Base: tbl, Index: n, Scale: 2}, k)
		} else if v == 2 {
			x := ctx.GP64()
			ctx.LEAQ(operand.Mem{Base: c, Disp: -L}, x)
			ctx.SHLQ(operand.U8(2), x)
			last = x
		}
		nr := 4 / v // each row a pointer: the general registers allow four
		ctx.Label(name + "loop")
		ctx.CMPQ(rows, operand.U32(nr))
		ctx.JL(operand.LabelRef(name + "rest"))
		shortBlock(name+"b", nr, v, last, k)
		for range nr {
			ctx.ADDQ(ldS, s)
			ctx.ADDQ(ldD, d)
		}
		ctx.SUBQ(operand.U32(nr), rows)
		ctx.JMP(operand.LabelRef(name + "loop"))
		// The last rows%nr rows, in one block.
		ctx.Label(name + "rest")
		for r := nr - 1; r >= 1; r-- {
			ctx.CMPQ(rows, operand.U32(r))
			ctx.JE(operand.LabelRef(fmt.Sprintf("%sr%d", name, r)))
		}
		ctx.JMP(operand.LabelRef("done"))
		for r := nr - 1; r >= 1; r-- {
			ctx.Label(fmt.Sprintf("%sr%d", name, r))
			shortBlock(fmt.Sprintf("%sr%db", name, r), r, v, last, k)
			ctx.JMP(operand.LabelRef("done"))
		}
	}

	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// evens emits the stride-2 gather that stages a depthwise convolution's
// input (codegen/rt's rtDWGather): dst[r*ldDst+j] = src[r*ldSrc+2j] for
// r < rows, j < n. A vector of outputs deinterleaves two vectors of the
// row (VPERMT2PS on AVX-512, VSHUFPS and VPERMPD on AVX2): (n-1)/lanes
// whole ones, then a last vector that reads no element past
// src[r*ldSrc+2n-2]. On AVX-512 it is masked (the masks are the same for
// every row). On AVX2 it ends at output n, overlapping the one before,
// and its second vector of input is loaded one element early, ending at
// 2n-2, so that it takes the odd elements of that; with n < 8 each row
// is scalar.
func evens(ctx *build.Context, isa gemm.ISA, tail16, poolIdx operand.Mem) {
	ctx.Function(EvensName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst, src *float32, rows, n, ldDst, ldSrc int)")
	ctx.Doc(
		EvensName(isa)+" sets dst[r*ldDst+j] = src[r*ldSrc+2j] for r < rows, j < n, reading",
		"and writing no element past the last of these in each row.",
	)
	L := isa.Lanes()
	avx512 := isa == gemm.AVX512
	vec := newVec(ctx, isa)
	d := ctx.Load(ctx.Param("dst"), ctx.GP64())
	s := ctx.Load(ctx.Param("src"), ctx.GP64())
	rows := ctx.Load(ctx.Param("rows"), ctx.GP64())
	n := ctx.Load(ctx.Param("n"), ctx.GP64())
	ldD := ctx.Load(ctx.Param("ldDst"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ldD)
	ldS := ctx.Load(ctx.Param("ldSrc"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ldS)
	// full = (n-1)/L whole vectors a row before the last.
	full := ctx.GP64()
	ctx.LEAQ(operand.Mem{Base: n, Disp: -1}, full)
	ctx.SHRQ(operand.U8(map[int]uint8{8: 3, 16: 4}[L]), full)
	var idxE reg.VecVirtual
	var kLo, kHi, kSt reg.Register
	var oLo, oHi, oD reg.GPVirtual
	if avx512 {
		idxE = ctx.ZMM()
		ctx.VMOVUPS(poolIdx, idxE)
		// The last vector's t = n - full*16 outputs need 2t-1 elements:
		// min(that, 16) from its first vector, the rest from its second.
		t, c, x, tbl := ctx.GP64(), ctx.GP64(), ctx.GP64(), ctx.GP64()
		ctx.LEAQ(tail16, tbl)
		ctx.MOVQ(full, t)
		ctx.SHLQ(operand.U8(4), t)
		ctx.NEGQ(t)
		ctx.ADDQ(n, t)
		ctx.LEAQ(operand.Mem{Base: t, Index: t, Scale: 1, Disp: -1}, c)
		kLo, kHi, kSt = ctx.K(), ctx.K(), ctx.K()
		sixteen := ctx.GP64()
		ctx.MOVQ(operand.U32(16), sixteen)
		ctx.MOVQ(c, x)
		ctx.CMPQ(x, sixteen)
		ctx.CMOVQGT(sixteen, x)
		ctx.KMOVW(operand.Mem{Base: tbl, Index: x, Scale: 2}, kLo)
		zeroQ := ctx.GP64()
		ctx.XORQ(zeroQ, zeroQ)
		ctx.MOVQ(c, x)
		ctx.SUBQ(sixteen, x)
		ctx.CMOVQLT(zeroQ, x)
		ctx.KMOVW(operand.Mem{Base: tbl, Index: x, Scale: 2}, kHi)
		ctx.KMOVW(operand.Mem{Base: tbl, Index: t, Scale: 2}, kSt)
	} else {
		ctx.CMPQ(n, operand.U32(L))
		ctx.JL(operand.LabelRef("short"))
		// The last vector's byte offsets: input at 2(n-8) and 2n-9,
		// output at n-8.
		oLo, oHi, oD = ctx.GP64(), ctx.GP64(), ctx.GP64()
		ctx.LEAQ(operand.Mem{Base: n, Index: n, Scale: 1, Disp: -16}, oLo)
		ctx.SHLQ(operand.U8(2), oLo)
		ctx.LEAQ(operand.Mem{Base: n, Index: n, Scale: 1, Disp: -9}, oHi)
		ctx.SHLQ(operand.U8(2), oHi)
		ctx.LEAQ(operand.Mem{Base: n, Disp: -8}, oD)
		ctx.SHLQ(operand.U8(2), oD)
	}
	// deint returns the even elements of lo and then hi (overwriting lo on
	// AVX-512); with hiOdd, of lo and the odd elements of hi (AVX2 only).
	deint := func(lo, hi reg.VecVirtual, hiOdd bool) reg.VecVirtual {
		if avx512 {
			ctx.VPERMT2PS(hi, idxE, lo) // in place: lo is not needed after
			return lo
		}
		t := vec()
		imm := uint8(0x88) // lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6
		if hiOdd {
			imm = 0xd8 // lo0 lo2 hi1 hi3 | lo4 lo6 hi5 hi7
		}
		ctx.VSHUFPS(operand.U8(imm), hi, lo, t)
		ctx.VPERMPD(operand.U8(0xd8), t, t) // the lo elements, then the hi ones
		return t
	}

	ctx.Label("row")
	ctx.CMPQ(rows, operand.U32(0))
	ctx.JLE(operand.LabelRef("done"))
	cnt, sp, dp := ctx.GP64(), ctx.GP64(), ctx.GP64()
	ctx.MOVQ(full, cnt)
	ctx.MOVQ(s, sp)
	ctx.MOVQ(d, dp)
	ctx.Label("vec")
	ctx.TESTQ(cnt, cnt)
	ctx.JZ(operand.LabelRef("last"))
	lo, hi := vec(), vec()
	ctx.VMOVUPS(operand.Mem{Base: sp}, lo)
	ctx.VMOVUPS(operand.Mem{Base: sp, Disp: 4 * L}, hi)
	ctx.VMOVUPS(deint(lo, hi, false), operand.Mem{Base: dp})
	ctx.ADDQ(operand.U32(8*L), sp)
	ctx.ADDQ(operand.U32(4*L), dp)
	ctx.DECQ(cnt)
	ctx.JMP(operand.LabelRef("vec"))

	ctx.Label("last")
	lo, hi = vec(), vec()
	if avx512 {
		ctx.VMOVUPS_Z(operand.Mem{Base: sp}, kLo, lo)
		ctx.VMOVUPS_Z(operand.Mem{Base: sp, Disp: 64}, kHi, hi)
		ctx.VMOVUPS(deint(lo, hi, false), kSt, operand.Mem{Base: dp})
	} else {
		ctx.VMOVUPS(operand.Mem{Base: s, Index: oLo, Scale: 1}, lo)
		ctx.VMOVUPS(operand.Mem{Base: s, Index: oHi, Scale: 1}, hi)
		ctx.VMOVUPS(deint(lo, hi, true), operand.Mem{Base: d, Index: oD, Scale: 1})
	}
	ctx.ADDQ(ldS, s)
	ctx.ADDQ(ldD, d)
	ctx.DECQ(rows)
	ctx.JMP(operand.LabelRef("row"))

	if !avx512 {
		// Rows of fewer than 8 outputs, element by element.
		ctx.Label("short")
		ctx.CMPQ(rows, operand.U32(0))
		ctx.JLE(operand.LabelRef("done"))
		j, e := ctx.GP64(), ctx.GP32()
		ctx.XORQ(j, j)
		ctx.Label("scalar")
		ctx.CMPQ(j, n)
		ctx.JGE(operand.LabelRef("nextShort"))
		ctx.MOVL(operand.Mem{Base: s, Index: j, Scale: 8}, e)
		ctx.MOVL(e, operand.Mem{Base: d, Index: j, Scale: 4})
		ctx.INCQ(j)
		ctx.JMP(operand.LabelRef("scalar"))
		ctx.Label("nextShort")
		ctx.ADDQ(ldS, s)
		ctx.ADDQ(ldD, d)
		ctx.DECQ(rows)
		ctx.JMP(operand.LabelRef("short"))
	}
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// GroupedName names the grouped convolution kernel that computes
// GroupedOuts output channels at once, for isa.
func GroupedName(isa gemm.ISA) string { return "vecGroupedDW" + isa.String() }

// GroupedOuts is the number of output channels vecGroupedDW computes
// together.
const GroupedOuts = 8

// grouped emits vecGroupedDW: GroupedOuts outputs of a grouped
// convolution's group, over a flat run of a staged group (codegen/rt's
// rtDepthwise), at once. Its Go equivalent is
//
//	for j := range GroupedOuts {
//		for q := range n {
//			v := bias[j]
//			for t := range taps {
//				v += w[j*ldW+t] * s[q+offs[t]] // an FMA
//			}
//			d[j*ldD+q] = act(v) // see activate
//		}
//	}
//
// vecDepthwise computes one output at a time: per tap and vector of
// outputs, a load of the input (misaligned, so often two cache lines)
// and one FMA. Here each tap's input vectors serve all GroupedOuts
// outputs: per tap, nv loads and GroupedOuts broadcasts of the weights
// (read where they lie, ldW apart) feed nv*GroupedOuts FMAs, nv = 2
// vectors of outputs on AVX-512 and 1 on AVX2. The run goes nv vectors
// at a time, then one vector: it reads s to lanes-1 values past the last
// it needs and writes whole vectors, up to lanes-1 values past each
// output's n.
func grouped(ctx *build.Context, isa gemm.ISA, pool *gemm.ConstPool) {
	ctx.Function(GroupedName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(d *float32, ldD int, s, w *float32, ldW int, offs *int, taps, n, act int, bias *float32, slope, hi float32)")
	L := isa.Lanes()
	ctx.Doc(
		fmt.Sprintf("%s computes d[j*ldD+q] = act(bias[j] + Σ_t w[j*ldW+t]*s[q+offs[t]]) for j < %d,", GroupedName(isa), GroupedOuts),
		"q < n, t < taps, with vecDepthwise's act. It reads s to "+fmt.Sprint(L-1)+" values past the last it",
		"needs and writes whole vectors, up to "+fmt.Sprint(L-1)+" values past each d[j*ldD+n-1].",
	)
	nv := 1
	if isa == gemm.AVX512 {
		nv = 2
	}
	vec := newVec(ctx, isa)
	d := ctx.Load(ctx.Param("d"), ctx.GP64())
	s := ctx.Load(ctx.Param("s"), ctx.GP64())
	n := ctx.Load(ctx.Param("n"), ctx.GP64())
	act := paramAddr(ctx, "act")
	zero, slope, hi := vec(), vec(), vec()
	ctx.VBROADCASTSS(paramAddr(ctx, "slope"), slope)
	ctx.VBROADCASTSS(paramAddr(ctx, "hi"), hi)
	ctx.VXORPS(zero.AsY(), zero.AsY(), zero.AsY()) // zeroes the whole register
	q := ctx.GP64()
	ctx.XORQ(q, q)

	// block emits v vectors of all the outputs from position q.
	block := func(prefix string, v int) {
		acc := make([][]reg.VecVirtual, GroupedOuts)
		var all []reg.VecVirtual
		bias := ctx.GP64()
		ctx.MOVQ(paramAddr(ctx, "bias"), bias)
		for j := range acc {
			for range v {
				a := vec()
				ctx.VBROADCASTSS(operand.Mem{Base: bias, Disp: 4 * j}, a)
				acc[j] = append(acc[j], a)
				all = append(all, a)
			}
		}
		// The weights of outputs 0-2, 3-5 and 6-7 from three pointers,
		// ldW floats apart.
		ldW, tw := ctx.GP64(), [3]reg.GPVirtual{ctx.GP64(), ctx.GP64(), ctx.GP64()}
		ctx.MOVQ(paramAddr(ctx, "ldW"), ldW)
		ctx.SHLQ(operand.U8(2), ldW)
		ctx.MOVQ(paramAddr(ctx, "w"), tw[0])
		ctx.LEAQ(operand.Mem{Base: tw[0], Index: ldW, Scale: 2}, tw[1])
		ctx.ADDQ(ldW, tw[1])
		ctx.LEAQ(operand.Mem{Base: tw[1], Index: ldW, Scale: 2}, tw[2])
		ctx.ADDQ(ldW, tw[2])
		to, tc, p := ctx.GP64(), ctx.GP64(), ctx.GP64()
		ctx.MOVQ(paramAddr(ctx, "offs"), to)
		ctx.MOVQ(paramAddr(ctx, "taps"), tc)
		ctx.LEAQ(operand.Mem{Base: s, Index: q, Scale: 4}, p)
		ctx.Label(prefix + "tap")
		off := ctx.GP64()
		ctx.MOVQ(operand.Mem{Base: to}, off)
		x := make([]reg.VecVirtual, v)
		for i := range x {
			x[i] = vec()
			ctx.VMOVUPS(operand.Mem{Base: p, Index: off, Scale: 4, Disp: 4 * L * i}, x[i])
		}
		for j := range acc {
			b := vec()
			m := operand.Mem{Base: tw[j/3]}
			if j%3 > 0 {
				m = operand.Mem{Base: tw[j/3], Index: ldW, Scale: uint8(j % 3)}
			}
			ctx.VBROADCASTSS(m, b)
			for i, a := range acc[j] {
				ctx.VFMADD231PS(x[i], b, a)
			}
		}
		ctx.ADDQ(operand.U32(8), to)
		for _, t := range tw {
			ctx.ADDQ(operand.U32(4), t)
		}
		ctx.DECQ(tc)
		ctx.JNZ(operand.LabelRef(prefix + "tap"))

		activate(ctx, isa, pool, prefix, act, all, zero, slope, hi, vec)
		ldD, dj := ctx.GP64(), ctx.GP64()
		ctx.MOVQ(paramAddr(ctx, "ldD"), ldD)
		ctx.SHLQ(operand.U8(2), ldD)
		ctx.LEAQ(operand.Mem{Base: d, Index: q, Scale: 4}, dj)
		for j := range acc {
			for i, a := range acc[j] {
				ctx.VMOVUPS(a, operand.Mem{Base: dj, Disp: 4 * L * i})
			}
			if j < len(acc)-1 {
				ctx.ADDQ(ldD, dj)
			}
		}
	}

	rem := ctx.GP64()
	ctx.Label("block")
	ctx.MOVQ(n, rem)
	ctx.SUBQ(q, rem)
	ctx.JLE(operand.LabelRef("done"))
	if nv > 1 {
		ctx.CMPQ(rem, operand.U32(L))
		ctx.JLE(operand.LabelRef("one"))
		block("w", nv)
		ctx.ADDQ(operand.U32(nv*L), q)
		ctx.JMP(operand.LabelRef("block"))
		ctx.Label("one")
	}
	block("v", 1)
	ctx.ADDQ(operand.U32(L), q)
	ctx.JMP(operand.LabelRef("block"))

	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}
