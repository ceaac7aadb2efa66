package vec

import (
	"fmt"

	"github.com/cnnc/cnnc/asmgen/arm64"
	"github.com/cnnc/cnnc/asmgen/gemm"
)

// neonDWBlock is the most vectors of outputs vecDepthwiseNEON computes
// together: eight independent chains of FMAs, each tap's weight read by
// lane (FMLA by element) so that it needs no broadcast.
const neonDWBlock = 8

// neonDepthwise writes vecDepthwiseNEON, depthwise's counterpart (same
// contract and Go equivalent). A row goes eight vectors at a time, then
// four, then one; the row's last vector, when fewer than four outputs are
// left, ends at the row's end, overlapping the one before, or with cols <
// 4 is whole. Loads are whole vectors, up to 3 values past the last
// needed (rtDWSlack). The activation is neonAct's, shared with the
// elementwise kernels.
func neonDepthwise(f *neonFile) {
	name := DepthwiseName(gemm.NEON)
	fn := f.function(name, "func(d, s, w *float32, offs *int, taps, rows, cols, ldD, ldS, act int, bias, slope, hi float32)",
		name+" computes d[r*ldD+q] = act(bias + Σ_t w[t]*s[r*ldS+q+offs[t]]) for",
		"r < rows, q < cols, t < taps, with act(v) = v for act 0, max(v, 0) for act 1,",
		"max(v, 0) + slope*min(v, 0) for act 2, min(max(v, slope), hi) for act 3,",
		"v*min(max(v/6+1/2, 0), 1) for act 4, 1/(1+e^-v) for act 5 and v/(1+e^-v) for act 6.",
		"It reads s to 3 values past the last it needs. It writes nothing past",
		"d[(rows-1)*ldD+cols-1] if cols >= 4, else whole vectors.")
	const (
		d, s, rows, cols, ldD, ldS = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5)
		q, rem, tw, to, tc, off    = arm64.Reg(7), arm64.Reg(8), arm64.Reg(10), arm64.Reg(11), arm64.Reg(12), arm64.Reg(13)
		p, pa, pd, last            = arm64.Reg(14), arm64.Reg(15), arm64.Reg(19), arm64.Reg(20)
		// V0-V7 accumulate, V8-V15 take the loads, V16 the tap's weight.
		load, wv, bias = arm64.V(8), arm64.V(16), arm64.V(17)
	)
	a := neonAct{act: 6, tmp: 9, zero: 18, slope: 19, hi: 20, one: 21,
		consts: [4]arm64.V{22, 23, 24, 25}, t: [4]arm64.V{26, 27, 28, 29}}
	fn.Op("MOVD", fn.arg("d"), d)
	fn.Op("MOVD", fn.arg("s"), s)
	fn.Op("MOVD", fn.arg("rows"), rows)
	fn.Op("MOVD", fn.arg("cols"), cols)
	fn.Op("MOVD", fn.arg("ldD"), ldD)
	fn.Op("LSL", "$2", ldD, ldD)
	fn.Op("MOVD", fn.arg("ldS"), ldS)
	fn.Op("LSL", "$2", ldS, ldS)
	fn.Op("FMOVS", fn.arg("bias"), bias.F())
	fn.Op("VDUP", bias.S(0), bias.S4())
	a.setup(fn, "act")
	// last is the byte offset of the row's last vector: cols-4, or 0 when
	// cols < 4.
	fn.Op("MOVD", "$0", last)
	fn.Op("CMP", "$4", cols)
	fn.Op("BLT", "row")
	fn.Op("SUB", "$4", cols, last)
	fn.Op("LSL", "$2", last, last)

	// block writes nb vectors of outputs from byte offset q of the row.
	block := func(prefix string, nb int) {
		fn.Op("ADD", q, s, p)
		for i := range arm64.V(nb) {
			fn.Op("VMOV", bias.B16(), i.B16())
		}
		fn.Op("MOVD", fn.arg("w"), tw)
		fn.Op("MOVD", fn.arg("offs"), to)
		fn.Op("MOVD", fn.arg("taps"), tc)
		fn.Label(prefix + "tap")
		fn.Op("MOVD.P", fmt.Sprintf("8(%v)", to), off)
		fn.Op("FMOVS.P", fmt.Sprintf("4(%v)", tw), wv.F())
		fn.Op("ADD", fmt.Sprintf("%v<<2", off), p, pa)
		for i := 0; i < nb; i += 4 {
			n := min(4, nb-i)
			if i+n < nb {
				fn.Op("VLD1.P", fmt.Sprintf("%d(%v)", 16*n, pa), (load+arm64.V(i)).List(n, "S4"))
			} else {
				fn.Op("VLD1", fmt.Sprintf("(%v)", pa), (load+arm64.V(i)).List(n, "S4"))
			}
		}
		for i := range arm64.V(nb) {
			fn.Word(arm64.FMLAElem(i, load+i, wv, 0))
		}
		fn.Op("SUBS", "$1", tc, tc)
		fn.Op("BNE", prefix+"tap")
		acc := make([]arm64.V, nb)
		for i := range acc {
			acc[i] = arm64.V(i)
		}
		a.emit(fn, prefix, acc)
		fn.Op("ADD", q, d, pd)
		for i := 0; i < nb; i += 4 {
			n := min(4, nb-i)
			if i+n < nb {
				fn.Op("VST1.P", arm64.V(i).List(n, "S4"), fmt.Sprintf("%d(%v)", 16*n, pd))
			} else {
				fn.Op("VST1", arm64.V(i).List(n, "S4"), fmt.Sprintf("(%v)", pd))
			}
		}
	}

	fn.Label("row")
	fn.Op("CMP", "$0", rows)
	fn.Op("BLE", "done")
	fn.Op("MOVD", "$0", q)
	fn.Op("MOVD", cols, rem)
	fn.Label("by8")
	fn.Op("CMP", fmt.Sprintf("$%d", 4*neonDWBlock), rem)
	fn.Op("BLT", "by4")
	block("b8", neonDWBlock)
	fn.Op("ADD", fmt.Sprintf("$%d", 16*neonDWBlock), q, q)
	fn.Op("SUB", fmt.Sprintf("$%d", 4*neonDWBlock), rem, rem)
	fn.Op("B", "by8")
	fn.Label("by4")
	fn.Op("CMP", "$16", rem)
	fn.Op("BLT", "by1")
	block("b4", 4)
	fn.Op("ADD", "$64", q, q)
	fn.Op("SUB", "$16", rem, rem)
	fn.Label("by1")
	fn.Op("CMP", "$0", rem)
	fn.Op("BLE", "next")
	fn.Op("CMP", "$4", rem)
	fn.Op("BGE", "one")
	fn.Op("MOVD", last, q) // the row's last vector
	fn.Label("one")
	block("b1", 1)
	fn.Op("ADD", "$16", q, q)
	fn.Op("SUB", "$4", rem, rem)
	fn.Op("B", "by1")
	fn.Label("next")
	fn.Op("ADD", ldD, d, d)
	fn.Op("ADD", ldS, s, s)
	fn.Op("SUB", "$1", rows, rows)
	fn.Op("B", "row")
	fn.Label("done")
	fn.Op("RET")
}

