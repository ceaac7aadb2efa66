package vec

import (
	"fmt"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/cnnc/cnnc/asmgen/gemm"
)

// A depthwise convolution over a small map wastes most of a vector on
// each row when it vectorises along the row: MobileNetV2's 7x7 maps fill
// 7 of AVX-512's 16 lanes, and each channel's staging and its calls cost
// as much again. Over channels, lanes at a time, every lane is an output
// whatever the map, and each tap is one FMA of a vector of weights: the
// kernels here transpose lanes channels into that layout (toLanes: value
// p of channel c goes to lanes*pos[p]+c, pos placing it in the staged,
// padded input) and back (fromLanes), and DepthwiseLanesName's kernel
// (depthwise with lanes set) convolves in it. A transpose of lanes x lanes
// values takes lanes*log2(lanes) shuffles in registers.

// ToLanesName and FromLanesName name the transposes into and out of the
// channels-side-by-side layout for isa.
func ToLanesName(isa gemm.ISA) string   { return "vecToLanes" + isa.String() }
func FromLanesName(isa gemm.ISA) string { return "vecFromLanes" + isa.String() }

// transpose emits the transpose of the lanes x lanes matrix whose rows
// are r (a vector each) and returns its rows: out[j] holds r[i]'s element
// j at element i. VUNPCKLPS and VUNPCKHPS interleave pairs of rows, VSHUFPS
// takes pairs of pairs, which leaves each 128-bit lane holding 4x4
// transposed blocks; VSHUFF32X4 (twice, AVX-512) or VPERM2F128 (AVX2)
// then moves the blocks into place.
func transpose(ctx *build.Context, isa gemm.ISA, r []reg.VecVirtual, vec func() reg.VecVirtual) []reg.VecVirtual {
	L := len(r)
	t := make([]reg.VecVirtual, L)
	for i := 0; i < L; i += 2 {
		t[i], t[i+1] = vec(), vec()
		ctx.VUNPCKLPS(r[i+1], r[i], t[i])
		ctx.VUNPCKHPS(r[i+1], r[i], t[i+1])
	}
	// u[4i+k]'s 128-bit lane j holds column 4j+k of rows 4i to 4i+3.
	u := make([]reg.VecVirtual, L)
	for i := 0; i < L; i += 4 {
		for h := range 2 {
			a, b := t[i+h], t[i+h+2]
			u[i+2*h], u[i+2*h+1] = vec(), vec()
			ctx.VSHUFPS(operand.U8(0x44), b, a, u[i+2*h])
			ctx.VSHUFPS(operand.U8(0xEE), b, a, u[i+2*h+1])
		}
	}
	out := make([]reg.VecVirtual, L)
	if isa == gemm.AVX2 {
		for k := range 4 {
			out[k], out[4+k] = vec(), vec()
			ctx.VPERM2F128(operand.U8(0x20), u[4+k], u[k], out[k])
			ctx.VPERM2F128(operand.U8(0x31), u[4+k], u[k], out[4+k])
		}
		return out
	}
	for k := range 4 {
		p0, p1, q0, q1 := vec(), vec(), vec(), vec()
		ctx.VSHUFF32X4(operand.U8(0x88), u[4+k], u[k], p0)
		ctx.VSHUFF32X4(operand.U8(0xDD), u[4+k], u[k], p1)
		ctx.VSHUFF32X4(operand.U8(0x88), u[12+k], u[8+k], q0)
		ctx.VSHUFF32X4(operand.U8(0xDD), u[12+k], u[8+k], q1)
		out[k], out[4+k], out[8+k], out[12+k] = vec(), vec(), vec(), vec()
		ctx.VSHUFF32X4(operand.U8(0x88), q0, p0, out[k])
		ctx.VSHUFF32X4(operand.U8(0x88), q1, p1, out[4+k])
		ctx.VSHUFF32X4(operand.U8(0xDD), q0, p0, out[8+k])
		ctx.VSHUFF32X4(operand.U8(0xDD), q1, p1, out[12+k])
	}
	return out
}

