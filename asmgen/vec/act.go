package vec

import (
	"fmt"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/cnnc/cnnc/asmgen/gemm"
)

// activate emits the activation that the kernels' act parameter selects,
// applied to each vector of acc in place; its Go equivalent, for v in acc,
//
//	switch act { // NaN stays NaN
//	case 1: // ReLU
//		v = max(v, 0)
//	case 2: // leaky ReLU
//		v = max(v, 0) + slope*min(v, 0) // an FMA
//	case 3: // clip, ReLU6
//		v = min(max(v, slope), hi)
//	case 4: // hardswish
//		v *= min(max(v/6 + 1/2, 0), 1)
//	case 5: // sigmoid
//		v = 1/(1+e^-v)
//	case 6: // SiLU
//		v /= 1+e^-v
//	}
//
// act is the code (a register or the parameter's memory), zero, slope and
// hi hold 0 and the parameters in every lane. Hardswish, sigmoid and SiLU
// are asmgen/gemm's (gemm.ActCode), as in the GEMM kernels' epilogues,
// their constants in pool. Every path ends at the label prefix+"store",
// which activate emits last; the other labels start with prefix too.
// depthwise, vecAffine and vecBinary share it, so that each activation
// has one implementation per ISA.
func activate(ctx *build.Context, isa gemm.ISA, pool *gemm.ConstPool, prefix string, act operand.Op, acc []reg.VecVirtual, zero, slope, hi reg.VecVirtual, vec func() reg.VecVirtual) {
	// With a as the second source VMAXPS and VMINPS return a when it
	// is NaN.
	ctx.CMPQ(act, operand.U32(1))
	ctx.JL(operand.LabelRef(prefix + "store"))
	ctx.JE(operand.LabelRef(prefix + "relu"))
	ctx.CMPQ(act, operand.U32(3))
	ctx.JE(operand.LabelRef(prefix + "clip"))
	ctx.JG(operand.LabelRef(prefix + "fromMemory"))
	for _, a := range acc {
		// Leaky ReLU: max(a, 0) + slope*min(a, 0).
		t := vec()
		ctx.VMINPS(a, zero, t)
		ctx.VMAXPS(a, zero, a)
		ctx.VFMADD231PS(t, slope, a)
	}
	ctx.JMP(operand.LabelRef(prefix + "store"))
	ctx.Label(prefix + "relu")
	for _, a := range acc {
		ctx.VMAXPS(a, zero, a)
	}
	ctx.JMP(operand.LabelRef(prefix + "store"))
	ctx.Label(prefix + "clip")
	for _, a := range acc {
		ctx.VMAXPS(a, slope, a)
		ctx.VMINPS(a, hi, a)
	}
	ctx.JMP(operand.LabelRef(prefix + "store"))
	// Hardswish (4), sigmoid (5) and SiLU (6), each its own loop.
	ctx.Label(prefix + "fromMemory")
	for i, f := range []gemm.Act{gemm.ActHardSwish, gemm.ActSigmoid, gemm.ActSiLU} {
		code := fmt.Sprintf("%s%d", prefix, 4+i)
		if i < 2 {
			ctx.CMPQ(act, operand.U32(4+i))
			ctx.JNE(operand.LabelRef(code + "next"))
		}
		// On AVX-512, as many vectors at once as the registers left
		// beside acc, the three constants and a few the caller may hold
		// allow, their instructions interleaved (gemm.ActCode.ApplyAll);
		// AVX2's sixteen registers leave room for one.
		g := 1
		if isa == gemm.AVX512 {
			g = max(1, min(4, (32-len(acc)-3-4)/3))
		}
		for i0 := 0; i0 < len(acc); i0 += g {
			group := acc[i0:min(i0+g, len(acc))]
			vs := make([]reg.Register, len(group))
			ts := make([][3]reg.Register, len(group))
			for i, a := range group {
				vs[i], ts[i] = a, [3]reg.Register{vec(), vec(), vec()}
			}
			c := gemm.ActCode{Ctx: ctx, ISA: isa, Pool: pool}
			if isa == gemm.AVX512 {
				c.K = ctx.K()
			}
			c.ApplyAll(f, 1.0/6, 0.5, vs, ts)
		}
		ctx.JMP(operand.LabelRef(prefix + "store"))
		if i < 2 {
			ctx.Label(code + "next")
		}
	}
	ctx.Label(prefix + "store")
}
