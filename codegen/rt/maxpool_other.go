//go:build (!amd64 && !arm64) || purego

package rt

// rtMaxPoolRowFor returns nil: this build has no SIMD kernels.
func rtMaxPoolRowFor(impl int) rtMaxPoolRow { return nil }
