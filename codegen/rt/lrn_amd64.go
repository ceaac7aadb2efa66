//go:build amd64 && !purego

package rt

// rtLRNKernelFor returns implementation impl's SIMD LRN kernel
// (asmgen/vec's vecLRN), or nil.
func rtLRNKernelFor(impl int) rtLRNKernel {
	switch impl {
	case rtImplAVX512:
		return rtLRNKernelAVX512
	case rtImplAVX2:
		return rtLRNKernelAVX2
	}
	return nil
}

func rtLRNKernelAVX512(dst, src []float32, n, c, dstStride, srcStride, before, after int, k, alpha float32) int {
	// rtLRN has checked that dst and src reach channel c-1's pixel n-1.
	// The kernel masks its last vector: it does all n pixels.
	if n > 0 {
		vecLRNAVX512(&dst[0], &src[0], n, c, dstStride, srcStride, before, after, k, alpha)
	}
	return n
}

func rtLRNKernelAVX2(dst, src []float32, n, c, dstStride, srcStride, before, after int, k, alpha float32) int {
	// rtLRN has checked that dst and src reach channel c-1's pixel n-1.
	// The kernel does whole vectors of 8 pixels.
	n &^= 7
	if n > 0 {
		vecLRNAVX2(&dst[0], &src[0], n, c, dstStride, srcStride, before, after, k, alpha)
	}
	return n
}
