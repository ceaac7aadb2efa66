// Package vec generates the elementwise SIMD kernels of a generated
// package, with avo driven as a library: the memory-bound steps that
// profiling showed matter besides the GEMMs.
//
// LRN's scaling, d[i] = x[i] * (k + alpha*s[i])^-0.75 (AlexNet's beta), is
// two square roots and a division per element: as scalar Go it cost more
// than AlexNet's conv1. Here it runs 16 (AVX-512) or 8 (AVX2) lanes at a
// time with IEEE single-precision VSQRTPS and VDIVPS, so each result is
// within a few ulps of the exact value.
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

// LRNScaleName is the name of the LRN scaling kernel for isa.
func LRNScaleName(isa gemm.ISA) string { return "vecLRNScale" + isa.String() }

// Generate returns the assembly and Go declarations of the elementwise
// kernels for package pkg, for both ISAs, under gemm.AsmConstraint.
func Generate(pkg string) (asm, stubs []byte, err error) {
	ctx := build.NewContext()
	ctx.Constraints(buildtags.And(buildtags.Term("amd64"), buildtags.Not("purego")))
	for _, isa := range []gemm.ISA{gemm.AVX512, gemm.AVX2} {
		lrnScale(ctx, isa)
	}
	if asm, stubs, err = gemm.Print(ctx, pkg); err != nil {
		return nil, nil, fmt.Errorf("vec: %w", err)
	}
	return asm, stubs, nil
}

// lrnScale emits, with t = k + alpha*s[i] and r = sqrt(t),
// d[i] = x[i] / (r*sqrt(r)) = x[i] * t^-0.75 for i < n, n a multiple of the
// vector width (the caller does the rest).
func lrnScale(ctx *build.Context, isa gemm.ISA) {
	ctx.Function(LRNScaleName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(d, x, s *float32, n int, k, alpha float32)")
	ctx.Doc(
		LRNScaleName(isa)+" sets d[i] = x[i] * (k + alpha*s[i])^-0.75 for i < n, a multiple of "+fmt.Sprint(isa.Lanes())+".",
		"Go equivalent: t := k + alpha*s[i]; r := sqrt(t); d[i] = x[i] / (r*sqrt(r)).",
	)
	vec := func() reg.VecVirtual {
		if isa == gemm.AVX512 {
			return ctx.ZMM()
		}
		return ctx.YMM()
	}
	d := ctx.Load(ctx.Param("d"), ctx.GP64())
	x := ctx.Load(ctx.Param("x"), ctx.GP64())
	s := ctx.Load(ctx.Param("s"), ctx.GP64())
	n := ctx.Load(ctx.Param("n"), ctx.GP64())
	k, alpha := vec(), vec()
	ctx.VBROADCASTSS(paramAddr(ctx, "k"), k)
	ctx.VBROADCASTSS(paramAddr(ctx, "alpha"), alpha)
	bytes := 4 * isa.Lanes()

	ctx.Label("loop")
	ctx.CMPQ(n, operand.U32(isa.Lanes()))
	ctx.JL(operand.LabelRef("done"))
	t, r, q, v := vec(), vec(), vec(), vec()
	ctx.VMOVUPS(operand.Mem{Base: s}, t)
	ctx.VFMADD213PS(k, alpha, t) // t = alpha*t + k
	ctx.VSQRTPS(t, r)
	ctx.VSQRTPS(r, q)
	ctx.VMULPS(q, r, r)
	ctx.VMOVUPS(operand.Mem{Base: x}, v)
	ctx.VDIVPS(r, v, v) // v = v / r
	ctx.VMOVUPS(v, operand.Mem{Base: d})
	for _, p := range []reg.Register{d, x, s} {
		ctx.ADDQ(operand.U32(bytes), p)
	}
	ctx.SUBQ(operand.U32(isa.Lanes()), n)
	ctx.JMP(operand.LabelRef("loop"))

	ctx.Label("done")
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
