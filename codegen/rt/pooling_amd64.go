//go:build amd64 && !purego

package rt

// rtPoolKernelsFor returns implementation impl's SIMD kernels of pooling
// rows (asmgen/vec's vecMaxPool3s1, vecMaxPool3s2, vecMaxPoolRow and
// vecAvgPoolRow), or nil.
func rtPoolKernelsFor(impl int) *rtPoolKernels {
	switch impl {
	case rtImplAVX512:
		return &rtPoolKernels{max3: rtMaxPoolRowAVX512, row: rtPoolRowAVX512, rowStrides: rtAnyStride}
	case rtImplAVX2:
		return &rtPoolKernels{max3: rtMaxPoolRowAVX2, row: rtPoolRowAVX2, rowStrides: rtAnyStride}
	}
	return nil
}

func rtMaxPoolRowAVX512(dst, src []float32, n, rows, ld, sw int) int {
	if n <= 0 || sw < 1 || sw > 2 {
		return 0
	}
	// The kernel writes n outputs and reads every row to element
	// sw·(n-1)+2, the last window's end.
	_, _ = dst[n-1], src[(rows-1)*ld+sw*(n-1)+2]
	if sw == 1 {
		vecMaxPool3s1AVX512(&dst[0], &src[0], n, rows, ld)
	} else {
		vecMaxPool3s2AVX512(&dst[0], &src[0], n, rows, ld)
	}
	return n
}

func rtMaxPoolRowAVX2(dst, src []float32, n, rows, ld, sw int) int {
	n = rtPoolWholeVectors(src, n, rows, ld, 3, sw, 8, 2)
	if n <= 0 {
		return 0
	}
	_ = dst[n-1]
	if sw == 1 {
		vecMaxPool3s1AVX2(&dst[0], &src[0], n, rows, ld)
	} else {
		vecMaxPool3s2AVX2(&dst[0], &src[0], n, rows, ld)
	}
	return n
}

func rtPoolRowAVX512(dst, src []float32, n, rows, ld, kw, sw int, div float32) int {
	if n <= 0 || sw < 1 || kw < 1 || rows < 1 {
		return 0
	}
	// The kernel writes n outputs and reads every row to the last
	// window's end.
	_, _ = dst[n-1], src[(rows-1)*ld+sw*(n-1)+kw-1]
	if div == 0 {
		vecMaxPoolRowAVX512(&dst[0], &src[0], n, rows, ld, kw, sw)
	} else {
		vecAvgPoolRowAVX512(&dst[0], &src[0], n, rows, ld, kw, sw, div)
	}
	return n
}

func rtPoolRowAVX2(dst, src []float32, n, rows, ld, kw, sw int, div float32) int {
	n = rtPoolWholeVectors(src, n, rows, ld, kw, sw, 8, rtAnyStride)
	if n <= 0 {
		return 0
	}
	_ = dst[n-1]
	if div == 0 {
		vecMaxPoolRowAVX2(&dst[0], &src[0], n, rows, ld, kw, sw)
	} else {
		vecAvgPoolRowAVX2(&dst[0], &src[0], n, rows, ld, kw, sw, div)
	}
	return n
}
