//go:build (!amd64 && !arm64) || purego

package rt

// rtIm2colRowFor returns nil: this build has no SIMD kernels.
func rtIm2colRowFor(impl int) rtIm2colRow { return nil }
