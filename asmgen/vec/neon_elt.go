package vec

import (
	"fmt"

	"github.com/cnnc/cnnc/asmgen/arm64"
	"github.com/cnnc/cnnc/asmgen/gemm"
)

// The elementwise kind's NEON routines: affine's, binary's and mean's
// counterparts, with the same contracts.

// neonEltAct is the elementwise kernels' activation layout: V16 and V17
// are left to the kernels (affine's scale and shift), V0-V9 to
// neonEltStream.
var neonEltAct = neonAct{act: 8, tmp: 9, zero: 18, slope: 19, hi: 20, one: 21,
	consts: [4]arm64.V{22, 23, 24, 25}, t: [4]arm64.V{26, 27, 28, 29}}

// neonEltStream writes one pass over n elements (a register, counted
// down) of the streams ptrs (advanced past the n elements; ptrs[0] is the
// destination, the others inputs), like eltStream, so that nothing past
// the n elements is read or written. Fewer than 4 elements go one at a
// time in lane 0. A longer stream first computes the vector that ends at
// its end (kept in V8), then goes in blocks of four vectors and single
// vectors until fewer than 4 elements are left, and stores V8 last:
// loaded before anything is stored, it reads the inputs even where the
// destination is one of them, and it overlaps the vectors before it with
// the same values. The first input's vectors are loaded into acc, the
// second's (if any) into in2, then compute sets acc and the activation is
// applied. end and tmp are scratch; labels start with prefix.
func neonEltStream(fn *neonFunc, a *neonAct, prefix string, n arm64.Reg, ptrs []arm64.Reg, end, tmp arm64.Reg,
	compute func(prefix string, acc, in2 []arm64.V)) {
	regs := func(first arm64.V, nv int) []arm64.V {
		r := make([]arm64.V, nv)
		for i := range r {
			r[i] = first + arm64.V(i)
		}
		return r
	}
	const (
		whole  = iota // vectors from ptrs, post-incremented
		scalar        // one element from ptrs, in lane 0
		last          // the vector ending at ptr+n
	)
	// step computes the vectors acc (lane 0 of acc[0] in mode scalar).
	step := func(label string, acc, in2 []arm64.V, mode int) {
		for p, ptr := range ptrs[1:] {
			dst := acc
			if p == 1 {
				dst = in2
			}
			switch mode {
			case scalar:
				fn.Op("FMOVS.P", fmt.Sprintf("4(%v)", ptr), dst[0].F())
			case last:
				fn.Op("ADD", fmt.Sprintf("%v<<2", n), ptr, tmp)
				fn.Op("SUB", "$16", tmp, tmp)
				fn.Op("VLD1", fmt.Sprintf("(%v)", tmp), dst[0].List(1, "S4"))
			default:
				fn.Op("VLD1.P", fmt.Sprintf("%d(%v)", 16*len(dst), ptr), dst[0].List(len(dst), "S4"))
			}
		}
		compute(label, acc, in2)
		a.emit(fn, label, acc)
	}
	fn.Op("CMP", "$4", n)
	fn.Op("BGE", prefix+"long")
	fn.Label(prefix + "scalar")
	fn.Op("CBZ", n, prefix+"done")
	step(prefix+"s", regs(0, 1), regs(4, 1), scalar)
	fn.Op("FMOVS.P", arm64.V(0).F(), fmt.Sprintf("4(%v)", ptrs[0]))
	fn.Op("SUB", "$1", n, n)
	fn.Op("B", prefix+"scalar")

	fn.Label(prefix + "long")
	step(prefix+"l", regs(8, 1), regs(9, 1), last)
	fn.Op("ADD", fmt.Sprintf("%v<<2", n), ptrs[0], end)
	fn.Op("SUB", "$16", end, end)
	fn.Label(prefix + "block")
	fn.Op("CMP", "$16", n)
	fn.Op("BLT", prefix+"one")
	step(prefix+"b", regs(0, 4), regs(4, 4), whole)
	fn.Op("VST1.P", arm64.V(0).List(4, "S4"), fmt.Sprintf("64(%v)", ptrs[0]))
	fn.Op("SUB", "$16", n, n)
	fn.Op("B", prefix+"block")
	fn.Label(prefix + "one")
	fn.Op("CMP", "$4", n)
	fn.Op("BLT", prefix+"tail")
	step(prefix+"v", regs(0, 1), regs(4, 1), whole)
	fn.Op("VST1.P", arm64.V(0).List(1, "S4"), fmt.Sprintf("16(%v)", ptrs[0]))
	fn.Op("SUB", "$4", n, n)
	fn.Op("B", prefix+"one")
	fn.Label(prefix + "tail")
	fn.Op("VST1", arm64.V(8).List(1, "S4"), fmt.Sprintf("(%v)", end))
	for _, p := range ptrs {
		fn.Op("ADD", fmt.Sprintf("%v<<2", n), p, p)
	}
	fn.Label(prefix + "done")
}