// neonEvens writes vecEvensNEON, evens' counterpart: VLD2 splits eight
// elements of a row into its evens and odds. A row goes (n-1)/4 whole
// vectors, reading to element 2j+7 <= 2n-3, then a last vector of
// outputs n-4..n-1 that loads from 2n-9, so that its odd elements are the
// evens wanted and its last element is 2n-2; rows of fewer than 5 outputs
// go element by element.
func neonEvens(f *neonFile) {
	name := EvensName(gemm.NEON)
	fn := f.function(name, "func(dst, src *float32, rows, n, ldDst, ldSrc int)",
		name+" sets dst[r*ldDst+j] = src[r*ldSrc+2j] for r < rows, j < n, reading",
		"and writing no element past the last of these in each row.")
	const (
		dst, src, rows, n, ldD, ldS = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5)
		full, cnt, sp, dp, oS, oD   = arm64.Reg(6), arm64.Reg(7), arm64.Reg(8), arm64.Reg(9), arm64.Reg(10), arm64.Reg(11)
	)
	fn.loadArgs(dst, src, rows, n, ldD, ldS)
	fn.Op("LSL", "$2", ldD, ldD)
	fn.Op("LSL", "$2", ldS, ldS)
	fn.Op("CMP", "$5", n)
	fn.Op("BLT", "short")
	// full = (n-1)/4; the last vector's byte offsets: 2n-9 in, n-4 out.
	fn.Op("SUB", "$1", n, full)
	fn.Op("LSR", "$2", full, full)
	fn.Op("ADD", n, n, oS)
	fn.Op("SUB", "$9", oS, oS)
	fn.Op("LSL", "$2", oS, oS)
	fn.Op("SUB", "$4", n, oD)
	fn.Op("LSL", "$2", oD, oD)
	fn.Label("row")
	fn.Op("CMP", "$0", rows)
	fn.Op("BLE", "done")
	fn.Op("MOVD", full, cnt)
	fn.Op("MOVD", src, sp)
	fn.Op("MOVD", dst, dp)
	fn.Label("vec")
	fn.Op("CBZ", cnt, "last")
	fn.Op("VLD2.P", fmt.Sprintf("32(%v)", sp), arm64.V(0).List(2, "S4"))
	fn.Op("VST1.P", "["+arm64.V(0).S4()+"]", fmt.Sprintf("16(%v)", dp))
	fn.Op("SUB", "$1", cnt, cnt)
	fn.Op("B", "vec")
	fn.Label("last")
	fn.Op("ADD", oS, src, sp)
	fn.Op("VLD2", fmt.Sprintf("(%v)", sp), arm64.V(0).List(2, "S4"))
	fn.Op("ADD", oD, dst, dp)
	fn.Op("VST1", "["+arm64.V(1).S4()+"]", fmt.Sprintf("(%v)", dp))
	fn.Op("ADD", ldS, src, src)
	fn.Op("ADD", ldD, dst, dst)
	fn.Op("SUB", "$1", rows, rows)
	fn.Op("B", "row")
	// Rows of fewer than 5 outputs, element by element.
	fn.Label("short")
	fn.Op("CMP", "$0", rows)
	fn.Op("BLE", "done")
	fn.Op("MOVD", src, sp)
	fn.Op("MOVD", dst, dp)
	fn.Op("MOVD", n, cnt)
	fn.Label("scalar")
	fn.Op("CBZ", cnt, "nextShort")
	fn.Op("FMOVS.P", fmt.Sprintf("8(%v)", sp), arm64.V(0).F())
	fn.Op("FMOVS.P", arm64.V(0).F(), fmt.Sprintf("4(%v)", dp))
	fn.Op("SUB", "$1", cnt, cnt)
	fn.Op("B", "scalar")
	fn.Label("nextShort")
	fn.Op("ADD", ldS, src, src)
	fn.Op("ADD", ldD, dst, dst)
	fn.Op("SUB", "$1", rows, rows)
	fn.Op("B", "short")
	fn.Label("done")
	fn.Op("RET")
}

