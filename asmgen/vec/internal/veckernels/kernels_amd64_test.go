//go:build amd64 && !purego

package veckernels

import "golang.org/x/sys/cpu"

type kernel struct {
	name  string
	lanes int
	fn    func(d, x, s []float32, n int, k, alpha float32)
}

// kernels lists the kernels this CPU can run.
func kernels() []kernel {
	var ks []kernel
	call := func(f func(d, x, s *float32, n int, k, alpha float32)) func(d, x, s []float32, n int, k, alpha float32) {
		return func(d, x, s []float32, n int, k, alpha float32) { f(&d[0], &x[0], &s[0], n, k, alpha) }
	}
	if cpu.X86.HasAVX512F {
		ks = append(ks, kernel{"AVX512", 16, call(vecLRNScaleAVX512)})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, kernel{"AVX2", 8, call(vecLRNScaleAVX2)})
	}
	return ks
}
