//go:build !amd64 || purego

package veckernels

type kernel struct {
	name  string
	lanes int
	fn    func(d, x, s []float32, n int, k, alpha float32)
}

// kernels: the assembly exists only on amd64 without purego.
func kernels() []kernel { return nil }
