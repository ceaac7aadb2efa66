// Package vec generates the elementwise SIMD kernels of a generated
// package, with avo driven as a library: the memory-bound steps that
// profiling showed matter besides the GEMMs.
//
// LRN with AlexNet's beta 0.75, d = x * (k + alpha*Σx²)^-0.75 over a window
// of channels, is a sum of squares, two square roots and a division per
// element: as scalar Go it cost more than AlexNet's conv1. Here the whole
// of it runs 16 (AVX-512) or 8 (AVX2) pixels at a time, with IEEE
// single-precision VSQRTPS and VDIVPS, so each result is within a few ulps
// of the float32 formula.
package vec

import (
	"fmt"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/buildtags"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/cnnc/cnnc/asmgen/gemm"
)

// Set selects the kernels to generate.
type Set struct {
	LRN    bool // vecLRN: LRN with beta 0.75
	Im2col bool // vecIm2colRow: a row of a convolution's im2col panel
}

// Generate returns the assembly and Go declarations of the kernels in set
// for package pkg, for both ISAs, under gemm.AsmConstraint.
func Generate(pkg string, set Set) (asm, stubs []byte, err error) {
	ctx := build.NewContext()
	ctx.Constraints(buildtags.And(buildtags.Term("amd64"), buildtags.Not("purego")))
	var tail16 operand.Mem
	if set.Im2col {
		tail16 = masks(ctx)
	}
	for _, isa := range []gemm.ISA{gemm.AVX512, gemm.AVX2} {
		if set.LRN {
			lrn(ctx, isa)
		}
		if set.Im2col {
			im2colRow(ctx, isa, tail16)
		}
	}
	if asm, stubs, err = gemm.Print(ctx, pkg); err != nil {
		return nil, nil, fmt.Errorf("vec: %w", err)
	}
	return asm, stubs, nil
}

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
func lrn(ctx *build.Context, isa gemm.ISA) {
	ctx.Function(LRNName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(d, x *float32, n, c, dstStride, srcStride, before, after int, k, alpha float32)")
	ctx.Doc(
		LRNName(isa)+" computes LRN with beta 0.75 over n pixels (a multiple of "+fmt.Sprint(isa.Lanes())+") of c channels:",
		"d[ch*dstStride+i] = x[ch*srcStride+i] * (k + alpha*Σ x[cc*srcStride+i]²)^-0.75,",
		"cc over [max(ch-before, 0), min(ch+after, c-1)].",
	)
	vec := func() reg.VecVirtual {
		if isa == gemm.AVX512 {
			return ctx.ZMM()
		}
		return ctx.YMM()
	}
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
	off := ctx.GP64()
	ctx.XORQ(off, off)

	ctx.Label("block")
	ctx.CMPQ(off, end)
	ctx.JGE(operand.LabelRef("done"))
	ch, dp, xp := ctx.GP64(), ctx.GP64(), ctx.GP64()
	ctx.XORQ(ch, ch)
	ctx.LEAQ(operand.Mem{Base: d, Index: off, Scale: 1}, dp)
	ctx.LEAQ(operand.Mem{Base: x, Index: off, Scale: 1}, xp)

	ctx.Label("channel")
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
	ctx.VMOVUPS(operand.Mem{Base: p}, v)
	ctx.VFMADD231PS(v, v, acc) // acc += v*v
	ctx.ADDQ(sS, p)
	ctx.DECQ(cnt)
	ctx.JNZ(operand.LabelRef("window"))

	r, q, y := vec(), vec(), vec()
	ctx.VFMADD213PS(k, alpha, acc) // acc = alpha*acc + k
	ctx.VSQRTPS(acc, r)
	ctx.VSQRTPS(r, q)
	ctx.VMULPS(q, r, r)
	ctx.VMOVUPS(operand.Mem{Base: xp}, y)
	ctx.VDIVPS(r, y, y) // y = y / r
	ctx.VMOVUPS(y, operand.Mem{Base: dp})
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
// or scalar (AVX2) tail, so nothing past the last element is read,
// otherwise a scalar loop.
func im2colRow(ctx *build.Context, isa gemm.ISA, tail16 operand.Mem) {
	ctx.Function(Im2colRowName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(d, s *float32, cols, nr, ow, ox0, sw, rowStep int)")
	ctx.Doc(
		Im2colRowName(isa)+" writes one row of an im2col panel: d[j] for j < cols is the source",
		"element of the j-th output position from (row 0, ox0) on, rows of ow positions, s[0] the",
		"first, positions sw and rows rowStep elements apart; d[cols:nr] is zeroed.",
	)
	lanes := isa.Lanes()
	vec := func() reg.VecVirtual {
		if isa == gemm.AVX512 {
			return ctx.ZMM()
		}
		return ctx.YMM()
	}
	d := ctx.Load(ctx.Param("d"), ctx.GP64())
	p := ctx.Load(ctx.Param("s"), ctx.GP64())
	cols := ctx.Load(ctx.Param("cols"), ctx.GP64())
	sw := ctx.Load(ctx.Param("sw"), ctx.GP64())
	ox := ctx.Load(ctx.Param("ox0"), ctx.GP64())
	ow, rowStep, nr := paramAddr(ctx, "ow"), paramAddr(ctx, "rowStep"), paramAddr(ctx, "nr")
	var tbl reg.GPVirtual
	if isa == gemm.AVX512 {
		tbl = ctx.GP64()
		ctx.LEAQ(tail16, tbl)
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

	// copyN copies n (a register, clobbered) elements from src to dst
	// (registers, advanced), vectors then a masked tail; with zero it
	// writes zeros instead of reading.
	copyN := func(prefix string, n, src, dst reg.GPVirtual, zero bool) {
		v := vec()
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

// paramAddr is the stack address of a float parameter, for a broadcast load.
func paramAddr(ctx *build.Context, name string) operand.Mem {
	b, err := ctx.Param(name).Resolve()
	if err != nil {
		panic(err) // a scalar parameter always resolves
	}
	return b.Addr
}