// lanesChunk emits the loop over n values (a register, counted down)
// lanes at a time: body(m) for whole chunks (m nil), then, for the last
// n mod lanes, body(m) with m holding that count, AVX-512's opmask k
// set to its lanes and AVX2's mask vector, read from lanes8, in mask.
func lanesChunk(ctx *build.Context, isa gemm.ISA, k consts, n reg.Register, body func(m reg.Register, k reg.Register, mask reg.VecVirtual)) {
	L := isa.Lanes()
	ctx.Label("chunk")
	ctx.CMPQ(n, operand.U32(L))
	ctx.JL(operand.LabelRef("last"))
	body(nil, nil, nil)
	ctx.SUBQ(operand.U32(L), n)
	ctx.JMP(operand.LabelRef("chunk"))
	ctx.Label("last")
	ctx.TESTQ(n, n)
	ctx.JZ(operand.LabelRef("done"))
	tbl := ctx.GP64()
	if isa == gemm.AVX512 {
		ctx.LEAQ(k.tail16, tbl)
		km := ctx.K()
		ctx.KMOVW(operand.Mem{Base: tbl, Index: n, Scale: 2}, km)
		body(n, km, nil)
	} else {
		// lanes8+4*(8-n) is n words of ones, then zeros.
		ctx.LEAQ(k.lanes8, tbl)
		x := ctx.GP64()
		ctx.MOVQ(operand.U32(L), x)
		ctx.SUBQ(n, x)
		mask := newVec(ctx, isa)()
		ctx.VMOVUPS(operand.Mem{Base: tbl, Index: x, Scale: 4}, mask)
		body(n, nil, mask)
	}
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// toLanes emits ToLanesName's kernel: for p < n and c < lanes,
// dst[lanes*pos[p]+c] = src[c*ld+p] for c < chans and 0 for the lanes
// past them. Lanes channels' runs of lanes values are loaded (the last
// masked: nothing past src[c*ld+n-1] is read, nor any channel from chans
// on), transposed, and each position's vector stored where pos says.
func toLanes(ctx *build.Context, isa gemm.ISA, k consts) {
	L := isa.Lanes()
	ctx.Function(ToLanesName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst, src *float32, pos *int32, n, ld, chans int)")
	ctx.Doc(
		ToLanesName(isa)+fmt.Sprintf(" sets dst[%d*pos[p]+c] = src[c*ld+p] for p < n, c < chans (at most %d),", L, L),
		fmt.Sprintf("and 0 for chans <= c < %d, reading and writing nothing else.", L),
	)
	vec := newVec(ctx, isa)
	dst := ctx.Load(ctx.Param("dst"), ctx.GP64())
	src := ctx.Load(ctx.Param("src"), ctx.GP64())
	pos := ctx.Load(ctx.Param("pos"), ctx.GP64())
	n := ctx.Load(ctx.Param("n"), ctx.GP64())
	ld := ctx.Load(ctx.Param("ld"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ld)
	chans := paramAddr(ctx, "chans")
	shift := uint64(6)
	if L == 8 {
		shift = 5
	}
	part := 0
	lanesChunk(ctx, isa, k, n, func(m, km reg.Register, mask reg.VecVirtual) {
		r := make([]reg.VecVirtual, L)
		for c := range L {
			r[c] = vec()
		}
		// All lanes channels (the common case), or chans of them and
		// zeros.
		part++
		loaded := fmt.Sprintf("loaded%d", part)
		whole := fmt.Sprintf("whole%d", part)
		ctx.CMPQ(chans, operand.U32(L))
		ctx.JGE(operand.LabelRef(whole))
		for _, v := range r {
			ctx.VXORPS(v, v, v)
		}
		load := func(partial bool) {
			p := ctx.GP64()
			ctx.MOVQ(src, p)
			for c := range L {
				if partial && c > 0 {
					ctx.CMPQ(chans, operand.U32(c))
					ctx.JLE(operand.LabelRef(loaded))
				}
				switch {
				case m == nil:
					ctx.VMOVUPS(operand.Mem{Base: p}, r[c])
				case km != nil:
					ctx.VMOVUPS_Z(operand.Mem{Base: p}, km, r[c])
				default:
					ctx.VMASKMOVPS(operand.Mem{Base: p}, mask, r[c])
				}
				if c < L-1 {
					ctx.ADDQ(ld, p)
				}
			}
		}
		load(true)
		ctx.JMP(operand.LabelRef(loaded))
		ctx.Label(whole)
		load(false)
		ctx.Label(loaded)
		out := transpose(ctx, isa, r, vec)
		for i, o := range out {
			if m != nil && i > 0 {
				ctx.CMPQ(m, operand.U32(i))
				ctx.JLE(operand.LabelRef("done"))
			}
			off := ctx.GP64()
			ctx.MOVLQSX(operand.Mem{Base: pos, Disp: 4 * i}, off)
			ctx.SHLQ(operand.U8(shift), off)
			ctx.VMOVUPS(o, operand.Mem{Base: dst, Index: off, Scale: 1})
		}
		if m == nil {
			ctx.ADDQ(operand.U32(4*L), src)
			ctx.ADDQ(operand.U32(4*L), pos)
		}
	})
}

// fromLanes emits FromLanesName's kernel: for p < n and c < chans (at
// most lanes), dst[c*ld+p] = src[lanes*p+c]. Lanes positions' vectors are
// loaded (the last chunk's only those of its positions), transposed, and
// each channel's run stored (the last masked: nothing past dst[c*ld+n-1]
// is written, nor any channel from chans on).
func fromLanes(ctx *build.Context, isa gemm.ISA, k consts) {
	L := isa.Lanes()
	ctx.Function(FromLanesName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst, src *float32, n, ld, chans int)")
	ctx.Doc(
		FromLanesName(isa)+fmt.Sprintf(" sets dst[c*ld+p] = src[%d*p+c] for p < n, c < chans (at most %d),", L, L),
		"reading and writing nothing else.",
	)
	vec := newVec(ctx, isa)
	dst := ctx.Load(ctx.Param("dst"), ctx.GP64())
	src := ctx.Load(ctx.Param("src"), ctx.GP64())
	n := ctx.Load(ctx.Param("n"), ctx.GP64())
	ld := ctx.Load(ctx.Param("ld"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ld)
	chans := paramAddr(ctx, "chans")
	part := 0
	lanesChunk(ctx, isa, k, n, func(m, km reg.Register, mask reg.VecVirtual) {
		part++
		r := make([]reg.VecVirtual, L)
		for i := range L {
			r[i] = vec()
		}
		loaded := fmt.Sprintf("loaded%d", part)
		if m != nil {
			// Registers past the last position stay as they are: their
			// lanes are not stored.
			for i := range L {
				ctx.VXORPS(r[i], r[i], r[i])
			}
		}
		for i := range L {
			if m != nil && i > 0 {
				ctx.CMPQ(m, operand.U32(i))
				ctx.JLE(operand.LabelRef(loaded))
			}
			ctx.VMOVUPS(operand.Mem{Base: src, Disp: 4 * L * i}, r[i])
		}
		ctx.Label(loaded)
		out := transpose(ctx, isa, r, vec)
		p := ctx.GP64()
		ctx.MOVQ(dst, p)
		stored := fmt.Sprintf("stored%d", part)
		for c, o := range out {
			if c > 0 {
				ctx.CMPQ(chans, operand.U32(c))
				ctx.JLE(operand.LabelRef(stored))
			}
			switch {
			case m == nil:
				ctx.VMOVUPS(o, operand.Mem{Base: p})
			case km != nil:
				ctx.VMOVUPS(o, km, operand.Mem{Base: p})
			default:
				ctx.VMASKMOVPS(o, mask, operand.Mem{Base: p})
			}
			if c < L-1 {
				ctx.ADDQ(ld, p)
			}
		}
		ctx.Label(stored)
		if m == nil {
			ctx.ADDQ(operand.U32(4*L*L), src)
			ctx.ADDQ(operand.U32(4*L), dst)
		}
	})
}
