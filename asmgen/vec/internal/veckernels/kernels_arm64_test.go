//go:build arm64 && !purego

package veckernels

// kernels lists the NEON kernels (every arm64 CPU has Advanced SIMD); the
// kinds without NEON routines yet are nil.
func kernels() []kernel {
	return []kernel{{name: "NEON", lanes: 4,
		copy: cp(vecCopyRowsNEON), pool: pl(vecMaxPool3s2NEON), pool1: pl(vecMaxPool3s1NEON),
		dw: dw(vecDepthwiseNEON), evens: cp(vecEvensNEON),
		affine: affine(vecAffineNEON), binary: binary(vecBinaryNEON)}}
}
