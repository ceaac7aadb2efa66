package vec

import (
	"fmt"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/cnnc/cnnc/asmgen/gemm"
)

// TallRows is how many output rows vecDepthwiseTall computes together.
const TallRows = 4

// A TallShape is a vecDepthwiseTall routine's rows of taps: H0 that
// consecutive output rows read a staged row apart, and H1 more in a
// second phase plane. A kernel of height kh at vertical stride 1 is
// {kh, 0}; at stride 2 its even rows of taps read one phase plane of
// the staged input and its odd rows the other: {(kh+1)/2, kh/2}.
type TallShape struct{ H0, H1 int }

// TallShapes lists the shapes that have a vecDepthwiseTall routine: 3x3,
// 5x5 and 7x7 kernels at vertical stride 1 and 2.
var TallShapes = []TallShape{{3, 0}, {5, 0}, {7, 0}, {2, 1}, {3, 2}, {4, 3}}

// DepthwiseTallName names the depthwise kernel of shape t that computes
// TallRows output rows at once, for isa.
func DepthwiseTallName(isa gemm.ISA, t TallShape) string {
	return fmt.Sprintf("vecDepthwiseTall%d%d%s", t.H0, t.H1, isa)
}

// tall emits vecDepthwiseTall for shape t: a depthwise convolution at
// vertical dilation 1 and stride 1 or 2 over a channel staged by
// codegen/rt's rtDWStage, TallRows output rows at a time. Its Go
// equivalent, for rows a multiple of TallRows, is
//
//	for r := range rows {
//		for q := range cols {
//			v := bias
//			for kx := range kw {
//				for g, h := range []int{t.H0, t.H1} {
//					for j := range h {
//						v += w[g*kw+j*ldW+kx] * s[(r+j)*ldS+q+offs[g*kw+kx]] // an FMA
//					}
//				}
//			}
//			d[r*ldD+q] = act(v) // see activate
//		}
//	}
//
// For a kernel kh high at stride 1, ldW is kw; at stride 2 it is 2*kw, so
// that group g's row j is the kernel's row 2j+g, and offs[g*kw+kx] is
// where tap (g, kx) of output (0, 0) lies in the staged input, in its
// phase plane g (rtDWGeom.offs).
// vecDepthwise loads every tap of every output from memory: a load, often
// of two cache lines, per FMA, and loads are what bound it (on Zen 4 a
// 512-bit load takes both load ports). Here output rows r and r+1 read
// the same input row for taps ky+1 and ky: per column of taps kx, the kh
// weights are broadcast once, and each of the TallRows+kh-1 input rows'
// vectors is loaded once and serves up to kh output rows. With 2 vectors
// of columns that is (TallRows+kh-1)*2+kh loads for TallRows*kh*2 FMAs:
// 15 for 24 with a 3x3 kernel, 21 for 40 with 5x5, where vecDepthwise
// takes 5 for 4. At stride 2 each phase plane's rows are shared so.
//
// A row goes 2 vectors at a time (1 on AVX2 with kh = 7, for want of
// registers), then its last 1 or 2. On AVX-512 the last vector's store is
// masked; on AVX2 it ends at the row's end, overlapping the one before,
// so cols must be at least 8. Loads are whole vectors, up to lanes-1
// values past the last needed.
func tall(ctx *build.Context, isa gemm.ISA, t TallShape, tail16 operand.Mem, pool *gemm.ConstPool) {
	name := DepthwiseTallName(isa, t)
	ctx.Function(name)
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(d, s, w *float32, offs *int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32)")
	L := isa.Lanes()
	avx512 := isa == gemm.AVX512
	R := TallRows
	nbMax := 2
	if !avx512 && 2*R+t.H0+2 > 16 {
		nbMax = 1
	}
	cond := "It writes nothing past d[(rows-1)*ldD+cols-1]."
	if !avx512 {
		cond = "cols must be at least 8; it writes nothing past d[(rows-1)*ldD+cols-1]."
	}
	ctx.Doc(
		fmt.Sprintf("%s computes d[r*ldD+q] = act(bias + Σ_kx Σ_g Σ_j w[g*kw+j*ldW+kx]*s[(r+j)*ldS+q+offs[g*kw+kx]])", name),
		fmt.Sprintf("for r < rows (a multiple of %d), q < cols, kx < kw, j < %d for g = 0 and j < %d for g = 1,", R, t.H0, t.H1),
		fmt.Sprintf("with vecDepthwise's act, %d rows at a time. It reads s to %d values past the last it", R, L-1),
		"needs. "+cond,
	)
	vec := newVec(ctx, isa)
	d := ctx.Load(ctx.Param("d"), ctx.GP64())
	s := ctx.Load(ctx.Param("s"), ctx.GP64())
	rows := ctx.Load(ctx.Param("rows"), ctx.GP64())
	cols, act := paramAddr(ctx, "cols"), paramAddr(ctx, "act")
	q, rem := ctx.GP64(), ctx.GP64()

	// block emits nb vectors of columns of the R rows from column q; tail
	// marks a row's last block, which computes rem columns (in
	// ((nb-1)*L, nb*L]).
	block := func(prefix string, nb int, tail bool) {
		// The column each vector starts at: q, q+L, and on AVX2's last
		// block cols-L.
		var last reg.GPVirtual
		if tail && !avx512 {
			last = ctx.GP64()
			ctx.MOVQ(cols, last)
			ctx.SUBQ(operand.U32(L), last)
		}
		col := func(base reg.Register, i int) operand.Mem {
			if last != nil && i == nb-1 {
				return operand.Mem{Base: base, Index: last, Scale: 4}
			}
			return operand.Mem{Base: base, Index: q, Scale: 4, Disp: 4 * L * i}
		}
		acc := make([][]reg.VecVirtual, R)
		var all []reg.VecVirtual
		for r := range acc {
			for range nb {
				a := vec()
				if len(all) == 0 {
					ctx.VBROADCASTSS(paramAddr(ctx, "bias"), a)
				} else {
					ctx.VMOVAPS(all[0], a)
				}
				acc[r] = append(acc[r], a)
				all = append(all, a)
			}
		}
		to, tw, tc, kw4, ldS4, ldW4 := ctx.GP64(), ctx.GP64(), ctx.GP64(), ctx.GP64(), ctx.GP64(), ctx.GP64()
		ctx.MOVQ(paramAddr(ctx, "offs"), to)
		ctx.MOVQ(paramAddr(ctx, "w"), tw)
		ctx.MOVQ(paramAddr(ctx, "kw"), tc)
		ctx.MOVQ(tc, kw4)
		ctx.SHLQ(operand.U8(2), kw4)
		ctx.MOVQ(paramAddr(ctx, "ldS"), ldS4)
		ctx.SHLQ(operand.U8(2), ldS4)
		ctx.MOVQ(paramAddr(ctx, "ldW"), ldW4)
		ctx.SHLQ(operand.U8(2), ldW4)

		// One column of taps, kx: per group, its weights, then the input
		// rows.
		ctx.Label(prefix + "kx")
		for g, h := range []int{t.H0, t.H1} {
			if h == 0 {
				continue
			}
			wv := make([]reg.VecVirtual, h)
			p := ctx.GP64()
			ctx.MOVQ(tw, p)
			if g > 0 {
				ctx.ADDQ(kw4, p)
			}
			for j := range wv {
				wv[j] = vec()
				ctx.VBROADCASTSS(operand.Mem{Base: p}, wv[j])
				if j < h-1 {
					ctx.ADDQ(ldW4, p)
				}
			}
			if g > 0 {
				ctx.MOVQ(operand.Mem{Base: to, Index: kw4, Scale: 2}, p) // offs[kw+kx]
			} else {
				ctx.MOVQ(operand.Mem{Base: to}, p)
			}
			ctx.LEAQ(operand.Mem{Base: s, Index: p, Scale: 4}, p)
			for i := range R + h - 1 { // input row i
				x := make([]reg.VecVirtual, nb)
				for j := range x {
					x[j] = vec()
					ctx.VMOVUPS(col(p, j), x[j])
				}
				// Output row r reads input row i with the weights of row i-r.
				for r := max(0, i-h+1); r <= min(R-1, i); r++ {
					for j, a := range acc[r] {
						ctx.VFMADD231PS(x[j], wv[i-r], a)
					}
				}
				if i < R+h-2 {
					ctx.ADDQ(ldS4, p)
				}
			}
		}
		ctx.ADDQ(operand.U32(8), to)
		ctx.ADDQ(operand.U32(4), tw)
		ctx.DECQ(tc)
		ctx.JNZ(operand.LabelRef(prefix + "kx"))

		zero, slope, hi := vec(), vec(), vec()
		ctx.VBROADCASTSS(paramAddr(ctx, "slope"), slope)
		ctx.VBROADCASTSS(paramAddr(ctx, "hi"), hi)
		ctx.VXORPS(zero.AsY(), zero.AsY(), zero.AsY()) // zeroes the whole register
		activate(ctx, isa, pool, prefix, act, all, zero, slope, hi, vec)

		var k reg.Register
		if tail && avx512 {
			// The last vector stores rem-(nb-1)*L columns.
			n, tbl := ctx.GP64(), ctx.GP64()
			ctx.MOVQ(rem, n)
			if nb > 1 {
				ctx.SUBQ(operand.U32((nb-1)*L), n)
			}
			ctx.LEAQ(tail16, tbl)
			k = ctx.K()
			ctx.KMOVW(operand.Mem{Base: tbl, Index: n, Scale: 2}, k)
		}
		ldD4, dp := ctx.GP64(), ctx.GP64()
		ctx.MOVQ(paramAddr(ctx, "ldD"), ldD4)
		ctx.SHLQ(operand.U8(2), ldD4)
		ctx.MOVQ(d, dp)
		for r := range acc {
			for j, a := range acc[r] {
				if k != nil && j == nb-1 {
					ctx.VMOVUPS(a, k, col(dp, j))
				} else {
					ctx.VMOVUPS(a, col(dp, j))
				}
			}
			if r < R-1 {
				ctx.ADDQ(ldD4, dp)
			}
		}
	}

	ctx.Label("row")
	ctx.CMPQ(rows, operand.U32(R))
	ctx.JL(operand.LabelRef("done"))
	ctx.XORQ(q, q)
	ctx.Label("block")
	ctx.MOVQ(cols, rem)
	ctx.SUBQ(q, rem)
	ctx.JLE(operand.LabelRef("next"))
	ctx.CMPQ(rem, operand.U32(nbMax*L))
	ctx.JLE(operand.LabelRef("tail"))
	block("full", nbMax, false)
	ctx.ADDQ(operand.U32(nbMax*L), q)
	ctx.JMP(operand.LabelRef("block"))
	ctx.Label("tail")
	if nbMax == 2 {
		ctx.CMPQ(rem, operand.U32(L))
		ctx.JLE(operand.LabelRef("tail1"))
		block("t2", 2, true)
		ctx.JMP(operand.LabelRef("next"))
		ctx.Label("tail1")
	}
	block("t1", 1, true)

	ctx.Label("next")
	step := ctx.GP64()
	ctx.MOVQ(paramAddr(ctx, "ldD"), step)
	ctx.SHLQ(operand.U8(2+2), step) // R = 4 rows
	ctx.ADDQ(step, d)
	ctx.MOVQ(paramAddr(ctx, "ldS"), step)
	ctx.SHLQ(operand.U8(2+2), step)
	ctx.ADDQ(step, s)
	ctx.SUBQ(operand.U32(R), rows)
	ctx.JMP(operand.LabelRef("row"))

	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}