// neonGrouped writes vecGroupedDWNEON, grouped's counterpart but for the
// weights, which it reads packed, the tap's 8 outputs' weights side by
// side (w[t*8+j]; codegen/rt packs them, rtDWKernels.packW): GroupedOuts
// outputs of a group over one run, two vectors of each at a time, then
// one. Per tap it loads two vectors of input and, in one instruction,
// two of weights, and issues 16 FMLAs by element: 3 loads for 16 FMAs,
// where vecDepthwiseNEON takes 9 for 8 (gathering the weights from 8
// rows into lanes cost 8 lane loads a tap, whose inserts compete with
// the FMLAs for the SIMD pipes). It writes whole vectors, up to 3 values
// past each output's n.
func neonGrouped(f *neonFile) {
	name := GroupedName(gemm.NEON)
	fn := f.function(name, "func(d *float32, ldD int, s, w *float32, ldW int, offs *int, taps, n, act int, bias *float32, slope, hi float32)",
		fmt.Sprintf("%s computes d[j*ldD+q] = act(bias[j] + Σ_t w[t*%d+j]*s[q+offs[t]]) for j < %d,", name, GroupedOuts, GroupedOuts),
		"q < n, t < taps, with vecDepthwise's act; ldW is not read. It reads s to 3 values past",
		"the last it needs and writes whole vectors, up to 3 values past each d[j*ldD+n-1].")
	const (
		d, s, rem, bias, ldD, tw  = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5)
		q, to, tc, off, p, pa, pd = arm64.Reg(7), arm64.Reg(11), arm64.Reg(12), arm64.Reg(13), arm64.Reg(14), arm64.Reg(15), arm64.Reg(19)
		// V0-V15 accumulate (output j's vector v in V(j*2+v)), V16-V17
		// take the input, V30-V31 the biases, then each tap's weights.
		in, wv = arm64.V(16), arm64.V(30)
	)
	a := neonAct{act: 6, tmp: 9, zero: 18, slope: 19, hi: 20, one: 21,
		consts: [4]arm64.V{22, 23, 24, 25}, t: [4]arm64.V{26, 27, 28, 29}}
	fn.Op("MOVD", fn.arg("d"), d)
	fn.Op("MOVD", fn.arg("s"), s)
	fn.Op("MOVD", fn.arg("n"), rem)
	fn.Op("MOVD", fn.arg("ldD"), ldD)
	fn.Op("LSL", "$2", ldD, ldD)
	a.setup(fn, "act")
	fn.Op("MOVD", "$0", q)

	// block writes nv vectors of every output from byte offset q.
	block := func(prefix string, nv int) {
		acc := func(j, v int) arm64.V { return arm64.V(j*2 + v) }
		fn.Op("ADD", q, s, p)
		fn.Op("MOVD", fn.arg("bias"), bias)
		fn.Op("VLD1", fmt.Sprintf("(%v)", bias), wv.List(2, "S4"))
		var all []arm64.V
		for j := range GroupedOuts {
			for v := range nv {
				fn.Op("VDUP", (wv + arm64.V(j/4)).S(j%4), acc(j, v).S4())
				all = append(all, acc(j, v))
			}
		}
		fn.Op("MOVD", fn.arg("w"), tw)
		fn.Op("MOVD", fn.arg("offs"), to)
		fn.Op("MOVD", fn.arg("taps"), tc)
		fn.Label(prefix + "tap")
		fn.Op("MOVD.P", fmt.Sprintf("8(%v)", to), off)
		fn.Op("ADD", fmt.Sprintf("%v<<2", off), p, pa)
		fn.Op("VLD1", fmt.Sprintf("(%v)", pa), in.List(nv, "S4"))
		fn.Op("VLD1.P", fmt.Sprintf("%d(%v)", 4*GroupedOuts, tw), wv.List(2, "S4"))
		for j := range GroupedOuts {
			for v := range nv {
				fn.Word(arm64.FMLAElem(acc(j, v), in+arm64.V(v), wv+arm64.V(j/4), j%4))
			}
		}
		fn.Op("SUBS", "$1", tc, tc)
		fn.Op("BNE", prefix+"tap")
		a.emit(fn, prefix, all)
		fn.Op("ADD", q, d, pd)
		for j := range GroupedOuts {
			fn.Op("VST1", acc(j, 0).List(nv, "S4"), fmt.Sprintf("(%v)", pd))
			if j < GroupedOuts-1 {
				fn.Op("ADD", ldD, pd, pd)
			}
		}
	}

	fn.Label("by2")
	fn.Op("CMP", "$4", rem)
	fn.Op("BLE", "by1")
	block("b2", 2)
	fn.Op("ADD", "$32", q, q)
	fn.Op("SUB", "$8", rem, rem)
	fn.Op("B", "by2")
	fn.Label("by1")
	fn.Op("CMP", "$0", rem)
	fn.Op("BLE", "done")
	block("b1", 1)
	fn.Op("ADD", "$16", q, q)
	fn.Op("SUB", "$4", rem, rem)
	fn.Op("B", "by1")
	fn.Label("done")
	fn.Op("RET")
}

