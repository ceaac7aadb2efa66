//go:build amd64 && !purego

package rt

// rtDWKernelsFor returns implementation impl's SIMD depthwise convolution
// kernels (asmgen/vec's vecDepthwise, vecCopyRows, vecEvens, vecGroupedDW,
// vecDepthwiseTall, and vecDepthwiseLanes with vecToLanes and
// vecFromLanes), or nils.
func rtDWKernelsFor(impl int) rtDWKernels {
	switch impl {
	case rtImplAVX512:
		// AVX-512 masks its stores: any number of columns.
		return rtDWKernels{lanes: 16, minCols: 1, conv: rtDWConvAVX512, rows: rtDWRowsAVX512, evens: rtDWEvensAVX512, grouped: rtDWGroupedAVX512,
			tall:      [8][8]rtDWTall{2: {1: rtDWTall21AVX512}, 3: {0: rtDWTall30AVX512, 2: rtDWTall32AVX512}, 4: {3: rtDWTall43AVX512}, 5: {0: rtDWTall50AVX512}, 7: {0: rtDWTall70AVX512}},
			lanesConv: rtDWLanesAVX512, toLanes: rtToLanesAVX512, fromLanes: rtFromLanesAVX512}
	case rtImplAVX2:
		return rtDWKernels{lanes: 8, minCols: 8, conv: rtDWConvAVX2, rows: rtDWRowsAVX2, evens: rtDWEvensAVX2, grouped: rtDWGroupedAVX2,
			tall:      [8][8]rtDWTall{2: {1: rtDWTall21AVX2}, 3: {0: rtDWTall30AVX2, 2: rtDWTall32AVX2}, 4: {3: rtDWTall43AVX2}, 5: {0: rtDWTall50AVX2}, 7: {0: rtDWTall70AVX2}},
			lanesConv: rtDWLanesAVX2, toLanes: rtToLanesAVX2, fromLanes: rtFromLanesAVX2}
	}
	return rtDWKernels{}
}

// The wrappers: rtDepthwise and rtDWGather have checked the slices' reach.

func rtDWConvAVX512(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseAVX512(&d[0], &s[0], &w[0], &offs[0], len(offs), rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWConvAVX2(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseAVX2(&d[0], &s[0], &w[0], &offs[0], len(offs), rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWGroupedAVX512(d []float32, ldD int, s, w []float32, ldW int, offs []int, n, act int, bias []float32, slope, hi float32) {
	vecGroupedDWAVX512(&d[0], ldD, &s[0], &w[0], ldW, &offs[0], len(offs), n, act, &bias[0], slope, hi)
}

func rtDWGroupedAVX2(d []float32, ldD int, s, w []float32, ldW int, offs []int, n, act int, bias []float32, slope, hi float32) {
	vecGroupedDWAVX2(&d[0], ldD, &s[0], &w[0], ldW, &offs[0], len(offs), n, act, &bias[0], slope, hi)
}

func rtDWRowsAVX512(dst, src []float32, rows, n, ldDst, ldSrc int) {
	vecCopyRowsAVX512(&dst[0], &src[0], rows, n, ldDst, ldSrc)
}

func rtDWRowsAVX2(dst, src []float32, rows, n, ldDst, ldSrc int) {
	vecCopyRowsAVX2(&dst[0], &src[0], rows, n, ldDst, ldSrc)
}

func rtDWEvensAVX512(dst, src []float32, rows, n, ldDst, ldSrc int) {
	vecEvensAVX512(&dst[0], &src[0], rows, n, ldDst, ldSrc)
}

func rtDWEvensAVX2(dst, src []float32, rows, n, ldDst, ldSrc int) {
	vecEvensAVX2(&dst[0], &src[0], rows, n, ldDst, ldSrc)
}

func rtDWTall30AVX512(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall30AVX512(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall50AVX512(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall50AVX512(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall70AVX512(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall70AVX512(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall21AVX512(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall21AVX512(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall32AVX512(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall32AVX512(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall43AVX512(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall43AVX512(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall30AVX2(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall30AVX2(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall50AVX2(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall50AVX2(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall70AVX2(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall70AVX2(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall21AVX2(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall21AVX2(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall32AVX2(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall32AVX2(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWTall43AVX2(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	vecDepthwiseTall43AVX2(&d[0], &s[0], &w[0], &offs[0], kw, ldW, rows, cols, ldD, ldS, act, bias, slope, hi)
}

func rtDWLanesAVX512(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias []float32, slope, hi float32) {
	vecDepthwiseLanesAVX512(&d[0], &s[0], &w[0], &offs[0], len(offs), rows, cols, ldD, ldS, act, &bias[0], slope, hi)
}

func rtDWLanesAVX2(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias []float32, slope, hi float32) {
	vecDepthwiseLanesAVX2(&d[0], &s[0], &w[0], &offs[0], len(offs), rows, cols, ldD, ldS, act, &bias[0], slope, hi)
}

func rtToLanesAVX512(dst, src []float32, pos []int32, n, ld, chans int) {
	vecToLanesAVX512(&dst[0], &src[0], &pos[0], n, ld, chans)
}

func rtToLanesAVX2(dst, src []float32, pos []int32, n, ld, chans int) {
	vecToLanesAVX2(&dst[0], &src[0], &pos[0], n, ld, chans)
}

func rtFromLanesAVX512(dst, src []float32, n, ld, chans int) {
	vecFromLanesAVX512(&dst[0], &src[0], n, ld, chans)
}

func rtFromLanesAVX2(dst, src []float32, n, ld, chans int) {
	vecFromLanesAVX2(&dst[0], &src[0], n, ld, chans)
}
