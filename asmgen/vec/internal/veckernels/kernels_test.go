package veckernels

import "unsafe"

// A kernel is one implementation's routines, as the tests call them: the
// adapters below turn each routine's pointer arguments into slices. A
// routine an implementation lacks (NEON's, for the kinds without NEON
// routines yet) is nil, and the tests skip it.
type kernel struct {
	name  string
	lanes int
	fn    func(d, x []float32, n, c, dstStride, srcStride, before, after int, k, alpha float32)
	row   func(d, s []float32, cols, nr, ow, ox0, sw, rowStep int)
	copy  func(dst, src []float32, rows, n, ldDst, ldSrc int)
	pool  func(dst, src []float32, n, rows, ld int)
	// The Winograd transforms of winoForms, in order: one row of tiles
	// from M planes (column mod M) ps elements apart, and n tiles out.
	wIn  [len(winoForms)]func(dst, planes []float32, ps, tw, ld, ldDst int)
	wOut [len(winoForms)]func(y, m []float32, n, step, ldY int, bias, lo float32)
	// The depthwise convolution and its stride-2 gather.
	dw    func(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope, hi float32)
	evens func(dst, src []float32, rows, n, ldDst, ldSrc int)
	// The elementwise kernels.
	affine func(d, x, s, t []float32, c, n, ss, ts, act int, slope, hi float32)
	binary func(d, a, b []float32, n, op, act int, slope, hi float32)
	// The max pooling row at stride 1 (pool's is 2).
	pool1 func(dst, src []float32, n, rows, ld int)
}

// The adapters from the routines' pointer signatures to the tests' slices.
func call(f func(d, x *float32, n, c, dstStride, srcStride, before, after int, k, alpha float32)) func(d, x []float32, n, c, dstStride, srcStride, before, after int, k, alpha float32) {
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
func row(f func(d, s *float32, cols, nr, ow, ox0, sw, rowStep int)) func(d, s []float32, cols, nr, ow, ox0, sw, rowStep int) {
	return func(d, s []float32, cols, nr, ow, ox0, sw, rowStep int) {
		f(&d[0], &s[0], cols, nr, ow, ox0, sw, rowStep)
	}
}

func wOut(f func(y, m *float32, n, step, ldY int, bias, lo float32)) func(y, m []float32, n, step, ldY int, bias, lo float32) {
	return func(y, m []float32, n, step, ldY int, bias, lo float32) { f(&y[0], &m[0], n, step, ldY, bias, lo) }
}

func cp(f func(dst, src *float32, rows, n, ldDst, ldSrc int)) func(dst, src []float32, rows, n, ldDst, ldSrc int) {
	return func(dst, src []float32, rows, n, ldDst, ldSrc int) { f(&dst[0], &src[0], rows, n, ldDst, ldSrc) }
}

func pl(f func(dst, src *float32, n, rows, ld int)) func(dst, src []float32, n, rows, ld int) {
	return func(dst, src []float32, n, rows, ld int) { f(&dst[0], &src[0], n, rows, ld) }
}

func wIn(f func(dst, planes *float32, ps, tw, ld, ldDst int)) func(dst, planes []float32, ps, tw, ld, ldDst int) {
	return func(dst, planes []float32, ps, tw, ld, ldDst int) { f(&dst[0], &planes[0], ps, tw, ld, ldDst) }
}

func dw(f func(d, s, w *float32, offs *int, taps, rows, cols, ldD, ldS, act int, bias, slope, hi float32)) func(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	return func(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
		f(&d[0], &s[0], &w[0], &offs[0], len(offs), rows, cols, ldD, ldS, act, bias, slope, hi)
	}
}

// The elementwise kernels take any length: the test's slices end
// at the last element they may touch.
func affine(f func(d, x, s, t *float32, c, n, ss, ts, act int, slope, hi float32)) func(d, x, s, t []float32, c, n, ss, ts, act int, slope, hi float32) {
	return func(d, x, s, t []float32, c, n, ss, ts, act int, slope, hi float32) {
		f(unsafe.SliceData(d), unsafe.SliceData(x), &s[0], &t[0], c, n, ss, ts, act, slope, hi)
	}
}

func binary(f func(d, a, b *float32, n, op, act int, slope, hi float32)) func(d, a, b []float32, n, op, act int, slope, hi float32) {
	return func(d, a, b []float32, n, op, act int, slope, hi float32) {
		f(unsafe.SliceData(d), unsafe.SliceData(a), unsafe.SliceData(b), n, op, act, slope, hi)
	}
}
