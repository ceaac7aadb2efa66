//go:build arm64 && !purego

package rt

// rtPoolKernelsFor returns implementation impl's NEON kernels of pooling
// rows (asmgen/vec's vecMaxPool3s1NEON, vecMaxPool3s2NEON,
// vecMaxPoolRowNEON and vecAvgPoolRowNEON), or nil.
func rtPoolKernelsFor(impl int) *rtPoolKernels {
	if impl == rtImplNEON {
		return &rtPoolKernels{max3: rtMaxPoolRowNEON, row: rtPoolRowNEON, rowStrides: 4}
	}
	return nil
}

func rtMaxPoolRowNEON(dst, src []float32, n, rows, ld, sw int) int {
	n = rtPoolWholeVectors(src, n, rows, ld, 3, sw, 4, 2)
	if n <= 0 {
		return 0
	}
	_ = dst[n-1]
	if sw == 1 {
		vecMaxPool3s1NEON(&dst[0], &src[0], n, rows, ld)
	} else {
		vecMaxPool3s2NEON(&dst[0], &src[0], n, rows, ld)
	}
	return n
}

func rtPoolRowNEON(dst, src []float32, n, rows, ld, kw, sw int, div float32) int {
	n = rtPoolWholeVectors(src, n, rows, ld, kw, sw, 4, 4)
	if n <= 0 {
		return 0
	}
	_ = dst[n-1]
	if div == 0 {
		vecMaxPoolRowNEON(&dst[0], &src[0], n, rows, ld, kw, sw)
	} else {
		vecAvgPoolRowNEON(&dst[0], &src[0], n, rows, ld, kw, sw, div)
	}
	return n
}