// neonAffine writes vecAffineNEON, affine's counterpart: channel by
// channel, d = act(x*s + t) with the product and the sum each rounded.
func neonAffine(f *neonFile) {
	name := AffineName(gemm.NEON)
	fn := f.function(name, "func(d, x, s, t *float32, c, n, ss, ts, act int, slope, hi float32)",
		name+" computes d[ch*n+i] = act(x[ch*n+i]*s[ch*ss] + t[ch*ts]) for ch < c, i < n,",
		"the product and the sum each rounded, with act as vecDepthwise's. It reads and writes nothing",
		"past the c*n elements.")
	const (
		d, x, s, t, c, n, ss, ts = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5), arm64.Reg(6), arm64.Reg(7)
		end, tmp                 = arm64.Reg(10), arm64.Reg(11)
		sv, tv                   = arm64.V(16), arm64.V(17)
	)
	fn.loadArgs(d, x, s, t, c)
	fn.Op("MOVD", fn.arg("ss"), ss)
	fn.Op("MOVD", fn.arg("ts"), ts)
	fn.Op("LSL", "$2", ss, ss)
	fn.Op("LSL", "$2", ts, ts)
	a := neonEltAct
	a.setup(fn, "act")
	fn.Label("channel")
	fn.Op("CMP", "$0", c)
	fn.Op("BLE", "done")
	fn.Op("VLD1R", fmt.Sprintf("(%v)", s), sv.List(1, "S4"))
	fn.Op("VLD1R", fmt.Sprintf("(%v)", t), tv.List(1, "S4"))
	fn.Op("MOVD", fn.arg("n"), n)
	neonEltStream(fn, &a, "e", n, []arm64.Reg{d, x}, end, tmp, func(prefix string, acc, _ []arm64.V) {
		for _, v := range acc {
			fn.Word(arm64.FMUL(v, v, sv))
			fn.Word(arm64.FADD(v, v, tv))
		}
	})
	fn.Op("ADD", ss, s, s)
	fn.Op("ADD", ts, t, t)
	fn.Op("SUB", "$1", c, c)
	fn.Op("B", "channel")
	fn.Label("done")
	fn.Op("RET")
}

// neonBinary writes vecBinaryNEON, binary's counterpart: d = act(a op b).
func neonBinary(f *neonFile) {
	name := BinaryName(gemm.NEON)
	fn := f.function(name, "func(d, a, b *float32, n, op, act int, slope, hi float32)",
		name+" computes d[i] = act(a[i] op b[i]) for i < n, op + for op 0, - for 1, * for 2",
		"and / for 3, with act as vecDepthwise's. It reads and writes nothing past the n elements.")
	const (
		d, x, y, n, op, end, tmp = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(5), arm64.Reg(6), arm64.Reg(10), arm64.Reg(11)
	)
	fn.loadArgs(d, x, y, n, op)
	a := neonEltAct
	a.setup(fn, "act")
	neonEltStream(fn, &a, "e", n, []arm64.Reg{d, x, y}, end, tmp, func(prefix string, acc, in2 []arm64.V) {
		fn.Op("CMP", "$1", op)
		fn.Op("BLT", prefix+"add")
		fn.Op("BEQ", prefix+"sub")
		fn.Op("CMP", "$2", op)
		fn.Op("BEQ", prefix+"mul")
		for _, o := range []struct {
			label string
			ins   func(d, n, m arm64.V) arm64.Inst
		}{{"div", arm64.FDIV}, {"add", arm64.FADD}, {"sub", arm64.FSUB}, {"mul", arm64.FMUL}} {
			if o.label != "div" {
				fn.Label(prefix + o.label)
			}
			for i, v := range acc {
				fn.Word(o.ins(v, v, in2[i]))
			}
			if o.label != "mul" {
				fn.Op("B", prefix+"op")
			}
		}
		fn.Label(prefix + "op")
	})
	fn.Op("RET")
}

