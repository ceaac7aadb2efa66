// Package vec generates the elementwise SIMD kernels of a generated
// package, with avo driven as a library: the memory-bound steps that
// profiling showed matter besides the GEMMs.
//
// LRN with AlexNet's beta 0.75, d = x * (k + alpha*Σx²)^-0.75 over a window
// of channels, is a sum of squares, two square roots and a division per
// element: as scalar Go it cost more than AlexNet's conv1. Here the whole
// of it runs 16 (AVX-512) or 8 (AVX2) pixels at a time. AVX2 uses IEEE
// single-precision VSQRTPS and VDIVPS; AVX-512 computes u^-0.5 with
// VRSQRT14PS and a Newton step and takes one square root of that, sparing
// the divider two of its three operations. Each result is within a few ulps
// of the float32 formula (TestLRN: at most 5 on AVX-512, 4 on AVX2).
package vec

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/buildtags"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/compiler/winograd"
)

// Set selects the kernels to generate: kinds of Kernels, and the
// Winograd transforms.
type Set struct {
	Kernels []*Kernel // of Kernels
	// Forms are the Winograd forms whose transforms to generate, from
	// their Toom-Cook matrices (WinoInName, WinoOutName), with vecCopyRows.
	Forms []winograd.Form
}

// Empty reports whether set selects no kernel.
func (set *Set) Empty() bool {
	return len(set.Kernels) == 0 && len(set.Forms) == 0
}

// Generate returns the assembly and Go declarations of the kernels in set
// for package pkg, for both ISAs, under gemm.AsmConstraint.
func Generate(pkg string, set Set) (asm, stubs []byte, err error) {
	ctx := build.NewContext()
	ctx.Constraints(buildtags.And(buildtags.Term("amd64"), buildtags.Not("purego")))
	forms, err := genForms(set.Forms)
	if err != nil {
		return nil, nil, err
	}
	k := consts{act: gemm.NewConstPool("actconsts")}
	copies, deint, lanes := len(forms) > 0, false, false
	for _, kk := range set.Kernels {
		copies = copies || kk.CopyRows
		deint = deint || kk.DeInterleave
		lanes = lanes || kk.LaneMasks
	}
	if !set.Empty() {
		k.tail16 = masks(ctx)
	}
	splits := SplitsOf(set.Forms)
	if deint || len(splits) > 0 {
		k.poolIdx = deinterleave(ctx)
	}
	var splitIdx operand.Mem
	if len(splits) > 0 {
		splitIdx = splitConsts(ctx)
	}
	if lanes {
		k.lanes8 = laneMasks(ctx)
	}
	var winoK *winoConsts
	if len(forms) > 0 {
		winoK = newWinoConsts(ctx, forms)
	}
	for _, isa := range []gemm.ISA{gemm.AVX512, gemm.AVX2} {
		for _, kk := range set.Kernels {
			kk.emit(ctx, isa, &k)
		}
		for _, f := range forms {
			o := winoOverrideOf(f.f, isa)
			if o.in != nil {
				o.in(ctx, isa, WinoInName(isa, f.f))
			} else {
				winoIn(ctx, isa, f, winoK)
			}
			if o.out != nil {
				o.out(ctx, isa, WinoOutName(isa, f.f))
			} else {
				winoOut(ctx, isa, f, winoK)
			}
		}
		for _, o := range splits {
			winoSplit(ctx, isa, o, splitIdx, k.poolIdx)
			winoJoin(ctx, isa, o, splitIdx, k.poolIdx)
		}
		if copies {
			copyRows(ctx, isa, k.tail16)
		}
	}
	k.act.Emit(ctx)
	if asm, stubs, err = gemm.Print(ctx, pkg); err != nil {
		return nil, nil, fmt.Errorf("vec: %w", err)
	}
	return asm, stubs, nil
}

// lrnPrefetch is how far ahead, in bytes, the LRN kernel prefetches each
// channel's row.
const lrnPrefetch = 256

// LRNName is the name of the LRN kernel for isa.
func LRNName(isa gemm.ISA) string { return "vecLRN" + isa.String() }

