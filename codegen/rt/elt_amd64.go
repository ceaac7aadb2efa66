//go:build amd64 && !purego

package rt

// rtEltKernelsFor returns implementation impl's elementwise SIMD kernels
// (asmgen/vec's vecAffine, vecBinary, vecMean and vecLayerNorm), or nils.
func rtEltKernelsFor(impl int) rtEltKernels {
	switch impl {
	case rtImplAVX512:
		return rtEltKernels{affine: rtAffineAVX512, binary: rtBinaryAVX512, mean: rtMeanAVX512, norm: rtNormAVX512}
	case rtImplAVX2:
		return rtEltKernels{affine: rtAffineAVX2, binary: rtBinaryAVX2, mean: rtMeanAVX2, norm: rtNormAVX2}
	}
	return rtEltKernels{}
}

// The wrappers check the kernels' reach.

func rtAffineAVX512(d, x, s, t []float32, c, n, ss, ts, act int, slope, hi float32) {
	if rtAffineReach(d, x, s, t, c, n, ss, ts) {
		vecAffineAVX512(&d[0], &x[0], &s[0], &t[0], c, n, ss, ts, act, slope, hi)
	}
}

func rtAffineAVX2(d, x, s, t []float32, c, n, ss, ts, act int, slope, hi float32) {
	if rtAffineReach(d, x, s, t, c, n, ss, ts) {
		vecAffineAVX2(&d[0], &x[0], &s[0], &t[0], c, n, ss, ts, act, slope, hi)
	}
}

func rtBinaryAVX512(d, a, b []float32, n, op, act int, slope, hi float32) {
	if n > 0 {
		_, _, _ = d[n-1], a[n-1], b[n-1]
		vecBinaryAVX512(&d[0], &a[0], &b[0], n, op, act, slope, hi)
	}
}

func rtBinaryAVX2(d, a, b []float32, n, op, act int, slope, hi float32) {
	if n > 0 {
		_, _, _ = d[n-1], a[n-1], b[n-1]
		vecBinaryAVX2(&d[0], &a[0], &b[0], n, op, act, slope, hi)
	}
}

func rtMeanAVX512(d, x []float32, c, n int) {
	if c > 0 && n > 0 {
		_, _ = d[c-1], x[c*n-1]
		vecMeanAVX512(&d[0], &x[0], c, n)
	}
}

func rtMeanAVX2(d, x []float32, c, n int) {
	if c > 0 && n > 0 {
		_, _ = d[c-1], x[c*n-1]
		vecMeanAVX2(&d[0], &x[0], c, n)
	}
}

func rtNormAVX512(d, x, w, b []float32, c, n, ld int, eps float64) {
	if rtNormReach(d, x, w, b, c, n, ld) {
		vecLayerNormAVX512(&d[0], &x[0], &w[0], &b[0], c, n, ld, eps)
	}
}

func rtNormAVX2(d, x, w, b []float32, c, n, ld int, eps float64) {
	if rtNormReach(d, x, w, b, c, n, ld) {
		vecLayerNormAVX2(&d[0], &x[0], &w[0], &b[0], c, n, ld, eps)
	}
}
