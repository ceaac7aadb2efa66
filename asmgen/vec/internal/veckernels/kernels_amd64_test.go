//go:build amd64 && !purego

package veckernels

import "golang.org/x/sys/cpu"

// kernels lists the kernels this CPU can run.
func kernels() []kernel {
	var ks []kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, kernel{"AVX512", 16, call(vecLRNAVX512), row(vecIm2colRowAVX512), cp(vecCopyRowsAVX512), pl(vecMaxPool3s2AVX512),
			[...]func(dst, planes []float32, ps, tw, ld, ldDst int){wIn(vecWinoInF2x3AVX512), wIn(vecWinoInF4x3AVX512), wIn(vecWinoInF2x5AVX512), wIn(vecWinoInF3x5AVX512), wIn(vecWinoInF4x5AVX512), wIn(vecWinoInF6x3AVX512)},
			[...]func(y, m []float32, n, step, ldY int, bias, lo float32){wOut(vecWinoOutF2x3AVX512), wOut(vecWinoOutF4x3AVX512), wOut(vecWinoOutF2x5AVX512), wOut(vecWinoOutF3x5AVX512), wOut(vecWinoOutF4x5AVX512), wOut(vecWinoOutF6x3AVX512)},
			dw(vecDepthwiseAVX512), cp(vecEvensAVX512),
			affine(vecAffineAVX512), binary(vecBinaryAVX512), pl(vecMaxPool3s1AVX512)})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, kernel{"AVX2", 8, call(vecLRNAVX2), row(vecIm2colRowAVX2), cp(vecCopyRowsAVX2), pl(vecMaxPool3s2AVX2),
			[...]func(dst, planes []float32, ps, tw, ld, ldDst int){wIn(vecWinoInF2x3AVX2), wIn(vecWinoInF4x3AVX2), wIn(vecWinoInF2x5AVX2), wIn(vecWinoInF3x5AVX2), wIn(vecWinoInF4x5AVX2), wIn(vecWinoInF6x3AVX2)},
			[...]func(y, m []float32, n, step, ldY int, bias, lo float32){wOut(vecWinoOutF2x3AVX2), wOut(vecWinoOutF4x3AVX2), wOut(vecWinoOutF2x5AVX2), wOut(vecWinoOutF3x5AVX2), wOut(vecWinoOutF4x5AVX2), wOut(vecWinoOutF6x3AVX2)},
			dw(vecDepthwiseAVX2), cp(vecEvensAVX2),
			affine(vecAffineAVX2), binary(vecBinaryAVX2), pl(vecMaxPool3s1AVX2)})
	}
	return ks
}