// lrn emits LRN across channels for AlexNet's beta, 16 (AVX-512) or 8
// (AVX2) pixels at a time: for each block of pixels i and each channel c,
//
//	s = Σ x[cc][i]² over cc in [max(c-before, 0), min(c+after, C-1)]
//	d[c][i] = x[c][i] / (r*sqrt(r)), r = sqrt(k + alpha*s)
//
// where x[c][i] is x[c*srcStride+i] and d[c][i] is d[c*dstStride+i] (the
// strides in elements). n is a multiple of the vector width; the caller does
// the remaining pixels. The window's squares are summed afresh for every
// channel (no running sum that could cancel), from L1: a block's C values
// are C cache lines.
func lrn(ctx *build.Context, isa gemm.ISA, tail16 operand.Mem) {
	ctx.Function(LRNName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(d, x *float32, n, c, dstStride, srcStride, before, after int, k, alpha float32)")
	pixels := "n pixels (a multiple of " + fmt.Sprint(isa.Lanes()) + ")"
	if isa == gemm.AVX512 {
		pixels = "n pixels (a masked last vector: nothing past them is read or written)"
	}
	ctx.Doc(
		LRNName(isa)+" computes LRN with beta 0.75 over "+pixels+" of c channels:",
		"d[ch*dstStride+i] = x[ch*srcStride+i] * (k + alpha*Σ x[cc*srcStride+i]²)^-0.75,",
		"cc over [max(ch-before, 0), min(ch+after, c-1)].",
	)
	vec := newVec(ctx, isa)
	d := ctx.Load(ctx.Param("d"), ctx.GP64())
	x := ctx.Load(ctx.Param("x"), ctx.GP64())
	end := ctx.Load(ctx.Param("n"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), end) // bytes
	dS := ctx.Load(ctx.Param("dstStride"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), dS)
	sS := ctx.Load(ctx.Param("srcStride"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), sS)
	chans, before, after := paramAddr(ctx, "c"), paramAddr(ctx, "before"), paramAddr(ctx, "after")
	k, alpha := vec(), vec()
	ctx.VBROADCASTSS(paramAddr(ctx, "k"), k)
	ctx.VBROADCASTSS(paramAddr(ctx, "alpha"), alpha)
	var half, threeHalves reg.VecVirtual
	if isa == gemm.AVX512 {
		half, threeHalves = vec(), vec()
		broadcast(ctx, 0.5, half)
		broadcast(ctx, 1.5, threeHalves)
	}
	off := ctx.GP64()
	ctx.XORQ(off, off)
	var tbl reg.GPVirtual
	var km reg.Register
	if isa == gemm.AVX512 {
		tbl = ctx.GP64()
		ctx.LEAQ(tail16, tbl)
		km = ctx.K()
	}
	// loadX loads the block's pixels of a channel: masked to those left on
	// AVX-512.
	loadX := func(m operand.Mem, v reg.VecVirtual) {
		if isa == gemm.AVX512 {
			ctx.VMOVUPS_Z(m, km, v)
			return
		}
		ctx.VMOVUPS(m, v)
	}

	ctx.Label("block")
	ctx.CMPQ(off, end)
	ctx.JGE(operand.LabelRef("done"))
	if isa == gemm.AVX512 {
		// The block's mask: min(16, pixels left).
		left, sixteen := ctx.GP64(), ctx.GP64()
		ctx.MOVQ(end, left)
		ctx.SUBQ(off, left)
		ctx.SHRQ(operand.U8(2), left)
		ctx.MOVQ(operand.U32(16), sixteen)
		ctx.CMPQ(left, sixteen)
		ctx.CMOVQGT(sixteen, left)
		ctx.KMOVW(operand.Mem{Base: tbl, Index: left, Scale: 2}, km)
	}
	ch, dp, xp := ctx.GP64(), ctx.GP64(), ctx.GP64()
	ctx.XORQ(ch, ch)
	ctx.LEAQ(operand.Mem{Base: d, Index: off, Scale: 1}, dp)
	ctx.LEAQ(operand.Mem{Base: x, Index: off, Scale: 1}, xp)

	ctx.Label("channel")
	// The block walks c rows (one per channel) that far apart in memory
	// that the hardware prefetchers lose track of them: fetch this
	// channel's row lrnPrefetch bytes ahead, for the blocks to come.
	ctx.PREFETCHT0(operand.Mem{Base: xp, Disp: lrnPrefetch})
	// lo = max(ch-before, 0); cnt = min(ch+after, c-1) - lo + 1.
	lo, cnt, p, zero := ctx.GP64(), ctx.GP64(), ctx.GP64(), ctx.GP64()
	ctx.XORQ(zero, zero)
	ctx.MOVQ(ch, lo)
	ctx.SUBQ(before, lo)
	ctx.CMOVQLT(zero, lo)
	ctx.MOVQ(chans, cnt)
	ctx.DECQ(cnt)
	ctx.MOVQ(ch, p)
	ctx.ADDQ(after, p)
	ctx.CMPQ(p, cnt)
	ctx.CMOVQLT(p, cnt)
	ctx.SUBQ(lo, cnt)
	ctx.INCQ(cnt)
	ctx.MOVQ(lo, p)
	ctx.IMULQ(sS, p)
	ctx.ADDQ(x, p)
	ctx.ADDQ(off, p)
	acc := vec()
	if isa == gemm.AVX512 {
		ctx.VPXORD(acc, acc, acc) // VXORPS on ZMM would need AVX512DQ
	} else {
		ctx.VXORPS(acc, acc, acc)
	}
	ctx.Label("window")
	v := vec()
	loadX(operand.Mem{Base: p}, v)
	ctx.VFMADD231PS(v, v, acc) // acc += v*v
	ctx.ADDQ(sS, p)
	ctx.DECQ(cnt)
	ctx.JNZ(operand.LabelRef("window"))

	r, q, y := vec(), vec(), vec()
	ctx.VFMADD213PS(k, alpha, acc) // acc = alpha*acc + k
	loadX(operand.Mem{Base: xp}, y)
	if isa == gemm.AVX512 {
		// y * u^-0.75 = y * t*sqrt(t), t = u^-0.5 from VRSQRT14PS (14
		// bits) and a Newton step, t(1.5 - 0.5*u*t²): one square root
		// instead of two and a division, which share one unit.
		ctx.VRSQRT14PS(acc, r)
		ctx.VMULPS(half, acc, acc) // u/2
		ctx.VMULPS(r, r, q)
		ctx.VFNMADD213PS(threeHalves, acc, q) // 1.5 - (u/2)t²
		ctx.VMULPS(q, r, r)
		ctx.VSQRTPS(r, q)
		ctx.VMULPS(q, r, r)
		ctx.VMULPS(r, y, y)
	} else {
		ctx.VSQRTPS(acc, r)
		ctx.VSQRTPS(r, q)
		ctx.VMULPS(q, r, r)
		ctx.VDIVPS(r, y, y) // y = y / r
	}
	if isa == gemm.AVX512 {
		ctx.VMOVUPS(y, km, operand.Mem{Base: dp})
	} else {
		ctx.VMOVUPS(y, operand.Mem{Base: dp})
	}
	ctx.ADDQ(dS, dp)
	ctx.ADDQ(sS, xp)
	ctx.INCQ(ch)
	ctx.CMPQ(ch, chans)
	ctx.JL(operand.LabelRef("channel"))

	ctx.ADDQ(operand.U32(4*isa.Lanes()), off)
	ctx.JMP(operand.LabelRef("block"))

	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// Im2colRowName is the name of the im2col row kernel for isa.
func Im2colRowName(isa gemm.ISA) string { return "vecIm2colRow" + isa.String() }

// masks emits the table of AVX-512 opmasks for partial vectors: tail16
// holds (1<<r)-1 as uint16 for r = 0..16.
func masks(ctx *build.Context) (tail16 operand.Mem) {
	tail16 = ctx.StaticGlobal("tail16")
	ctx.DataAttributes(attr.RODATA | attr.NOPTR)
	for r := range 17 {
		ctx.AppendDatum(operand.U16(uint16(1<<r - 1)))
	}
	return tail16
}

// im2colRow emits one row of a convolution's im2col panel: d[0:cols] gets
// the source elements of output positions ox0, ox0+1, ... of one output row
// and then of the rows after it, cols in all, and d[cols:nr] zero. s points
// at the element for the first position; within an output row consecutive
// positions are sw elements apart, and output rows rowStep elements apart
// (from the first position of one to that of the next). A row of ow
// positions is a segment: with sw 1 a vector copy with a masked (AVX-512)
// or scalar (AVX2) tail, so nothing past the last element is read; with sw
// 2 on AVX-512 (the stem convolutions' 7x7/2 and 3x3/2) blocks of 16 from
// two loads, the second masked to the 15 elements the block reads, and
// VPERMT2PS's even elements; otherwise, and for the rest, a scalar loop.
func im2colRow(ctx *build.Context, isa gemm.ISA, tail16, poolIdx operand.Mem) {
	ctx.Function(Im2colRowName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(d, s *float32, cols, nr, ow, ox0, sw, rowStep int)")
	ctx.Doc(
		Im2colRowName(isa)+" writes one row of an im2col panel: d[j] for j < cols is the source",
		"element of the j-th output position from (row 0, ox0) on, rows of ow positions, s[0] the",
		"first, positions sw and rows rowStep elements apart; d[cols:nr] is zeroed.",
	)
	d := ctx.Load(ctx.Param("d"), ctx.GP64())
	p := ctx.Load(ctx.Param("s"), ctx.GP64())
	cols := ctx.Load(ctx.Param("cols"), ctx.GP64())
	sw := ctx.Load(ctx.Param("sw"), ctx.GP64())
	ox := ctx.Load(ctx.Param("ox0"), ctx.GP64())
	ow, rowStep, nr := paramAddr(ctx, "ow"), paramAddr(ctx, "rowStep"), paramAddr(ctx, "nr")
	var tbl reg.GPVirtual
	var idxE reg.VecVirtual
	var k15 reg.Register
	if isa == gemm.AVX512 {
		tbl = ctx.GP64()
		ctx.LEAQ(tail16, tbl)
		idxE, k15 = ctx.ZMM(), ctx.K()
		ctx.VMOVUPS(poolIdx, idxE)
		ctx.KMOVW(operand.Mem{Base: tbl, Disp: 2 * 15}, k15)
	}
	// rowPtr is the source of position 0 of the current output row.
	rowPtr, t := ctx.GP64(), ctx.GP64()
	ctx.MOVQ(ox, t)
	ctx.IMULQ(sw, t)
	ctx.SHLQ(operand.U8(2), t)
	ctx.MOVQ(p, rowPtr)
	ctx.SUBQ(t, rowPtr)
	ctx.SHLQ(operand.U8(2), sw) // bytes from here on
	j := ctx.GP64()
	ctx.XORQ(j, j)

	copyN := func(prefix string, n, src, dst reg.GPVirtual, zero bool) {
		copyVec(ctx, isa, tbl, prefix, n, src, dst, zero)
	}

	ctx.Label("segment")
	// seg = min(ow-ox, cols-j)
	seg, rem := ctx.GP64(), ctx.GP64()
	ctx.MOVQ(ow, seg)
	ctx.SUBQ(ox, seg)
	ctx.MOVQ(cols, rem)
	ctx.SUBQ(j, rem)
	ctx.CMPQ(rem, seg)
	ctx.CMOVQLT(rem, seg)
	src, dst, n := ctx.GP64(), ctx.GP64(), ctx.GP64()
	ctx.MOVQ(ox, src)
	ctx.IMULQ(sw, src)
	ctx.ADDQ(rowPtr, src)
	ctx.LEAQ(operand.Mem{Base: d, Index: j, Scale: 4}, dst)
	ctx.MOVQ(seg, n)
	ctx.CMPQ(sw, operand.U32(4))
	ctx.JNE(operand.LabelRef("strided"))
	copyN("c", n, src, dst, false)
	ctx.JMP(operand.LabelRef("next"))

	ctx.Label("strided")
	if isa == gemm.AVX512 {
		ctx.CMPQ(sw, operand.U32(8))
		ctx.JNE(operand.LabelRef("sloop"))
		ctx.Label("s2loop")
		ctx.CMPQ(n, operand.U32(16))
		ctx.JL(operand.LabelRef("s2tail"))
		lo, hi := ctx.ZMM(), ctx.ZMM()
		ctx.VMOVUPS(operand.Mem{Base: src}, lo)
		ctx.VMOVUPS_Z(operand.Mem{Base: src, Disp: 64}, k15, hi)
		ctx.VPERMT2PS(hi, idxE, lo) // elements 0, 2, ..., 30
		ctx.VMOVUPS(lo, operand.Mem{Base: dst})
		ctx.ADDQ(operand.U32(128), src)
		ctx.ADDQ(operand.U32(64), dst)
		ctx.SUBQ(operand.U32(16), n)
		ctx.JMP(operand.LabelRef("s2loop"))
		ctx.Label("s2tail")
		ctx.TESTQ(n, n)
		ctx.JZ(operand.LabelRef("next"))
	}
	e := ctx.GP32()
	ctx.Label("sloop")
	ctx.MOVL(operand.Mem{Base: src}, e)
	ctx.MOVL(e, operand.Mem{Base: dst})
	ctx.ADDQ(sw, src)
	ctx.ADDQ(operand.U32(4), dst)
	ctx.DECQ(n)
	ctx.JNZ(operand.LabelRef("sloop"))

	ctx.Label("next")
	ctx.ADDQ(seg, j)
	ctx.CMPQ(j, cols)
	ctx.JGE(operand.LabelRef("zero"))
	r := ctx.GP64()
	ctx.MOVQ(rowStep, r)
	ctx.SHLQ(operand.U8(2), r)
	ctx.ADDQ(r, rowPtr)
	ctx.XORQ(ox, ox)
	ctx.JMP(operand.LabelRef("segment"))

	ctx.Label("zero")
	zn, zd := ctx.GP64(), ctx.GP64()
	ctx.MOVQ(nr, zn)
	ctx.SUBQ(cols, zn)
	ctx.LEAQ(operand.Mem{Base: d, Index: cols, Scale: 4}, zd)
	copyN("z", zn, zd, zd, true)
	ctx.VZEROUPPER()
	ctx.RET()
}

// newVec returns a maker of vector registers of isa's width: zmm for
// AVX-512, ymm for AVX2.
func newVec(ctx *build.Context, isa gemm.ISA) func() reg.VecVirtual {
	if isa == gemm.AVX512 {
		return ctx.ZMM
	}
	return ctx.YMM
}

// paramAddr is the stack address of a float parameter, for a broadcast load.
func paramAddr(ctx *build.Context, name string) operand.Mem {
	b, err := ctx.Param(name).Resolve()
	if err != nil {
		panic(err) // a scalar parameter always resolves
	}
	return b.Addr
}

// broadcast sets every lane of v to the float32 f.
func broadcast(ctx *build.Context, f float32, v reg.VecVirtual) {
	c := ctx.GP32()
	ctx.MOVL(operand.U32(math.Float32bits(f)), c)
	ctx.VMOVD(c, v.AsX())
	ctx.VBROADCASTSS(v.AsX(), v)
}

// copyVec emits a copy of n (a register, clobbered) elements from src to
// dst (registers, advanced), vectors then a tail, masked with the tail16
// table at tbl (AVX-512) or scalar (AVX2); with zero it writes zeros
// instead of reading. Nothing past the n elements is read or written.
// Labels start with prefix.
func copyVec(ctx *build.Context, isa gemm.ISA, tbl reg.GPVirtual, prefix string, n, src, dst reg.GPVirtual, zero bool) {
	lanes := isa.Lanes()
	v := newVec(ctx, isa)()
	if zero {
		ctx.VXORPS(v.AsY(), v.AsY(), v.AsY()) // zeroes the whole register
	}
	ctx.Label(prefix + "vec")
	ctx.CMPQ(n, operand.U32(lanes))
	ctx.JL(operand.LabelRef(prefix + "tail"))
	if !zero {
		ctx.VMOVUPS(operand.Mem{Base: src}, v)
		ctx.ADDQ(operand.U32(4*lanes), src)
	}
	ctx.VMOVUPS(v, operand.Mem{Base: dst})
	ctx.ADDQ(operand.U32(4*lanes), dst)
	ctx.SUBQ(operand.U32(lanes), n)
	ctx.JMP(operand.LabelRef(prefix + "vec"))
	ctx.Label(prefix + "tail")
	ctx.TESTQ(n, n)
	ctx.JZ(operand.LabelRef(prefix + "done"))
	if isa == gemm.AVX512 {
		k := ctx.K()
		ctx.KMOVW(operand.Mem{Base: tbl, Index: n, Scale: 2}, k)
		if !zero {
			ctx.VMOVUPS_Z(operand.Mem{Base: src}, k, v)
		}
		ctx.VMOVUPS(v, k, operand.Mem{Base: dst})
	} else {
		// VMASKMOVPS stores are microcoded and slow on AMD's cores: a
		// scalar loop does the last few elements.
		e := ctx.GP32()
		ctx.Label(prefix + "scalar")
		if zero {
			ctx.MOVL(operand.U32(0), operand.Mem{Base: dst})
		} else {
			ctx.MOVL(operand.Mem{Base: src}, e)
			ctx.MOVL(e, operand.Mem{Base: dst})
			ctx.ADDQ(operand.U32(4), src)
		}
		ctx.ADDQ(operand.U32(4), dst)
		ctx.DECQ(n)
		ctx.JNZ(operand.LabelRef(prefix + "scalar"))
	}
	ctx.Label(prefix + "done")
}

// CopyRowsName is the name of the row copy kernel for isa.
func CopyRowsName(isa gemm.ISA) string { return "vecCopyRows" + isa.String() }

// copyRows emits a copy of rows rows of n elements between strided rows:
// the Winograd input transform's scatter of its points' rows of tiles into
// the GEMMs' panels, one call where memmove took one per row.
func copyRows(ctx *build.Context, isa gemm.ISA, tail16 operand.Mem) {
	ctx.Function(CopyRowsName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst, src *float32, rows, n, ldDst, ldSrc int)")
	ctx.Doc(
		CopyRowsName(isa)+" copies dst[r*ldDst+j] = src[r*ldSrc+j] for r < rows, j < n, reading",
		"and writing nothing else.",
	)
	d := ctx.Load(ctx.Param("dst"), ctx.GP64())
	s := ctx.Load(ctx.Param("src"), ctx.GP64())
	rows := ctx.Load(ctx.Param("rows"), ctx.GP64())
	ldD := ctx.Load(ctx.Param("ldDst"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ldD)
	ldS := ctx.Load(ctx.Param("ldSrc"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ldS)
	n := paramAddr(ctx, "n")
	var tbl reg.GPVirtual
	if isa == gemm.AVX512 {
		tbl = ctx.GP64()
		ctx.LEAQ(tail16, tbl)
	}
	ctx.Label("row")
	ctx.TESTQ(rows, rows)
	ctx.JZ(operand.LabelRef("done"))
	cnt, sp, dp := ctx.GP64(), ctx.GP64(), ctx.GP64()
	ctx.MOVQ(n, cnt)
	ctx.MOVQ(s, sp)
	ctx.MOVQ(d, dp)
	copyVec(ctx, isa, tbl, "c", cnt, sp, dp, false)
	ctx.ADDQ(ldS, s)
	ctx.ADDQ(ldD, d)
	ctx.DECQ(rows)
	ctx.JMP(operand.LabelRef("row"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// MaxPoolName is the name of the 3-wide, stride-2 max pooling row kernel
// for isa.
func MaxPoolName(isa gemm.ISA) string { return "vecMaxPool3s2" + isa.String() }

// deinterleave emits VPERMT2PS's index vectors that gather the even and
// the odd elements of two zmm registers: poolIdx holds 0, 2, ..., 30 and
// then 1, 3, ..., 31 as uint32.
func deinterleave(ctx *build.Context) operand.Mem {
	idx := ctx.StaticGlobal("poolIdx")
	ctx.DataAttributes(attr.RODATA | attr.NOPTR)
	for odd := range 2 {
		for i := range 16 {
			ctx.AppendDatum(operand.U32(uint32(2*i + odd)))
		}
	}
	return idx
}

// nanMaxer returns a function that sets a to max(a, b), NaN where either
// is (in place, so that it can run in a loop). VMAXPS returns its second
// source when either is NaN, so the max is followed by a fix-up: the lanes
// where the operands compare unordered get their sum, a NaN.
func nanMaxer(ctx *build.Context, isa gemm.ISA) func(a, b reg.VecVirtual) {
	vec := newVec(ctx, isa)
	return func(a, b reg.VecVirtual) {
		sum := vec()
		ctx.VADDPS(b, a, sum)
		if isa == gemm.AVX512 {
			k := ctx.K()
			ctx.VCMPPS(operand.U8(3), b, a, k) // unordered
			ctx.VMAXPS(b, a, a)
			ctx.VMOVAPS(sum, k, a)
			return
		}
		m := vec()
		ctx.VCMPPS(operand.U8(3), b, a, m)
		ctx.VMAXPS(b, a, a)
		ctx.VBLENDVPS(m, sum, a, a)
	}
}

// blockMask sets k to the tail16 mask of min(n, 16) lanes, an AVX-512
// block's outputs (sixteen holds 16, tbl tail16's address), and returns
// that count in a fresh register.
func blockMask(ctx *build.Context, n, sixteen, tbl reg.Register, k reg.Register) reg.GPVirtual {
	cnt := ctx.GP64()
	ctx.MOVQ(n, cnt)
	ctx.CMPQ(cnt, sixteen)
	ctx.CMOVQGT(sixteen, cnt)
	ctx.KMOVW(operand.Mem{Base: tbl, Index: cnt, Scale: 2}, k)
	return cnt
}

// maxRows emits the max pooling kernels' reduction over a window's rows:
// acc[i] is loaded (by load) from vector i of the first row at p, then
// takes the NaN-propagating max with the same vector of each of the rows
// that follow, ld bytes apart.
func maxRows(ctx *build.Context, acc []reg.VecVirtual, p reg.Register, rows operand.Mem, ld reg.Register,
	load func(base reg.Register, i int, dst reg.VecVirtual), nanMax func(a, b reg.VecVirtual), vec func() reg.VecVirtual) {
	for i := range acc {
		load(p, i, acc[i])
	}
	q, r := ctx.GP64(), ctx.GP64()
	ctx.MOVQ(p, q)
	ctx.MOVQ(rows, r)
	ctx.Label("row")
	ctx.DECQ(r)
	ctx.JLE(operand.LabelRef("reduced"))
	ctx.ADDQ(ld, q)
	for i := range acc {
		x := vec()
		load(q, i, x)
		nanMax(acc[i], x)
	}
	ctx.JMP(operand.LabelRef("row"))
	ctx.Label("reduced")
}

// MaxPool1Name is the name of the 3-wide, stride-1 max pooling row kernel
// for isa.
func MaxPool1Name(isa gemm.ISA) string { return "vecMaxPool3s1" + isa.String() }

// maxPool3s1 emits one output row of a max pooling with 3-wide windows at
// stride 1 (Inception's 3x3/1 pooling branches): dst[i] is the largest of
// src[r*ld + i + k] for r < rows and k < 3, for i < n, NaN if any of them
// is. A block of `lanes` outputs reduces the rows' vectors at elements i,
// i+1 and i+2, then takes the largest of the three. On AVX-512 the loads
// and the store are masked to the block's outputs, so nothing past element
// n+1 of a row is read; on AVX2 the caller rounds n down to a multiple of
// 8 (the loads then reach element n+1, inside the last window).
func maxPool3s1(ctx *build.Context, isa gemm.ISA, tail16 operand.Mem) {
	ctx.Function(MaxPool1Name(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst, src *float32, n, rows, ld int)")
	ctx.Doc(
		MaxPool1Name(isa)+" computes dst[i] = max(src[r*ld+i+k]) over r < rows, k < 3, for i < n,",
		"propagating NaN. "+map[gemm.ISA]string{gemm.AVX512: "It reads nothing past element n+1 of a row.", gemm.AVX2: "n must be a multiple of 8; rows are read to element n+1."}[isa],
	)
	lanes := isa.Lanes()
	avx512 := isa == gemm.AVX512
	vec := newVec(ctx, isa)
	nanMax := nanMaxer(ctx, isa)
	d := ctx.Load(ctx.Param("dst"), ctx.GP64())
	p := ctx.Load(ctx.Param("src"), ctx.GP64())
	n := ctx.Load(ctx.Param("n"), ctx.GP64())
	rows := paramAddr(ctx, "rows")
	ld := ctx.Load(ctx.Param("ld"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ld)
	var tbl, sixteen reg.GPVirtual
	var km reg.Register
	if avx512 {
		tbl, sixteen = ctx.GP64(), ctx.GP64()
		ctx.LEAQ(tail16, tbl)
		ctx.MOVQ(operand.U32(16), sixteen)
		km = ctx.K()
	}
	acc := [3]reg.VecVirtual{vec(), vec(), vec()}
	load := func(base reg.Register, k int, dst reg.VecVirtual) {
		m := operand.Mem{Base: base, Disp: 4 * k}
		if avx512 {
			ctx.VMOVUPS_Z(m, km, dst)
			return
		}
		ctx.VMOVUPS(m, dst)
	}
	ctx.Label("block")
	if avx512 {
		ctx.TESTQ(n, n)
		ctx.JLE(operand.LabelRef("done"))
		// The block's min(n, 16) outputs: each of the three vectors
		// needs that many lanes.
		blockMask(ctx, n, sixteen, tbl, km)
	} else {
		ctx.CMPQ(n, operand.U32(lanes))
		ctx.JL(operand.LabelRef("done"))
	}
	maxRows(ctx, acc[:], p, rows, ld, load, nanMax, vec)
	nanMax(acc[0], acc[1])
	nanMax(acc[0], acc[2])
	if avx512 {
		ctx.VMOVUPS(acc[0], km, operand.Mem{Base: d})
	} else {
		ctx.VMOVUPS(acc[0], operand.Mem{Base: d})
	}
	ctx.ADDQ(operand.U32(4*lanes), p)
	ctx.ADDQ(operand.U32(4*lanes), d)
	ctx.SUBQ(operand.U32(lanes), n)
	ctx.JMP(operand.LabelRef("block"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// maxPool3s2 emits one output row of a max pooling with 3-wide windows at
// stride 2 (AlexNet's 3x3/2; the window's rows are given): dst[i] is the
// largest of src[r*ld + 2i + k] for r < rows and k < 3, for i < n, and NaN
// if any of them is, as PyTorch's. A block of `lanes` outputs takes the
// rows' elements 2i.. as four vectors (lo and hi from 2i, lo2 and hi2 from
// 2i+2), reduces them over the rows, then deinterleaves: max(even(lo, hi),
// odd(lo, hi), even(lo2, hi2)). On AVX-512 every load and the store are
// masked to the block's elements, so all n outputs are done and nothing
// past element 2n of a row is read; on AVX2 the caller rounds n down to a
// multiple of 8, does the rest itself, and leaves the rows readable to
// element 2n+1. Maxima propagate NaN (nanMaxer).
func maxPool3s2(ctx *build.Context, isa gemm.ISA, tail16, poolIdx operand.Mem) {
	ctx.Function(MaxPoolName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst, src *float32, n, rows, ld int)")
	ctx.Doc(
		MaxPoolName(isa)+" computes dst[i] = max(src[r*ld+2i+k]) over r < rows, k < 3, for i < n,",
		"propagating NaN. "+map[gemm.ISA]string{gemm.AVX512: "It reads nothing past element 2n of a row.", gemm.AVX2: "n must be a multiple of 8; rows are read to element 2n+1."}[isa],
	)
	lanes := isa.Lanes()
	avx512 := isa == gemm.AVX512
	vec := newVec(ctx, isa)
	d := ctx.Load(ctx.Param("dst"), ctx.GP64())
	p := ctx.Load(ctx.Param("src"), ctx.GP64())
	n := ctx.Load(ctx.Param("n"), ctx.GP64())
	rows := paramAddr(ctx, "rows")
	ld := ctx.Load(ctx.Param("ld"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ld)
	var tbl reg.GPVirtual
	var idxE, idxO reg.VecVirtual
	if avx512 {
		tbl = ctx.GP64()
		ctx.LEAQ(tail16, tbl)
		idxE, idxO = ctx.ZMM(), ctx.ZMM()
		ctx.VMOVUPS(poolIdx, idxE)
		ctx.VMOVUPS(poolIdx.Offset(64), idxO)
	}
	nanMax := nanMaxer(ctx, isa)
	// The four vectors of a block, and where they start in a row.
	offs := [4]int{0, 4 * lanes, 8, 4*lanes + 8} // lo, hi, lo2, hi2 in bytes
	acc := [4]reg.VecVirtual{vec(), vec(), vec(), vec()}
	var km [4]reg.Register
	var kst reg.Register
	if avx512 {
		for i := range km {
			km[i] = ctx.K()
		}
		kst = ctx.K()
	}
	load := func(base reg.Register, i int, dst reg.VecVirtual) {
		m := operand.Mem{Base: base, Disp: offs[i]}
		if avx512 {
			ctx.VMOVUPS_Z(m, km[i], dst)
			return
		}
		ctx.VMOVUPS(m, dst)
	}
	var sixteen, zero reg.GPVirtual
	if avx512 {
		sixteen, zero = ctx.GP64(), ctx.GP64()
		ctx.MOVQ(operand.U32(16), sixteen)
		ctx.XORQ(zero, zero)
	}

	ctx.Label("block")
	if avx512 {
		ctx.TESTQ(n, n)
		ctx.JLE(operand.LabelRef("done"))
		// cnt = min(n, 16) outputs need c = 2*cnt+1 elements from the
		// block's start; vector i (starting at element s_i) gets
		// clamp(c - s_i, 0, 16) of them.
		cnt := blockMask(ctx, n, sixteen, tbl, kst)
		c := ctx.GP64()
		ctx.LEAQ(operand.Mem{Base: cnt, Index: cnt, Scale: 1, Disp: 1}, c)
		for i, start := range [4]int{0, 16, 2, 18} {
			x := ctx.GP64()
			ctx.MOVQ(c, x)
			if start > 0 {
				ctx.SUBQ(operand.U32(start), x)
			}
			ctx.CMPQ(x, zero)
			ctx.CMOVQLT(zero, x)
			ctx.CMPQ(x, sixteen)
			ctx.CMOVQGT(sixteen, x)
			ctx.KMOVW(operand.Mem{Base: tbl, Index: x, Scale: 2}, km[i])
		}
	} else {
		ctx.CMPQ(n, operand.U32(lanes))
		ctx.JL(operand.LabelRef("done"))
	}
	maxRows(ctx, acc[:], p, rows, ld, load, nanMax, vec)
	// even(lo, hi), odd(lo, hi), even(lo2, hi2).
	var even, odd, even2 reg.VecVirtual
	if avx512 {
		even, odd, even2 = vec(), vec(), vec()
		ctx.VMOVAPS(acc[0], even)
		ctx.VPERMT2PS(acc[1], idxE, even)
		ctx.VMOVAPS(acc[0], odd)
		ctx.VPERMT2PS(acc[1], idxO, odd)
		ctx.VMOVAPS(acc[2], even2)
		ctx.VPERMT2PS(acc[3], idxE, even2)
	} else {
		deint := func(lo, hi reg.VecVirtual, imm uint8) reg.VecVirtual {
			t := vec()
			ctx.VSHUFPS(operand.U8(imm), hi, lo, t) // lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6 (even)
			ctx.VPERMPD(operand.U8(0xd8), t, t)     // lo0 lo2 lo4 lo6 hi0 hi2 hi4 hi6
			return t
		}
		even, odd, even2 = deint(acc[0], acc[1], 0x88), deint(acc[0], acc[1], 0xdd), deint(acc[2], acc[3], 0x88)
	}
	nanMax(even, odd)
	nanMax(even, even2)
	if avx512 {
		ctx.VMOVUPS(even, kst, operand.Mem{Base: d})
	} else {
		ctx.VMOVUPS(even, operand.Mem{Base: d})
	}
	ctx.ADDQ(operand.U32(8*lanes), p)
	ctx.ADDQ(operand.U32(4*lanes), d)
	ctx.SUBQ(operand.U32(lanes), n)
	ctx.JMP(operand.LabelRef("block"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}
