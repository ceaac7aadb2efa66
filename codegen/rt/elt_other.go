//go:build (!amd64 && !arm64) || purego

package rt

// rtEltKernelsFor returns nils: this build has no SIMD kernels.
func rtEltKernelsFor(impl int) rtEltKernels { return rtEltKernels{} }
