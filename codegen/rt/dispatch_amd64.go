//go:build amd64 && !purego

package rt

import "golang.org/x/sys/cpu"

// The CPU features the kernels need, read once. The AVX-512 kernels use
// AVX2 and FMA too (every AVX-512 CPU has them: the GEMMs' transposed
// edges are ymm code); widening bfloat16 in zmm registers (VPMOVZXWD)
// needs AVX512BW.
var (
	rtHasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	rtHasAVX512 = cpu.X86.HasAVX512F && rtHasAVX2 && (Precision != "bf16" || cpu.X86.HasAVX512BW)
)

// available lists the implementations this CPU can run, fastest first.
func available() []int {
	var a []int
	if rtHasAVX512 {
		a = append(a, rtImplAVX512)
	}
	if rtHasAVX2 {
		a = append(a, rtImplAVX2)
	}
	return append(a, rtImplGo)
}

// plan lists the steps of one inference for m's implementation.
func (m *Model) plan() []rtStep {
	switch m.impl {
	case rtImplAVX2:
		return m.planAVX2()
	case rtImplAVX512:
		return m.planAVX512()
	}
	return m.planGo()
}
