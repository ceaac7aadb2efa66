package vec

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/compiler/winograd"
)

// winoOverride is a hand-written Winograd transform kernel that replaces
// the one generated from a form's matrices on an ISA. It emits the kernel
// under the generated one's name and signature (WinoInName, WinoOutName),
// so nothing else knows of it, and TestWinograd checks it like any other.
type winoOverride struct {
	form winograd.Form
	isa  gemm.ISA
	in   func(ctx *build.Context, isa gemm.ISA, name string) // nil: the generated one
	out  func(ctx *build.Context, isa gemm.ISA, name string)
}

// winoOverrides are the hand-written kernels kept because cnnc bench showed
// them faster than the generated ones; the others (F(2x2, 3x3)'s, F(2x2,
// 5x5)'s and F(4x4, 3x3)'s input transforms) lost or tied and were
// deleted. F(4x4, 3x3)'s output transform does the column transforms of
// all six columns first and then each output row from registers, two rows
// at a time on AVX2 where the generated one, short of registers, does one:
// its kernel is about a quarter faster (BenchmarkWinograd), AlexNet's
// conv1 and conv3-4 3-6% faster on AVX2 (docs/design.md).
var winoOverrides = []winoOverride{
	{form: winograd.Form{M: 4, R: 3}, isa: gemm.AVX512, out: winoOutF4x3},
	{form: winograd.Form{M: 4, R: 3}, isa: gemm.AVX2, out: winoOutF4x3},
}

// winoOverrideOf returns the override of form f on isa; its fields are nil
// where there is none.
func winoOverrideOf(f winograd.Form, isa gemm.ISA) winoOverride {
	for _, o := range winoOverrides {
		if o.form == f && o.isa == isa {
			return o
		}
	}
	return winoOverride{}
}

// winoOutF4x3 is the hand-written output transform of F(4x4, 3x3),
// max(Y + bias, lo), Y = A^T m A with
//
//	A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1],
//
// laid out as winoOut's (m[ξ*step + t] is element ξ = 6i+j of tile t,
// output k = 4dy+dx goes to y[k*ldY + t]). A^T's column 1 is all ones, so bias added to
// m[7] (i = j = 1) reaches every output once: that is the only bias add.
// The column transforms (over i) of all six columns come first, from
// memory, then each output row's transform (over j) from registers. AVX-512
// does all four rows dy at once (29 vector registers); AVX2 does rows {0,
// 2} (which share m1+m2 and m3+m4) and then {1, 3} (m1-m2, m3-m4), in 15.
func winoOutF4x3(ctx *build.Context, isa gemm.ISA, name string) {
	lanes := isa.Lanes()
	wide := isa == gemm.AVX512
	vec, y, m, n, s, ldY := winoOutStart(ctx, isa, name, "F(4x4, 3x3)")
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
