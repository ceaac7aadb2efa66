//go:build arm64 && !purego

package rt

// rtEltKernelsFor returns implementation impl's elementwise NEON kernels
// (asmgen/vec's vecAffineNEON, vecBinaryNEON, vecMeanNEON and
// vecLayerNormNEON), or nils.
func rtEltKernelsFor(impl int) rtEltKernels {
	if impl == rtImplNEON {
		return rtEltKernels{affine: rtAffineNEON, binary: rtBinaryNEON, mean: rtMeanNEON, norm: rtNormNEON}
	}
	return rtEltKernels{}
}

// The wrappers check the kernels' reach.

func rtAffineNEON(d, x, s, t []float32, c, n, ss, ts, act int, slope, hi float32) {
	if rtAffineReach(d, x, s, t, c, n, ss, ts) {
		vecAffineNEON(&d[0], &x[0], &s[0], &t[0], c, n, ss, ts, act, slope, hi)
	}
}

func rtBinaryNEON(d, a, b []float32, n, op, act int, slope, hi float32) {
	if n > 0 {
		_, _, _ = d[n-1], a[n-1], b[n-1]
		vecBinaryNEON(&d[0], &a[0], &b[0], n, op, act, slope, hi)
	}
}

func rtMeanNEON(d, x []float32, c, n int) {
	if c > 0 && n > 0 {
		_, _ = d[c-1], x[c*n-1]
		vecMeanNEON(&d[0], &x[0], c, n)
	}
}

func rtNormNEON(d, x, w, b []float32, c, n, ld int, eps float64) {
	if rtNormReach(d, x, w, b, c, n, ld) {
		vecLayerNormNEON(&d[0], &x[0], &w[0], &b[0], c, n, ld, eps)
	}
}
