//go:build amd64 && !purego

package rt

// rtMaxPoolRowFor returns implementation impl's SIMD row kernel of 3-wide
// max pooling at stride 1 or 2 (asmgen/vec's vecMaxPool3s1 and
// vecMaxPool3s2), or nil.
func rtMaxPoolRowFor(impl int) rtMaxPoolRow {
	switch impl {
	case rtImplAVX512:
		return rtMaxPoolRowAVX512
	case rtImplAVX2:
		return rtMaxPoolRowAVX2
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
	n = rtPoolWholeVectors(src, n, rows, ld, sw, 8)
	if n <= 0 {
		return 0
	}
	if sw == 1 {
		vecMaxPool3s1AVX2(&dst[0], &src[0], n, rows, ld)
	} else {
		vecMaxPool3s2AVX2(&dst[0], &src[0], n, rows, ld)
	}
	return n
}
