//go:build amd64 && !purego

package veckernels

import "golang.org/x/sys/cpu"

type kernel struct {
	name  string
	lanes int
	fn    func(d, x []float32, n, c, dstStride, srcStride, before, after int, k, alpha float32)
	row   func(d, s []float32, cols, nr, ow, ox0, sw, rowStep int)
	wIn   func(dst, even, odd []float32, th, tw, ld, ldDst int)
	wOut  func(y, m []float32, n, step, ldY int, bias, lo float32)
	wIn5  func(dst, even, odd []float32, th, tw, ld, ldDst int)
	wOut5 func(y, m []float32, n, step, ldY int, bias, lo float32)
	copy  func(dst, src []float32, rows, n, ldDst, ldSrc int)
	pool  func(dst, src []float32, n, rows, ld int)
	// F(4x4, 3x3): one row of tiles from four planes (column mod 4).
	wIn43  func(dst, p0, p1, p2, p3 []float32, tw, ld, ldDst int)
	wOut43 func(y, m []float32, n, step, ldY int, bias, lo float32)
	// The generic kernels of genForms, in order: one row of tiles from
	// M planes (column mod M) ps elements apart.
	wGenIn  [len(genForms)]func(dst, planes []float32, ps, tw, ld, ldDst int)
	wGenOut [len(genForms)]func(y, m []float32, n, step, ldY int, bias, lo float32)
	// The depthwise convolution and its stride-2 gather.
	dw    func(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope float32)
	evens func(dst, src []float32, rows, n, ldDst, ldSrc int)
}

// kernels lists the kernels this CPU can run.
func kernels() []kernel {
	var ks []kernel
	call := func(f func(d, x *float32, n, c, dstStride, srcStride, before, after int, k, alpha float32)) func(d, x []float32, n, c, dstStride, srcStride, before, after int, k, alpha float32) {
		return func(d, x []float32, n, c, dstStride, srcStride, before, after int, k, alpha float32) {
			if n == 0 {
				return
			}
			_ = d[(c-1)*dstStride+n-1] // the kernel's reach, checked here
			_ = x[(c-1)*srcStride+n-1]
			f(&d[0], &x[0], n, c, dstStride, srcStride, before, after, k, alpha)
		}
	}
	// The Go side of the generated package checks the kernels' reach;
	// here the test sizes its slices to it.
	row := func(f func(d, s *float32, cols, nr, ow, ox0, sw, rowStep int)) func(d, s []float32, cols, nr, ow, ox0, sw, rowStep int) {
		return func(d, s []float32, cols, nr, ow, ox0, sw, rowStep int) {
			f(&d[0], &s[0], cols, nr, ow, ox0, sw, rowStep)
		}
	}
	wIn := func(f func(dst, even, odd *float32, th, tw, ld, ldDst int)) func(dst, even, odd []float32, th, tw, ld, ldDst int) {
		return func(dst, even, odd []float32, th, tw, ld, ldDst int) {
			f(&dst[0], &even[0], &odd[0], th, tw, ld, ldDst)
		}
	}
	wOut := func(f func(y, m *float32, n, step, ldY int, bias, lo float32)) func(y, m []float32, n, step, ldY int, bias, lo float32) {
		return func(y, m []float32, n, step, ldY int, bias, lo float32) { f(&y[0], &m[0], n, step, ldY, bias, lo) }
	}
	cp := func(f func(dst, src *float32, rows, n, ldDst, ldSrc int)) func(dst, src []float32, rows, n, ldDst, ldSrc int) {
		return func(dst, src []float32, rows, n, ldDst, ldSrc int) { f(&dst[0], &src[0], rows, n, ldDst, ldSrc) }
	}
	pl := func(f func(dst, src *float32, n, rows, ld int)) func(dst, src []float32, n, rows, ld int) {
		return func(dst, src []float32, n, rows, ld int) { f(&dst[0], &src[0], n, rows, ld) }
	}
	wIn43 := func(f func(dst, p0, p1, p2, p3 *float32, tw, ld, ldDst int)) func(dst, p0, p1, p2, p3 []float32, tw, ld, ldDst int) {
		return func(dst, p0, p1, p2, p3 []float32, tw, ld, ldDst int) {
			f(&dst[0], &p0[0], &p1[0], &p2[0], &p3[0], tw, ld, ldDst)
		}
	}
	wGen := func(f func(dst, planes *float32, ps, tw, ld, ldDst int)) func(dst, planes []float32, ps, tw, ld, ldDst int) {
		return func(dst, planes []float32, ps, tw, ld, ldDst int) { f(&dst[0], &planes[0], ps, tw, ld, ldDst) }
	}
	dw := func(f func(d, s, w *float32, offs *int, taps, rows, cols, ldD, ldS, act int, bias, slope float32)) func(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope float32) {
		return func(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope float32) {
			f(&d[0], &s[0], &w[0], &offs[0], len(offs), rows, cols, ldD, ldS, act, bias, slope)
		}
	}
	if cpu.X86.HasAVX512F {
		ks = append(ks, kernel{"AVX512", 16, call(vecLRNAVX512), row(vecIm2colRowAVX512), wIn(vecWinoInAVX512), wOut(vecWinoOutAVX512), wIn(vecWino5InAVX512), wOut(vecWino5OutAVX512), cp(vecCopyRowsAVX512), pl(vecMaxPool3s2AVX512), wIn43(vecWino43InAVX512), wOut(vecWino43OutAVX512),
			[...]func(dst, planes []float32, ps, tw, ld, ldDst int){wGen(vecWinoInF3x5AVX512), wGen(vecWinoInF4x5AVX512), wGen(vecWinoInF6x3AVX512)},
			[...]func(y, m []float32, n, step, ldY int, bias, lo float32){wOut(vecWinoOutF3x5AVX512), wOut(vecWinoOutF4x5AVX512), wOut(vecWinoOutF6x3AVX512)},
			dw(vecDepthwiseAVX512), cp(vecEvensAVX512)})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, kernel{"AVX2", 8, call(vecLRNAVX2), row(vecIm2colRowAVX2), wIn(vecWinoInAVX2), wOut(vecWinoOutAVX2), wIn(vecWino5InAVX2), wOut(vecWino5OutAVX2), cp(vecCopyRowsAVX2), pl(vecMaxPool3s2AVX2), wIn43(vecWino43InAVX2), wOut(vecWino43OutAVX2),
			[...]func(dst, planes []float32, ps, tw, ld, ldDst int){wGen(vecWinoInF3x5AVX2), wGen(vecWinoInF4x5AVX2), wGen(vecWinoInF6x3AVX2)},
			[...]func(y, m []float32, n, step, ldY int, bias, lo float32){wOut(vecWinoOutF3x5AVX2), wOut(vecWinoOutF4x5AVX2), wOut(vecWinoOutF6x3AVX2)},
			dw(vecDepthwiseAVX2), cp(vecEvensAVX2)})
	}
	return ks
}
