//go:build (!amd64 && !arm64) || purego

package veckernels

// kernels: the assembly exists only on amd64 and arm64 without purego.
func kernels() []kernel { return nil }
