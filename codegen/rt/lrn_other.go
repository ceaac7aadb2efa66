//go:build (!amd64 && !arm64) || purego

package rt

// rtLRNKernelFor returns nil: this build has no SIMD kernels.
func rtLRNKernelFor(impl int) rtLRNKernel { return nil }