// neonMean writes vecMeanNEON, mean's counterpart: each channel's values
// widened to float64 (FCVTL, FCVTL2) and summed by eight accumulators of
// two lanes, sixteen values at a time, then four, then the last 0 to 3
// one by one into a scalar sum; the sums are reduced, multiplied by 1/n
// and rounded to float32. It reads nothing past the c*n values.
func neonMean(f *neonFile) {
	name := MeanName(gemm.NEON)
	fn := f.function(name, "func(d, x *float32, c, n int)",
		name+" sets d[ch] to the mean of x[ch*n : ch*n+n], summed in float64, for ch < c.")
	const (
		d, x, c, nn, n = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4)
		// V0-V3 take the loads, V4-V5 their widened halves, V16-V23
		// accumulate, V24 the last values, V30 1/n, V31 1 and then a
		// value.
		acc, tail, inv, t31 = arm64.V(16), arm64.V(24), arm64.V(30), arm64.V(31)
	)
	fn.Op("MOVD", fn.arg("d"), d)
	fn.Op("MOVD", fn.arg("x"), x)
	fn.Op("MOVD", fn.arg("c"), c)
	fn.Op("MOVD", fn.arg("n"), nn)
	fn.Op("SCVTFD", nn, inv.F())
	fn.Op("FMOVD", "$1.0", t31.F())
	fn.Op("FDIVD", inv.F(), t31.F(), inv.F())
	fn.Label("channel")
	fn.Op("CMP", "$0", c)
	fn.Op("BLE", "done")
	for i := range arm64.V(8) {
		fn.Op("VEOR", (acc + i).B16(), (acc + i).B16(), (acc + i).B16())
	}
	fn.Op("VEOR", tail.B16(), tail.B16(), tail.B16())
	fn.Op("MOVD", nn, n)
	// add widens the vector v into the accumulators acc+2j and acc+2j+1.
	add := func(v arm64.V, j int) {
		fn.Word(arm64.FCVTL(4, v))
		fn.Word(arm64.FCVTL2(5, v))
		fn.Word(arm64.FADD2D(acc+arm64.V(2*j), acc+arm64.V(2*j), 4))
		fn.Word(arm64.FADD2D(acc+arm64.V(2*j+1), acc+arm64.V(2*j+1), 5))
	}
	fn.Label("block")
	fn.Op("CMP", "$16", n)
	fn.Op("BLT", "single")
	fn.Op("VLD1.P", fmt.Sprintf("64(%v)", x), arm64.V(0).List(4, "S4"))
	for j := range 4 {
		add(arm64.V(j), j)
	}
	fn.Op("SUB", "$16", n, n)
	fn.Op("B", "block")
	fn.Label("single")
	fn.Op("CMP", "$4", n)
	fn.Op("BLT", "scalar")
	fn.Op("VLD1.P", fmt.Sprintf("16(%v)", x), arm64.V(0).List(1, "S4"))
	add(0, 0)
	fn.Op("SUB", "$4", n, n)
	fn.Op("B", "single")
	fn.Label("scalar")
	fn.Op("CBZ", n, "reduce")
	fn.Op("FMOVS.P", fmt.Sprintf("4(%v)", x), t31.F())
	fn.Op("FCVTSD", t31.F(), t31.F())
	fn.Op("FADDD", t31.F(), tail.F(), tail.F())
	fn.Op("SUB", "$1", n, n)
	fn.Op("B", "scalar")
	fn.Label("reduce")
	for w := 4; w >= 1; w /= 2 {
		for i := range arm64.V(w) {
			fn.Word(arm64.FADD2D(acc+i, acc+i, acc+i+arm64.V(w)))
		}
	}
	fn.Word(arm64.FADDP2D(acc, acc))
	fn.Op("FADDD", tail.F(), acc.F(), acc.F())
	fn.Op("FMULD", inv.F(), acc.F(), acc.F())
	fn.Op("FCVTDS", acc.F(), acc.F())
	fn.Op("FMOVS.P", acc.F(), fmt.Sprintf("4(%v)", d))
	fn.Op("SUB", "$1", c, c)
	fn.Op("B", "channel")
	fn.Label("done")
	fn.Op("RET")
}

