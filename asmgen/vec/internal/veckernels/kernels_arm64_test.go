//go:build arm64 && !purego

package veckernels

// kernels lists the NEON kernels (every arm64 CPU has Advanced SIMD); the
// kinds without NEON routines yet are nil.
func kernels() []kernel {
	return []kernel{{name: "NEON", lanes: 4,
		fn: call(vecLRNNEON), row: row(vecIm2colRowNEON), copy: cp(vecCopyRowsNEON), pool: pl(vecMaxPool3s2NEON), pool1: pl(vecMaxPool3s1NEON),
		wIn:  [...]func(dst, planes []float32, ps, tw, ld, ldDst int){wIn(vecWinoInF2x3NEON), wIn(vecWinoInF4x3NEON), wIn(vecWinoInF2x5NEON), wIn(vecWinoInF3x5NEON), wIn(vecWinoInF4x5NEON), wIn(vecWinoInF6x3NEON)},
		wOut: [...]func(y, m []float32, n, step, ldY int, bias, lo float32){wOut(vecWinoOutF2x3NEON), wOut(vecWinoOutF4x3NEON), wOut(vecWinoOutF2x5NEON), wOut(vecWinoOutF3x5NEON), wOut(vecWinoOutF4x5NEON), wOut(vecWinoOutF6x3NEON)},
		dw:   dw(vecDepthwiseNEON), evens: cp(vecEvensNEON),
		affine: affine(vecAffineNEON), binary: binary(vecBinaryNEON)}}
}
