//go:build (!amd64 && !arm64) || purego

package rt

// rtPoolKernelsFor returns nil: this build has no SIMD kernels.
func rtPoolKernelsFor(impl int) *rtPoolKernels { return nil }
