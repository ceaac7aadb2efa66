//go:build arm64 && !purego

package rt

// rtDWKernelsFor returns implementation impl's NEON depthwise convolution
// kernels (asmgen/vec's vecDepthwiseNEON, vecCopyRowsNEON, vecEvensNEON,
// vecGroupedDWNEON and vecDepthwiseTall), or nils.
func rtDWKernelsFor(impl int) rtDWKernels {
	if impl == rtImplNEON {
		// The row's last vector ends at its end when it has 4 or more.
		return rtDWKernels{lanes: 4, minCols: 4, conv: rtDWConvNEON, rows: rtDWRowsNEON, evens: rtDWEvensNEON, grouped: rtDWGroupedNEON, packW: true,
			tall: [8][8]rtDWTall{2: {1: rtDWTall21NEON}, 3: {0: rtDWTall30NEON, 2: rtDWTall32NEON}, 4: {3: rtDWTall43NEON}, 5: {0: rtDWTall50NEON}, 7: {0: rtDWTall70NEON}}}
	}
	return rtDWKernels{}
}

// The wrappers: rtDepthwise and rtDWGather have checked the slices' reach.

func rtDWConvNEON(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseNEON(&d[0], &s[0], &w[0], &offs[0], len(offs), rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWRowsNEON(dst, src []float32, rows, n, ldDst, ldSrc int) {
	vecCopyRowsNEON(&dst[0], &src[0], rows, n, ldDst, ldSrc)
}

func rtDWEvensNEON(dst, src []float32, rows, n, ldDst, ldSrc int) {
	vecEvensNEON(&dst[0], &src[0], rows, n, ldDst, ldSrc)
}

func rtDWGroupedNEON(d []float32, ldD int, s, w []float32, ldW int, offs []int, n, act int, bias []float32, slope, hi float32) {
	vecGroupedDWNEON(&d[0], ldD, &s[0], &w[0], ldW, &offs[0], len(offs), n, act, &bias[0], slope, hi)
}

func rtDWTall30NEON(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall30NEON(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall50NEON(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall50NEON(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall70NEON(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall70NEON(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall21NEON(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall21NEON(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall32NEON(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall32NEON(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall43NEON(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall43NEON(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}
