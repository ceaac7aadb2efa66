//go:build arm64 && !purego

package rt

// rtLRNKernelFor returns implementation impl's NEON LRN kernel
// (asmgen/vec's vecLRNNEON), or nil.
func rtLRNKernelFor(impl int) rtLRNKernel {
	if impl == rtImplNEON {
		return rtLRNKernelNEON
	}
	return nil
}

func rtLRNKernelNEON(dst, src []float32, n, c, dstStride, srcStride, before, after int, k, alpha float32) int {
	// rtLRN has checked that dst and src reach channel c-1's pixel n-1.
	// The kernel does whole vectors of 4 pixels.
	n &^= 3
	if n > 0 {
		vecLRNNEON(&dst[0], &src[0], n, c, dstStride, srcStride, before, after, k, alpha)
	}
	return n
}
