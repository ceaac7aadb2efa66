//go:build !amd64 || purego

package veckernels

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

// kernels: the assembly exists only on amd64 without purego.
func kernels() []kernel { return nil }