// neonTall writes vecDepthwiseTall for shape t on NEON, tall's
// counterpart (same contract and Go equivalent, cols at least 4). Output
// rows r..r+3 go two vectors of columns at a time, then one, the row's
// last vector ending at its end, overlapping the one before. Per column
// of taps and group, the group's weights are loaded once, each into lane
// 0 of its own register (FMLA by element), and each of the TallRows+h-1
// input rows' vectors once, for up to h output rows.
func neonTall(f *neonFile, t TallShape) {
	name := DepthwiseTallName(gemm.NEON, t)
	fn := f.function(name, "func(d, s, w *float32, offs *int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32)",
		fmt.Sprintf("%s computes d[r*ldD+q] = act(bias + Σ_kx Σ_g Σ_j w[g*kw+j*ldW+kx]*s[(r+j)*ldS+q+offs[g*kw+kx]])", name),
		fmt.Sprintf("for r < rows (a multiple of %d), q < cols (at least 4), kx < kw, j < %d for g = 0 and", TallRows, t.H0),
		fmt.Sprintf("j < %d for g = 1, with vecDepthwiseNEON's act, %d rows at a time. It reads s to 3", t.H1, TallRows),
		"values past the last it needs and writes nothing past d[(rows-1)*ldD+cols-1].")
	const (
		d, s, rows, cols, ldD, ldS = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5)
		q, rem, tw, to, tc, off    = arm64.Reg(7), arm64.Reg(8), arm64.Reg(10), arm64.Reg(11), arm64.Reg(12), arm64.Reg(13)
		p, pw, pd, last, kw4, pa   = arm64.Reg(14), arm64.Reg(15), arm64.Reg(19), arm64.Reg(20), arm64.Reg(21), arm64.Reg(22)
		ldW4                       = arm64.Reg(23)
		// V0-V7 accumulate (row r's vectors at 2r, 2r+1), V8-V9 take the
		// loads, V10-V16 the weights.
		load, w0, bias = arm64.V(8), arm64.V(10), arm64.V(17)
	)
	R := TallRows
	a := neonAct{act: 6, tmp: 9, zero: 18, slope: 19, hi: 20, one: 21,
		consts: [4]arm64.V{22, 23, 24, 25}, t: [4]arm64.V{26, 27, 28, 29}}
	fn.Op("MOVD", fn.arg("d"), d)
	fn.Op("MOVD", fn.arg("s"), s)
	fn.Op("MOVD", fn.arg("rows"), rows)
	fn.Op("MOVD", fn.arg("cols"), cols)
	fn.Op("MOVD", fn.arg("ldD"), ldD)
	fn.Op("LSL", "$2", ldD, ldD)
	fn.Op("MOVD", fn.arg("ldS"), ldS)
	fn.Op("LSL", "$2", ldS, ldS)
	fn.Op("MOVD", fn.arg("kw"), kw4)
	fn.Op("LSL", "$2", kw4, kw4)
	fn.Op("MOVD", fn.arg("ldW"), ldW4)
	fn.Op("LSL", "$2", ldW4, ldW4)
	fn.Op("FMOVS", fn.arg("bias"), bias.F())
	fn.Op("VDUP", bias.S(0), bias.S4())
	a.setup(fn, "act")
	// last is the byte offset of the row's last vector, cols-4.
	fn.Op("SUB", "$4", cols, last)
	fn.Op("LSL", "$2", last, last)

	// block writes nb vectors of columns of the R rows from byte offset q.
	block := func(prefix string, nb int) {
		acc := make([]arm64.V, R*nb)
		for i := range acc {
			acc[i] = arm64.V(i)
			fn.Op("VMOV", bias.B16(), acc[i].B16())
		}
		fn.Op("ADD", q, s, p)
		fn.Op("MOVD", fn.arg("w"), tw)
		fn.Op("MOVD", fn.arg("offs"), to)
		fn.Op("MOVD", fn.arg("kw"), tc)
		fn.Label(prefix + "kx")
		for g, h := range []int{t.H0, t.H1} {
			if h == 0 {
				continue
			}
			fn.Op("MOVD", tw, pw)
			if g > 0 {
				fn.Op("ADD", kw4, pw, pw)
				fn.Op("ADD", fmt.Sprintf("%v<<1", kw4), to, pa)
				fn.Op("MOVD", fmt.Sprintf("(%v)", pa), off) // offs[kw+kx]
			} else {
				fn.Op("MOVD", fmt.Sprintf("(%v)", to), off)
			}
			for j := range h {
				fn.Op("FMOVS", fmt.Sprintf("(%v)", pw), (w0 + arm64.V(j)).F())
				if j < h-1 {
					fn.Op("ADD", ldW4, pw, pw)
				}
			}
			fn.Op("ADD", fmt.Sprintf("%v<<2", off), p, pa)
			for i := range R + h - 1 { // input row i
				fn.Op("VLD1", fmt.Sprintf("(%v)", pa), load.List(nb, "S4"))
				// Output row r reads input row i with the weights of row i-r.
				for r := max(0, i-h+1); r <= min(R-1, i); r++ {
					for j := range nb {
						fn.Word(arm64.FMLAElem(acc[r*nb+j], load+arm64.V(j), w0+arm64.V(i-r), 0))
					}
				}
				if i < R+h-2 {
					fn.Op("ADD", ldS, pa, pa)
				}
			}
		}
		fn.Op("ADD", "$8", to, to)
		fn.Op("ADD", "$4", tw, tw)
		fn.Op("SUBS", "$1", tc, tc)
		fn.Op("BNE", prefix+"kx")
		a.emit(fn, prefix, acc)
		fn.Op("ADD", q, d, pd)
		for r := range R {
			fn.Op("VST1", acc[r*nb].List(nb, "S4"), fmt.Sprintf("(%v)", pd))
			if r < R-1 {
				fn.Op("ADD", ldD, pd, pd)
			}
		}
	}

	fn.Label("row")
	fn.Op("CMP", fmt.Sprintf("$%d", R), rows)
	fn.Op("BLT", "done")
	fn.Op("MOVD", "$0", q)
	fn.Op("MOVD", cols, rem)
	fn.Label("by2")
	fn.Op("CMP", "$8", rem)
	fn.Op("BLT", "by1")
	block("b2", 2)
	fn.Op("ADD", "$32", q, q)
	fn.Op("SUB", "$8", rem, rem)
	fn.Op("B", "by2")
	fn.Label("by1")
	fn.Op("CMP", "$0", rem)
	fn.Op("BLE", "next")
	fn.Op("CMP", "$4", rem)
	fn.Op("BGE", "one")
	fn.Op("MOVD", last, q) // the row's last vector
	fn.Label("one")
	block("b1", 1)
	fn.Op("ADD", "$16", q, q)
	fn.Op("SUB", "$4", rem, rem)
	fn.Op("B", "by1")
	fn.Label("next")
	fn.Op("ADD", fmt.Sprintf("%v<<2", ldD), d, d)
	fn.Op("ADD", fmt.Sprintf("%v<<2", ldS), s, s)
	fn.Op("SUB", fmt.Sprintf("$%d", R), rows, rows)
	fn.Op("B", "row")
	fn.Label("done")
	fn.Op("RET")
}