// neonLayerNorm writes vecLayerNormNEON, layerNorm's counterpart: a step
// of eight positions at a time (two vectors of floats, four of doubles),
// their sums kept in V16-V23 while the channels are read once to sum and
// once to write, each operation rounded alone like layerNorm's.
func neonLayerNorm(f *neonFile) {
	name := LayerNormName(gemm.NEON)
	fn := f.function(name, layerNormSig, layerNormDoc(name)...)
	const (
		d, x, w, b, c, n, ld4 = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5), arm64.Reg(6)
		xp, dp, wp, bp, cc    = arm64.Reg(7), arm64.Reg(8), arm64.Reg(9), arm64.Reg(10), arm64.Reg(11)
		// V0-V1 hold floats, V2-V5 their doubles, V16-V19 the sums and
		// then μ, V20-V23 the sums of squares and then 1/σ.
		sum, sq            = arm64.V(16), arm64.V(20)
		cv, one, eps, zero = arm64.V(24), arm64.V(25), arm64.V(26), arm64.V(27)
		wv, bv, t0         = arm64.V(28), arm64.V(29), arm64.V(30)
	)
	fn.loadArgs(d, x, w, b, c, n, ld4)
	fn.Op("LSL", "$2", ld4, ld4)
	fn.Op("SCVTFD", c, cv.F())
	fn.Word(arm64.DUP2D(cv, cv))
	fn.Op("FMOVD", "$1.0", one.F())
	fn.Word(arm64.DUP2D(one, one))
	fn.Op("FMOVD", fn.arg("eps"), eps.F())
	fn.Word(arm64.DUP2D(eps, eps))
	fn.Op("VEOR", zero.B16(), zero.B16(), zero.B16())
	// widen sets V2+2k and V3+2k to the doubles of V0+k, k < nv.
	widen := func(nv int) {
		for k := range arm64.V(nv) {
			fn.Word(arm64.FCVTL(2+2*k, k))
			fn.Word(arm64.FCVTL2(3+2*k, k))
		}
	}
	// block emits a step: nv = 2 vectors of floats.
	block := func(prefix string, nv int) {
		nd := arm64.V(2 * nv) // vectors of doubles
		for j := range nd {
			fn.Op("VEOR", (sum + j).B16(), (sum + j).B16(), (sum + j).B16())
			fn.Op("VEOR", (sq + j).B16(), (sq + j).B16(), (sq + j).B16())
		}
		fn.Op("MOVD", x, xp)
		fn.Op("MOVD", c, cc)
		fn.Label(prefix + "sum")
		fn.Op("VLD1", fmt.Sprintf("(%v)", xp), arm64.V(0).List(nv, "S4"))
		fn.Op("ADD", ld4, xp, xp)
		widen(nv)
		for j := range nd {
			fn.Word(arm64.FADD2D(sum+j, sum+j, 2+j))
			fn.Word(arm64.FMUL2D(t0+j%2, 2+j, 2+j))
			fn.Word(arm64.FADD2D(sq+j, sq+j, t0+j%2))
		}
		fn.Op("SUBS", "$1", cc, cc)
		fn.Op("BNE", prefix+"sum")
		for j := range nd {
			fn.Word(arm64.FDIV2D(sum+j, sum+j, cv))
			fn.Word(arm64.FDIV2D(sq+j, sq+j, cv))
			fn.Word(arm64.FMUL2D(t0, sum+j, sum+j))
			fn.Word(arm64.FSUB2D(sq+j, sq+j, t0))
			fn.Word(arm64.FMAX2D(sq+j, sq+j, zero))
			fn.Word(arm64.FADD2D(sq+j, sq+j, eps))
			fn.Word(arm64.FSQRT2D(sq+j, sq+j))
			fn.Word(arm64.FDIV2D(sq+j, one, sq+j))
		}
		fn.Op("MOVD", x, xp)
		fn.Op("MOVD", d, dp)
		fn.Op("MOVD", w, wp)
		fn.Op("MOVD", b, bp)
		fn.Op("MOVD", c, cc)
		fn.Label(prefix + "norm")
		for _, p := range []struct {
			v   arm64.V
			ptr arm64.Reg
		}{{wv, wp}, {bv, bp}} {
			fn.Op("FMOVS.P", fmt.Sprintf("4(%v)", p.ptr), p.v.F())
			fn.Op("FCVTSD", p.v.F(), p.v.F())
			fn.Word(arm64.DUP2D(p.v, p.v))
		}
		fn.Op("VLD1", fmt.Sprintf("(%v)", xp), arm64.V(0).List(nv, "S4"))
		fn.Op("ADD", ld4, xp, xp)
		widen(nv)
		for j := range nd {
			fn.Word(arm64.FSUB2D(2+j, 2+j, sum+j))
			fn.Word(arm64.FMUL2D(2+j, 2+j, sq+j))
			fn.Word(arm64.FMUL2D(2+j, 2+j, wv))
			fn.Word(arm64.FADD2D(2+j, 2+j, bv))
		}
		for k := range arm64.V(nv) {
			fn.Word(arm64.FCVTN(k, 2+2*k))
			fn.Word(arm64.FCVTN2(k, 3+2*k))
		}
		fn.Op("VST1", arm64.V(0).List(nv, "S4"), fmt.Sprintf("(%v)", dp))
		fn.Op("ADD", ld4, dp, dp)
		fn.Op("SUBS", "$1", cc, cc)
		fn.Op("BNE", prefix+"norm")
		fn.Op("ADD", fmt.Sprintf("$%d", 16*nv), x, x)
		fn.Op("ADD", fmt.Sprintf("$%d", 16*nv), d, d)
		fn.Op("SUB", fmt.Sprintf("$%d", 4*nv), n, n)
	}
	fn.Label("step")
	fn.Op("CMP", fmt.Sprintf("$%d", LayerNormStep), n)
	fn.Op("BLT", "done")
	block("p", LayerNormStep/4)
	fn.Op("B", "step")
	fn.Label("done")
	fn.Op("RET")
}
