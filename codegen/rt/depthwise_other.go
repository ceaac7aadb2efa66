//go:build (!amd64 && !arm64) || purego

package rt

// rtDWKernelsFor returns nils: this build has no SIMD kernels.
func rtDWKernelsFor(impl int) rtDWKernels { return rtDWKernels{} }
