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
	Wino    bool      // vecWinoIn, vecWinoOut: Winograd F(2x2,3x3)'s transforms, and vecCopyRows
	Wino5   bool      // vecWino5In, vecWino5Out: Winograd F(2x2,5x5)'s transforms, and vecCopyRows
	Wino43  bool      // vecWino43In, vecWino43Out: Winograd F(4x4,3x3)'s transforms, and vecCopyRows
	// Forms are Winograd forms whose transforms are generated from their
	// Toom-Cook matrices (WinoGenInName, WinoGenOutName), with
	// vecCopyRows; zero entries are unused.
	Forms [4]winograd.Form
}

// Empty reports whether set selects no kernel.
func (set *Set) Empty() bool {
	return len(set.Kernels) == 0 && !set.Wino && !set.Wino5 && !set.Wino43 && set.Forms == [4]winograd.Form{}
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
	var k consts
	copies, deint := set.Wino || set.Wino5 || set.Wino43 || len(forms) > 0, false
	for _, kk := range set.Kernels {
		copies = copies || kk.CopyRows
		deint = deint || kk.DeInterleave
	}
	if !set.Empty() {
		k.tail16 = masks(ctx)
	}
	if deint {
		k.poolIdx = deinterleave(ctx)
	}
	var winoK *winoConsts
	if len(forms) > 0 {
		winoK = newWinoConsts(ctx, forms)
	}
	for _, isa := range []gemm.ISA{gemm.AVX512, gemm.AVX2} {
		for _, kk := range set.Kernels {
			kk.emit(ctx, isa, &k)
		}
		if set.Wino {
			winoIn(ctx, isa)
			winoOut(ctx, isa)
		}
		if set.Wino5 {
			wino5In(ctx, isa)
			wino5Out(ctx, isa)
		}
		if set.Wino43 {
			wino43In(ctx, isa)
			wino43Out(ctx, isa)
		}
		for _, f := range forms {
			winoGenIn(ctx, isa, f, winoK)
			winoGenOut(ctx, isa, f, winoK)
		}
		if copies {
			copyRows(ctx, isa, k.tail16)
		}
	}
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

// WinoInName and WinoOutName name the Winograd transform kernels for isa.
func WinoInName(isa gemm.ISA) string  { return "vecWinoIn" + isa.String() }
func WinoOutName(isa gemm.ISA) string { return "vecWinoOut" + isa.String() }

// winoIn emits Winograd F(2x2, 3x3)'s input transform V = B^T d B for one
// padded plane whose columns are split by parity: even[y*ld+t] is column 2t
// of row y, odd[y*ld+t] column 2t+1. Tile (ty, tx) reads rows 2ty..2ty+3,
// columns 2tx..2tx+3, i.e. even and odd columns tx and tx+1, so for a fixed
// row of tiles every operation runs along tx, a vector of tiles at a time.
// ξ = 4i+j of tile t = ty*tw+tx goes to dst[ξ*ldDst + t]. Whole vectors are
// read and written: the caller leaves a vector's slack after the planes and
// after each of dst's rows.
func winoIn(ctx *build.Context, isa gemm.ISA) {
	winoInFrame(ctx, isa, WinoInName(isa), "3x3", nil, func(f *winoInBlock) {
		// column transform i of rows (r0..r3): which two rows and the sign.
		col := func(i int, base reg.Register, shift int) reg.VecVirtual {
			a := f.vec()
			switch i {
			case 0: // r0 - r2
				ctx.VMOVUPS(f.at(base, 0, shift), a)
				ctx.VSUBPS(f.at(base, 2, shift), a, a)
			case 1: // r1 + r2
				ctx.VMOVUPS(f.at(base, 1, shift), a)
				ctx.VADDPS(f.at(base, 2, shift), a, a)
			case 2: // r2 - r1
				ctx.VMOVUPS(f.at(base, 2, shift), a)
				ctx.VSUBPS(f.at(base, 1, shift), a, a)
			case 3: // r1 - r3
				ctx.VMOVUPS(f.at(base, 1, shift), a)
				ctx.VSUBPS(f.at(base, 3, shift), a, a)
			}
			return a
		}
		for i := range 4 {
			ee, ees, eo, eos := col(i, f.e, 0), col(i, f.e, 1), col(i, f.o, 0), col(i, f.o, 1)
			res := [4]reg.VecVirtual{f.vec(), f.vec(), f.vec(), f.vec()}
			ctx.VSUBPS(ees, ee, res[0]) // Ee - Ee'
			ctx.VADDPS(ees, eo, res[1]) // Eo + Ee'
			ctx.VSUBPS(eo, ees, res[2]) // Ee' - Eo
			ctx.VSUBPS(eos, eo, res[3]) // Eo - Eo'
			for j := range 4 {
				f.store(res[j])
			}
		}
	})
}

// winoInBlock is what a Winograd input transform's body gets for one vector
// of tiles: the even and odd planes' pointers at the tiles' first column,
// at (a row r of the tiles' window, a column shift in tiles), vec for a new
// vector register, and store, which writes the next point's vector.
type winoInBlock struct {
	e, o  reg.Register
	at    func(base reg.Register, r, shift int) operand.Mem
	vec   func() reg.VecVirtual
	store func(v reg.VecVirtual)
}

// winoInFrame emits an input transform kernel for F(2x2, size): the
// signature, the loop over rows of tiles (two input rows apart) and the
// loop over vectors of tiles along a row, in which body emits one vector's
// points in order. setup, if any, runs once before the loops (constants).
func winoInFrame(ctx *build.Context, isa gemm.ISA, name, size string, setup func(vec func() reg.VecVirtual), body func(f *winoInBlock)) {
	ctx.Function(name)
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst, even, odd *float32, th, tw, ld, ldDst int)")
	ctx.Doc(
		name+" is Winograd F(2x2,"+size+")'s input transform of one plane split into even and",
		"odd columns (row stride ld), th x tw tiles; V[ξ] of tile t goes to dst[ξ*ldDst+t].",
		"It reads and writes whole vectors past the ends (the caller leaves slack).",
	)
	lanes := isa.Lanes()
	vec := newVec(ctx, isa)
	dst := ctx.Load(ctx.Param("dst"), ctx.GP64())
	even := ctx.Load(ctx.Param("even"), ctx.GP64())
	odd := ctx.Load(ctx.Param("odd"), ctx.GP64())
	th := ctx.Load(ctx.Param("th"), ctx.GP64())
	ld := ctx.Load(ctx.Param("ld"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ld) // bytes
	ldD := ctx.Load(ctx.Param("ldDst"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ldD)
	ld3 := ctx.GP64()
	ctx.LEAQ(operand.Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	var ld5 reg.GPVirtual // F(2x2, 5x5)'s windows have 6 rows
	if size == "5x5" {
		ld5 = ctx.GP64()
		ctx.LEAQ(operand.Mem{Base: ld, Index: ld, Scale: 4}, ld5)
	}
	tw := paramAddr(ctx, "tw")
	if setup != nil {
		setup(vec)
	}

	// out is the dst position of the current vector of tiles.
	out := ctx.GP64()
	ctx.MOVQ(dst, out)
	ctx.Label("row")
	ctx.TESTQ(th, th)
	ctx.JZ(operand.LabelRef("done"))
	e, o, d, tx := ctx.GP64(), ctx.GP64(), ctx.GP64(), ctx.GP64()
	ctx.MOVQ(even, e)
	ctx.MOVQ(odd, o)
	ctx.MOVQ(out, d)
	ctx.XORQ(tx, tx)
	ctx.Label("tiles")
	p := ctx.GP64()
	ctx.MOVQ(d, p)
	body(&winoInBlock{e: e, o: o, at: winoRowAt(ld, ld3, ld5), vec: vec, store: func(v reg.VecVirtual) {
		ctx.VMOVUPS(v, operand.Mem{Base: p})
		ctx.ADDQ(ldD, p)
	}})
	ctx.ADDQ(operand.U32(4*lanes), e)
	ctx.ADDQ(operand.U32(4*lanes), o)
	ctx.ADDQ(operand.U32(4*lanes), d)
	ctx.ADDQ(operand.U32(lanes), tx)
	ctx.CMPQ(tx, tw)
	ctx.JL(operand.LabelRef("tiles"))
	// Next row of tiles: two input rows down, tw tiles on.
	ctx.LEAQ(operand.Mem{Base: even, Index: ld, Scale: 2}, even)
	ctx.LEAQ(operand.Mem{Base: odd, Index: ld, Scale: 2}, odd)
	t := ctx.GP64()
	ctx.MOVQ(tw, t)
	ctx.LEAQ(operand.Mem{Base: out, Index: t, Scale: 4}, out)
	ctx.DECQ(th)
	ctx.JMP(operand.LabelRef("row"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// winoRowAt returns the address of row r (0..5) of a window, column shift
// (in tiles) on from base, with rows ld bytes apart; ld3 and ld5 hold 3ld
// and 5ld (ld5 may be nil if row 5 is never asked for).
func winoRowAt(ld, ld3, ld5 reg.Register) func(base reg.Register, r, shift int) operand.Mem {
	return func(base reg.Register, r, shift int) operand.Mem {
		m := operand.Mem{Base: base, Disp: 4 * shift}
		switch r {
		case 1:
			m.Index, m.Scale = ld, 1
		case 2:
			m.Index, m.Scale = ld, 2
		case 3:
			m.Index, m.Scale = ld3, 1
		case 4:
			m.Index, m.Scale = ld, 4
		case 5:
			m.Index, m.Scale = ld5, 1
		}
		return m
	}
}

// winoOut emits Winograd F(2x2, 3x3)'s output transform Y = A^T m A for n
// tiles of one filter: m[ξ*step + t] is element ξ of tile t, and Y's four
// values of tile t go to y[k*ldY + t] (k = 2*dy + dx), with bias added and
// clamped below at lo: ReLU with lo 0, nothing with lo -Inf. VMAXPS
// returns its second source if either is NaN, so NaN propagates as in
// the GEMM kernels' ReLU.
// Every operation runs along t; whole vectors are read and written past n
// (the caller leaves slack).
func winoOut(ctx *build.Context, isa gemm.ISA) {
	lanes := isa.Lanes()
	vec, y, m, n, s, ldY := winoOutStart(ctx, isa, WinoOutName(isa), "F(2x2,3x3)")
	s4, s12 := ctx.GP64(), ctx.GP64()
	ctx.MOVQ(s, s4)
	ctx.SHLQ(operand.U8(2), s4)
	ctx.LEAQ(operand.Mem{Base: s4, Index: s4, Scale: 2}, s12)
	bias, lo := vec(), vec()
	ctx.VBROADCASTSS(paramAddr(ctx, "bias"), bias)
	ctx.VBROADCASTSS(paramAddr(ctx, "lo"), lo)

	ctx.Label("loop")
	ctx.TESTQ(n, n)
	ctx.JLE(operand.LabelRef("done"))
	var r0, r1 [4]reg.VecVirtual
	pj := ctx.GP64()
	ctx.MOVQ(m, pj)
	for j := range 4 {
		a, b, c, d := vec(), vec(), vec(), vec()
		ctx.VMOVUPS(operand.Mem{Base: pj}, a)                       // m[j]
		ctx.VMOVUPS(operand.Mem{Base: pj, Index: s4, Scale: 1}, b)  // m[4+j]
		ctx.VMOVUPS(operand.Mem{Base: pj, Index: s4, Scale: 2}, c)  // m[8+j]
		ctx.VMOVUPS(operand.Mem{Base: pj, Index: s12, Scale: 1}, d) // m[12+j]
		r0[j], r1[j] = vec(), vec()
		ctx.VADDPS(b, a, r0[j])
		ctx.VADDPS(c, r0[j], r0[j]) // m[j] + m[4+j] + m[8+j]
		ctx.VSUBPS(c, b, r1[j])
		ctx.VSUBPS(d, r1[j], r1[j]) // m[4+j] - m[8+j] - m[12+j]
		if j < 3 {
			ctx.ADDQ(s, pj)
		}
	}
	q := ctx.GP64()
	ctx.MOVQ(y, q)
	for _, r := range [2][4]reg.VecVirtual{r0, r1} {
		a, b := vec(), vec()
		ctx.VADDPS(r[1], r[0], a)
		ctx.VADDPS(r[2], a, a)
		ctx.VADDPS(bias, a, a) // r0 + r1 + r2 + bias
		ctx.VMAXPS(a, lo, a)   // max(lo, a), a if NaN
		ctx.VSUBPS(r[2], r[1], b)
		ctx.VSUBPS(r[3], b, b)
		ctx.VADDPS(bias, b, b) // r1 - r2 - r3 + bias
		ctx.VMAXPS(b, lo, b)
		ctx.VMOVUPS(a, operand.Mem{Base: q})
		ctx.ADDQ(ldY, q)
		ctx.VMOVUPS(b, operand.Mem{Base: q})
		ctx.ADDQ(ldY, q)
	}
	ctx.ADDQ(operand.U32(4*lanes), m)
	ctx.ADDQ(operand.U32(4*lanes), y)
	ctx.SUBQ(operand.U32(lanes), n)
	ctx.JMP(operand.LabelRef("loop"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// Wino5InName and Wino5OutName name the F(2x2, 5x5) transform kernels for
// isa.
func Wino5InName(isa gemm.ISA) string  { return "vecWino5In" + isa.String() }
func Wino5OutName(isa gemm.ISA) string { return "vecWino5Out" + isa.String() }

// wino5In emits Winograd F(2x2, 5x5)'s input transform V = B^T d B, with
//
//	B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
//	       0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
//
// laid out as winoIn's: tile (ty, tx) reads rows 2ty..2ty+5 and even and
// odd columns tx..tx+2, and ξ = 6i+j goes to dst[ξ*ldDst + t]. The
// arithmetic is winoB6's.
func wino5In(ctx *build.Context, isa gemm.ISA) {
	var two, four reg.VecVirtual
	setup := func(vec func() reg.VecVirtual) {
		two, four = vec(), vec()
		broadcast(ctx, 2, two)
		ctx.VADDPS(two, two, four)
	}
	winoInFrame(ctx, isa, Wino5InName(isa), "5x5", setup, func(f *winoInBlock) {
		// Column j of the tile is even (j even) or odd column tx + j/2.
		winoB6(ctx, two, four, f.vec, f.store, func(r, j int) operand.Mem {
			base := f.e
			if j%2 == 1 {
				base = f.o
			}
			return f.at(base, r, j/2)
		})
	})
}

// winoB6 emits V = B^T d B of one vector of 6x6 tiles for the points
// (0, ±1, ±2, ∞) that F(2x2, 5x5) and F(4x4, 3x3) share, storing V's 36
// rows in order ξ = 6i+j. src(r, j) is the memory operand of row r of the
// tiles' column j; two and four hold 2 and 4. For each row i of B^T, the
// six columns' B^T d values are computed from memory (FMAs with memory
// operands), then row i of (B^T d) B from those six registers, so that at
// most 11 vectors are live (AVX2 has 16 registers).
func winoB6(ctx *build.Context, two, four reg.VecVirtual, vec func() reg.VecVirtual, store func(reg.VecVirtual), src func(r, j int) operand.Mem) {
	// col is row i of B^T times column j of the tile.
	col := func(i, j int) reg.VecVirtual {
		at := func(r int) operand.Mem { return src(r, j) }
		a := vec()
		switch i {
		case 0: // d4 - d2 - 4d2 + 4d0
			ctx.VMOVUPS(at(4), a)
			ctx.VSUBPS(at(2), a, a)
			ctx.VFNMADD231PS(at(2), four, a)
			ctx.VFMADD231PS(at(0), four, a)
		case 1: // d4 - 4d2 + d3 - 4d1
			ctx.VMOVUPS(at(4), a)
			ctx.VFNMADD231PS(at(2), four, a)
			ctx.VADDPS(at(3), a, a)
			ctx.VFNMADD231PS(at(1), four, a)
		case 2: // d4 - 4d2 - d3 + 4d1
			ctx.VMOVUPS(at(4), a)
			ctx.VFNMADD231PS(at(2), four, a)
			ctx.VSUBPS(at(3), a, a)
			ctx.VFMADD231PS(at(1), four, a)
		case 3: // d4 - d2 + 2d3 - 2d1
			ctx.VMOVUPS(at(4), a)
			ctx.VSUBPS(at(2), a, a)
			ctx.VFMADD231PS(at(3), two, a)
			ctx.VFNMADD231PS(at(1), two, a)
		case 4: // d4 - d2 - 2d3 + 2d1
			ctx.VMOVUPS(at(4), a)
			ctx.VSUBPS(at(2), a, a)
			ctx.VFNMADD231PS(at(3), two, a)
			ctx.VFMADD231PS(at(1), two, a)
		case 5: // d5 - d3 - 4d3 + 4d1
			ctx.VMOVUPS(at(5), a)
			ctx.VSUBPS(at(3), a, a)
			ctx.VFNMADD231PS(at(3), four, a)
			ctx.VFMADD231PS(at(1), four, a)
		}
		return a
	}
	for i := range 6 {
		var x [6]reg.VecVirtual
		for j := range 6 {
			x[j] = col(i, j)
		}
		// Row i of (B^T d) B, as rtWino5InGo: a = x4 - 4x2, b = x3 - 4x1.
		a, b, r := vec(), vec(), vec()
		ctx.VMULPS(four, x[2], a)
		ctx.VSUBPS(a, x[4], a)
		ctx.VMULPS(four, x[1], b)
		ctx.VSUBPS(b, x[3], b)
		ctx.VSUBPS(x[2], a, r)
		ctx.VFMADD231PS(x[0], four, r) // a - x2 + 4x0
		store(r)
		ctx.VADDPS(b, a, r) // a + b
		store(r)
		ctx.VSUBPS(b, a, r) // a - b
		store(r)
		cc, ee := vec(), vec()
		ctx.VSUBPS(x[2], x[4], cc) // x4 - x2
		ctx.VSUBPS(x[1], x[3], ee)
		ctx.VADDPS(ee, ee, ee) // 2(x3 - x1)
		ctx.VADDPS(ee, cc, r)
		store(r)
		ctx.VSUBPS(ee, cc, r)
		store(r)
		ctx.VSUBPS(b, x[5], r)          // x5 - b
		ctx.VFNMADD231PS(x[3], four, r) // - 4x3
		store(r)
	}
}

// wino5Out emits Winograd F(2x2, 5x5)'s output transform max(Y + bias, lo),
// Y = A^T m A, with A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 1], laid out as winoOut's (m[ξ*step
// + t] is element ξ = 6i+j of tile t). Each output row dy is computed on
// its own from memory, so that at most a dozen vectors are live.
func wino5Out(ctx *build.Context, isa gemm.ISA) {
	lanes := isa.Lanes()
	vec, y, m, n, s, ldY := winoOutStart(ctx, isa, Wino5OutName(isa), "F(2x2,5x5)")
	rowMem := sixRows(ctx, s)
	bias, lo, two := vec(), vec(), vec()
	ctx.VBROADCASTSS(paramAddr(ctx, "bias"), bias)
	ctx.VBROADCASTSS(paramAddr(ctx, "lo"), lo)
	broadcast(ctx, 2, two)
	// at0 is A^T's row 0 applied to v0..v5 into a: v0 + v1 + v2 + v3 + v4;
	// at1 its row 1: v1 - v2 + 2(v3 - v4) + v5. Each v is a register or
	// memory operand.
	at0 := func(v [6]operand.Op, a reg.VecVirtual) {
		ctx.VADDPS(v[1], load(ctx, v[0], a), a)
		ctx.VADDPS(v[2], a, a)
		ctx.VADDPS(v[3], a, a)
		ctx.VADDPS(v[4], a, a)
	}
	at1 := func(v [6]operand.Op, a reg.VecVirtual) {
		t := vec()
		ctx.VSUBPS(v[4], load(ctx, v[3], t), t)
		ctx.VSUBPS(v[2], load(ctx, v[1], a), a)
		ctx.VFMADD231PS(t, two, a)
		ctx.VADDPS(v[5], a, a)
	}

	ctx.Label("loop5")
	ctx.TESTQ(n, n)
	ctx.JLE(operand.LabelRef("done5"))
	q := ctx.GP64()
	ctx.MOVQ(y, q)
	for _, rowT := range []func([6]operand.Op, reg.VecVirtual){at0, at1} {
		var r [6]operand.Op
		pj := ctx.GP64()
		ctx.MOVQ(m, pj)
		for j := range 6 {
			var v [6]operand.Op
			for i := range 6 {
				v[i] = rowMem(pj, i)
			}
			a := vec()
			rowT(v, a)
			r[j] = a
			if j < 5 {
				ctx.ADDQ(s, pj)
			}
		}
		for _, colT := range []func([6]operand.Op, reg.VecVirtual){at0, at1} {
			a := vec()
			colT(r, a)
			ctx.VADDPS(bias, a, a)
			ctx.VMAXPS(a, lo, a) // max(lo, a), a if NaN
			ctx.VMOVUPS(a, operand.Mem{Base: q})
			ctx.ADDQ(ldY, q)
		}
	}
	ctx.ADDQ(operand.U32(4*lanes), m)
	ctx.ADDQ(operand.U32(4*lanes), y)
	ctx.SUBQ(operand.U32(lanes), n)
	ctx.JMP(operand.LabelRef("loop5"))
	ctx.Label("done5")
	ctx.VZEROUPPER()
	ctx.RET()
}

// Wino43InName and Wino43OutName name the F(4x4, 3x3) transform kernels
// for isa.
func Wino43InName(isa gemm.ISA) string  { return "vecWino43In" + isa.String() }
func Wino43OutName(isa gemm.ISA) string { return "vecWino43Out" + isa.String() }

// wino43In emits Winograd F(4x4, 3x3)'s input transform V = B^T d B for
// one row of 6x6 tiles stepping by 4, with wino5In's B^T (the same points).
// The padded plane's columns are split by column mod 4: pq[y*ld + t] is
// column 4t+q of window row y (0..5), so tile tx is columns tx of p0..p3
// and tx+1 of p0 and p1, and every operation runs along tx, a vector of
// tiles at a time. ξ = 6i+j of tile tx goes to dst[ξ*ldDst + tx]. Whole
// vectors are read and written past tw (the caller leaves slack).
func wino43In(ctx *build.Context, isa gemm.ISA) {
	name := Wino43InName(isa)
	ctx.Function(name)
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst, p0, p1, p2, p3 *float32, tw, ld, ldDst int)")
	ctx.Doc(
		name+" is Winograd F(4x4,3x3)'s input transform of one row of tw tiles of a plane split",
		"by column mod 4 (p0..p3, rows ld apart); V[ξ] of tile t goes to dst[ξ*ldDst+t].",
		"It reads and writes whole vectors past the ends (the caller leaves slack).",
	)
	lanes := isa.Lanes()
	vec := newVec(ctx, isa)
	d := ctx.Load(ctx.Param("dst"), ctx.GP64())
	var p [4]reg.Register
	for q := range p {
		p[q] = ctx.Load(ctx.Param(fmt.Sprintf("p%d", q)), ctx.GP64())
	}
	tw := ctx.Load(ctx.Param("tw"), ctx.GP64())
	ld := ctx.Load(ctx.Param("ld"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ld) // bytes
	ldD := ctx.Load(ctx.Param("ldDst"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ldD)
	ld3, ld5 := ctx.GP64(), ctx.GP64()
	ctx.LEAQ(operand.Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	ctx.LEAQ(operand.Mem{Base: ld, Index: ld, Scale: 4}, ld5)
	at := winoRowAt(ld, ld3, ld5)
	two, four := vec(), vec()
	broadcast(ctx, 2, two)
	ctx.VADDPS(two, two, four)

	tx := ctx.GP64()
	ctx.XORQ(tx, tx)
	ctx.Label("tiles")
	ctx.CMPQ(tx, tw)
	ctx.JGE(operand.LabelRef("done"))
	o := ctx.GP64()
	ctx.MOVQ(d, o)
	// Column j of the tiles is plane j%4 at column tx + j/4.
	winoB6(ctx, two, four, vec, func(v reg.VecVirtual) {
		ctx.VMOVUPS(v, operand.Mem{Base: o})
		ctx.ADDQ(ldD, o)
	}, func(r, j int) operand.Mem { return at(p[j%4], r, j/4) })
	for _, q := range p {
		ctx.ADDQ(operand.U32(4*lanes), q)
	}
	ctx.ADDQ(operand.U32(4*lanes), d)
	ctx.ADDQ(operand.U32(lanes), tx)
	ctx.JMP(operand.LabelRef("tiles"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// wino43Out emits Winograd F(4x4, 3x3)'s output transform max(Y + bias,
// lo), Y = A^T m A with
//
//	A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1],
//
// laid out as wino5Out's (m[ξ*step + t] is element ξ = 6i+j of tile t) with
// 16 outputs, k = 4dy+dx. A^T's column 1 is all ones, so bias added to
// m[7] (i = j = 1) reaches every output once: that is the only bias add.
// The column transforms (over i) of all six columns come first, from
// memory, then each output row's transform (over j) from registers. AVX-512
// does all four rows dy at once (29 vector registers); AVX2 does rows {0,
// 2} (which share m1+m2 and m3+m4) and then {1, 3} (m1-m2, m3-m4), in 15.
func wino43Out(ctx *build.Context, isa gemm.ISA) {
	lanes := isa.Lanes()
	wide := isa == gemm.AVX512
	vec, y, m, n, s, ldY := winoOutStart(ctx, isa, Wino43OutName(isa), "F(4x4,3x3)")
	rowMem := sixRows(ctx, s)
	// Output row k = 4dy+dx is at q + dx*ldY with q = y + dy*ldY4.
	ldY3, ldY4 := ctx.GP64(), ctx.GP64()
	ctx.LEAQ(operand.Mem{Base: ldY, Index: ldY, Scale: 2}, ldY3)
	ctx.MOVQ(ldY, ldY4)
	ctx.SHLQ(operand.U8(2), ldY4)
	biasAddr := paramAddr(ctx, "bias")
	lo, four := vec(), vec()
	ctx.VBROADCASTSS(paramAddr(ctx, "lo"), lo)
	broadcast(ctx, 4, four)
	var two, eight reg.VecVirtual
	groups := [][]int{{0, 2}, {1, 3}}
	if wide {
		two, eight = vec(), vec()
		ctx.VADDPS(four, four, eight)
		broadcast(ctx, 2, two)
		groups = [][]int{{0, 1, 2, 3}}
	}
	// at applies A^T's rows in g to v0..v5 (registers, which it may
	// overwrite, or memory), adding bias to v1 first if withBias: with a =
	// v1+v2, b = v1-v2, c = v3+v4, d = v3-v4, row 0 is v0+a+c, row 1 b+2d,
	// row 2 a+4c and row 3 b+8d+v5. g is {0, 2}, {1, 3} or all four.
	at := func(g []int, v [6]operand.Op, withBias bool) (out [4]reg.VecVirtual) {
		even, odd := g[0] == 0, len(g) == 4 || g[0] == 1
		// sumDiff returns x+y and x-y for the rows in g, x loaded first.
		sumDiff := func(x, y operand.Op, withBias bool) (sum, diff reg.VecVirtual) {
			x1 := load(ctx, x, vec())
			if withBias {
				t := vec()
				ctx.VBROADCASTSS(biasAddr, t)
				ctx.VADDPS(t, x1, x1)
			}
			if even {
				sum = x1
				if odd {
					sum = vec()
				}
				ctx.VADDPS(y, x1, sum)
			}
			if odd {
				diff = x1
				ctx.VSUBPS(y, x1, diff)
			}
			return sum, diff
		}
		a, b := sumDiff(v[1], v[2], withBias)
		c, d := sumDiff(v[3], v[4], false)
		if even {
			out[0] = vec()
			ctx.VADDPS(v[0], a, out[0])
			ctx.VADDPS(c, out[0], out[0]) // v0 + a + c
			ctx.VFMADD231PS(c, four, a)   // a + 4c
			out[2] = a
		}
		if odd && wide {
			out[3] = vec()
			ctx.VADDPS(v[5], b, out[3])
			ctx.VFMADD231PS(d, eight, out[3]) // b + v5 + 8d
			ctx.VFMADD231PS(d, two, b)        // b + 2d
			out[1] = b
		} else if odd {
			ctx.VADDPS(d, d, d) // 2d
			out[1] = vec()
			ctx.VADDPS(d, b, out[1])    // b + 2d
			ctx.VFMADD231PS(d, four, b) // b + 8d
			ctx.VADDPS(v[5], b, b)      // + v5
			out[3] = b
		}
		return out
	}

	ctx.Label("loop")
	ctx.TESTQ(n, n)
	ctx.JLE(operand.LabelRef("done"))
	for _, g := range groups {
		// r[dy][j]: row dy of A^T times column j of m.
		var r [4][6]reg.VecVirtual
		pj := ctx.GP64()
		ctx.MOVQ(m, pj)
		for j := range 6 {
			var v [6]operand.Op
			for i := range 6 {
				v[i] = rowMem(pj, i)
			}
			out := at(g, v, j == 1)
			for _, dy := range g {
				r[dy][j] = out[dy]
			}
			if j < 5 {
				ctx.ADDQ(s, pj)
			}
		}
		for _, dy := range g {
			var v [6]operand.Op
			for j := range 6 {
				v[j] = r[dy][j]
			}
			out := at([]int{0, 1, 2, 3}, v, false)
			q := ctx.GP64()
			switch dy {
			case 0:
				ctx.MOVQ(y, q)
			case 1, 2:
				ctx.LEAQ(operand.Mem{Base: y, Index: ldY4, Scale: uint8(dy)}, q)
			case 3:
				ctx.LEAQ(operand.Mem{Base: y, Index: ldY4, Scale: 2}, q)
				ctx.ADDQ(ldY4, q)
			}
			for dx, a := range out {
				ctx.VMAXPS(a, lo, a) // max(lo, a), a if NaN
				dst := operand.Mem{Base: q}
				switch dx {
				case 1:
					dst.Index, dst.Scale = ldY, 1
				case 2:
					dst.Index, dst.Scale = ldY, 2
				case 3:
					dst.Index, dst.Scale = ldY3, 1
				}
				ctx.VMOVUPS(a, dst)
			}
		}
	}
	ctx.ADDQ(operand.U32(4*lanes), m)
	ctx.ADDQ(operand.U32(4*lanes), y)
	ctx.SUBQ(operand.U32(lanes), n)
	ctx.JMP(operand.LabelRef("loop"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// sixRows emits the strides of the six rows of a 6x6 tile's GEMM results,
// 6i steps of s bytes apart (s6, s18 = 3*s6 and s30 = 5*s6, which scales
// 1, 2 and 4 make reach all six), and returns row i's operand from base.
func sixRows(ctx *build.Context, s reg.Register) func(base reg.Register, i int) operand.Mem {
	s6, s18, s30 := ctx.GP64(), ctx.GP64(), ctx.GP64()
	ctx.LEAQ(operand.Mem{Base: s, Index: s, Scale: 2}, s6)
	ctx.ADDQ(s6, s6)
	ctx.LEAQ(operand.Mem{Base: s6, Index: s6, Scale: 2}, s18)
	ctx.LEAQ(operand.Mem{Base: s6, Index: s6, Scale: 4}, s30)
	return func(base reg.Register, i int) operand.Mem {
		switch i {
		case 1:
			return operand.Mem{Base: base, Index: s6, Scale: 1}
		case 2:
			return operand.Mem{Base: base, Index: s6, Scale: 2}
		case 3:
			return operand.Mem{Base: base, Index: s18, Scale: 1}
		case 4:
			return operand.Mem{Base: base, Index: s6, Scale: 4}
		case 5:
			return operand.Mem{Base: base, Index: s30, Scale: 1}
		}
		return operand.Mem{Base: base}
	}
}

// load returns v as a register: v itself, or a after loading memory v
// into it.
func load(ctx *build.Context, v operand.Op, a reg.VecVirtual) reg.VecVirtual {
	if r, ok := v.(reg.VecVirtual); ok {
		return r
	}
	ctx.VMOVUPS(v, a)
	return a
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
// element 2n+1.
//
// VMAXPS returns its second source when either is NaN, so each max is
// followed by a fix-up: the lanes where the operands compare unordered get
// their sum, a NaN.
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
	// nanMax sets a to max(a, b), NaN where either is (in place, so that
	// it can run in a loop).
	nanMax := func(a, b reg.VecVirtual) {
		sum := vec()
		ctx.VADDPS(b, a, sum)
		if avx512 {
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
		cnt := ctx.GP64()
		ctx.MOVQ(n, cnt)
		ctx.CMPQ(cnt, sixteen)
		ctx.CMOVQGT(sixteen, cnt)
		ctx.KMOVW(operand.Mem{Base: tbl, Index: cnt, Scale: 2}, kst)
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

// winoOutStart declares a Winograd output transform kernel for alg
// ("F(2x2,3x3)") and loads its parameters: the tiles' results m (ξ step bytes
// apart), the output y (rows ldY bytes apart) and the tile count n. vec
// makes a vector register of isa's width.
func winoOutStart(ctx *build.Context, isa gemm.ISA, name, alg string) (vec func() reg.VecVirtual, y, m, n, s, ldY reg.Register) {
	ctx.Function(name)
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(y, m *float32, n, step, ldY int, bias, lo float32)")
	ctx.Doc(
		name+" is Winograd "+alg+"'s output transform of n tiles: m[ξ*step+t] in,",
		"y[k*ldY+t] = max((A^T m A)[k] + bias, lo) out (NaN propagates). It reads and writes whole",
		"vectors past n.",
	)
	vec = newVec(ctx, isa)
	y = ctx.Load(ctx.Param("y"), ctx.GP64())
	m = ctx.Load(ctx.Param("m"), ctx.GP64())
	n = ctx.Load(ctx.Param("n"), ctx.GP64())
	s = ctx.Load(ctx.Param("step"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), s)
	ldY = ctx.Load(ctx.Param("ldY"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ldY)
	return vec, y, m, n, s, ldY
}
