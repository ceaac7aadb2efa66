package rt

import "math"

// The elementwise layers: an unfolded batchnorm's scale and shift,
// arithmetic with broadcasting, and activations that stand alone, with an
// implementation's SIMD kernels where it has them and in Go otherwise.

// rtEltKernels are an implementation's elementwise SIMD kernels
// (asmgen/vec's vecAffine and vecBinary), or nils. With act a code of
// rtVecAct (0 leaves the activation to the caller), slope and hi its
// parameters:
//
// affine computes, for ch < c and i < n,
//
//	d[ch*n+i] = act(x[ch*n+i]*s[ch*ss] + t[ch*ts]),
//
// the product and the sum each rounded as Go rounds them: with ss or ts 0
// one value serves every channel; with t -0 (rtNegZero) and s 1 (rtOne)
// the arithmetic is exact.
//
// binary computes d[i] = act(a[i] op b[i]) for i < n, op one of rtOpAdd,
// rtOpSub, rtOpMul and rtOpDiv.
//
// mean sets d[ch] to the mean of x[ch*n : ch*n+n] for ch < c, summed in
// float64 (global average pooling).
//
// norm is rtLayerNorm's arithmetic over positions [0, n) of c channels,
// ld apart, for n a multiple of rtNormStep, each operation rounded as
// Go's (the same bits on amd64, where Go fuses no multiply-add).
//
// affine, binary and mean read and write only those elements and accept
// any n; d may be an input. The activations are rtActivate's within a few
// ulp (sigmoid and SiLU compute e^x as asmgen/gemm's epilogue does).
type rtEltKernels struct {
	affine func(d, x, s, t []float32, c, n, ss, ts, act int, slope, hi float32)
	binary func(d, a, b []float32, n, op, act int, slope, hi float32)
	mean   func(d, x []float32, c, n int)
	norm   func(d, x, w, b []float32, c, n, ld int, eps float64)
}

// rtNormStep is how many positions norm takes at a time (asmgen/vec's
// LayerNormStep).
const rtNormStep = 8

// rtNormReach checks that norm's operands hold what it reads and writes,
// and reports whether there is anything to do: the wrappers of
// elt_amd64.go and elt_arm64.go call it. It panics if n is not a multiple
// of rtNormStep.
func rtNormReach(d, x, w, b []float32, c, n, ld int) bool {
	if n%rtNormStep != 0 {
		panic("rt: layernorm kernel over a partial step")
	}
	if c <= 0 || n <= 0 {
		return false
	}
	last := (c-1)*ld + n - 1
	_, _, _, _ = d[last], x[last], w[c-1], b[c-1]
	return true
}

// rtAffineReach checks that affine's operands hold what it reads and
// writes, and reports whether there is anything to do: the wrappers of
// elt_amd64.go and elt_arm64.go call it.
func rtAffineReach(d, x, s, t []float32, c, n, ss, ts int) bool {
	if c <= 0 || n <= 0 {
		return false
	}
	_, _ = d[c*n-1], x[c*n-1]
	_, _ = s[(c-1)*ss], t[(c-1)*ts]
	return true
}

// rtOne and rtNegZero are affine's identities: x*1 and x + -0 are x, even
// for x -0.
var (
	rtOne     = [1]float32{1}
	rtNegZero = [1]float32{math.Float32frombits(1 << 31)}
)

// rtActivateTo sets dst = act(src) (dst may be src): an activation layer.
func rtActivateTo(dst, src []float32, act rtAct, k *rtEltKernels) {
	if code := rtVecAct(act); k.affine != nil && code != 0 {
		k.affine(dst, src, rtOne[:], rtNegZero[:], 1, len(src), 0, 0, code, act.A, act.B)
		return
	}
	if len(src) > 0 && &dst[0] != &src[0] {
		copy(dst, src)
	}
	rtActivateAll(dst[:len(src)], act)
}

// rtScaleShift computes dst[c][p] = src[c][p]*scale[c] + shift[c] over
// [C][HW], then the activation: a batchnorm that could not be folded. dst
// may be src.
func rtScaleShift(dst, src []float32, scale, shift []float32, hw int, act rtAct, k *rtEltKernels) {
	if k.affine != nil {
		code := rtVecAct(act)
		k.affine(dst, src, scale, shift, len(scale), hw, 1, 1, code, act.A, act.B)
		rtEltAct(dst[:len(scale)*hw], code, act)
		return
	}
	for c := range scale {
		s, t := scale[c], shift[c]
		d, x := dst[c*hw:(c+1)*hw], src[c*hw:(c+1)*hw]
		for i, v := range x {
			d[i] = rtActivate(float32(v*s)+t, act) // not fused on arm64 either
		}
	}
}

// The elementwise arithmetic ops of rtArith.
const (
	rtOpAdd = iota
	rtOpSub
	rtOpMul
	rtOpDiv
)

// rtBcast is how an operand of rtArith is read over one image of C×H×W
// values: its strides along C, H and W, 0 where it is broadcast or has
// size 1 (rtStrides).
type rtBcast struct{ SC, SH, SW int }

// rtArith computes dst = act(a op b) over one image of c×h×w values,
// reading a and b with their strides (NumPy broadcasting). dst may be a
// or b when that operand is not broadcast. With k's kernels, operands of
// the same shape go to k.binary, and an add or a multiply by a value per
// channel (squeeze-excite's) or one for the image to k.affine; the rest
// is Go's.
func rtArith(dst, a, b []float32, op, c, h, w int, sa, sb rtBcast, act rtAct, k *rtEltKernels) {
	full, code := rtStrides(c, h, w), rtVecAct(act)
	dst = dst[:c*h*w]
	switch {
	case k.binary == nil:
	case sa == full && sb == full:
		k.binary(dst, a, b, len(dst), op, code, act.A, act.B)
		rtEltAct(dst, code, act)
		return
	case (op == rtOpAdd || op == rtOpMul) && (sa == full) != (sb == full):
		x, y, sy := a, b, sb
		if sb == full {
			x, y, sy = b, a, sa // both ops commute
		}
		if sy.SH == 0 && sy.SW == 0 { // one value per channel, or for all
			if op == rtOpMul {
				k.affine(dst, x, y, rtNegZero[:], c, h*w, sy.SC, 0, code, act.A, act.B)
			} else {
				k.affine(dst, x, rtOne[:], y, c, h*w, 0, sy.SC, code, act.A, act.B)
			}
			rtEltAct(dst, code, act)
			return
		}
	}
	if sa == full && sb == full {
		rtArithRow(dst, a, b, op, 1, 1)
	} else {
		for ci := range c {
			for y := range h {
				rtArithRow(dst[(ci*h+y)*w:(ci*h+y+1)*w], a[ci*sa.SC+y*sa.SH:], b[ci*sb.SC+y*sb.SH:], op, sa.SW, sb.SW)
			}
		}
	}
	rtActivateAll(dst, act)
}

// rtEltAct applies to dst the activation a kernel left undone (code 0).
func rtEltAct(dst []float32, code int, act rtAct) {
	if code == 0 && act.Kind != rtActNone {
		rtActivateAll(dst, act)
	}
}

// rtStrides are the strides of an operand of c×h×w values that is not
// broadcast, as codegen writes them: 0 along axes of size 1.
func rtStrides(c, h, w int) rtBcast {
	st := func(size, stride int) int {
		if size == 1 {
			return 0
		}
		return stride
	}
	return rtBcast{st(c, h*w), st(h, w), st(w, 1)}
}

// rtArithRow computes d[i] = a[i·as] op b[i·bs], as and bs 0 or 1.
func rtArithRow(d, a, b []float32, op, as, bs int) {
	switch {
	case as == 1 && bs == 1:
		a, b = a[:len(d)], b[:len(d)]
		switch op {
		case rtOpAdd:
			for i := range d {
				d[i] = a[i] + b[i]
			}
		case rtOpSub:
			for i := range d {
				d[i] = a[i] - b[i]
			}
		case rtOpMul:
			for i := range d {
				d[i] = a[i] * b[i]
			}
		case rtOpDiv:
			for i := range d {
				d[i] = a[i] / b[i]
			}
		}
	case as == 1:
		a, v := a[:len(d)], b[0]
		switch op {
		case rtOpAdd:
			for i := range d {
				d[i] = a[i] + v
			}
		case rtOpSub:
			for i := range d {
				d[i] = a[i] - v
			}
		case rtOpMul:
			for i := range d {
				d[i] = a[i] * v
			}
		case rtOpDiv:
			for i := range d {
				d[i] = a[i] / v
			}
		}
	case bs == 1:
		v, b := a[0], b[:len(d)]
		switch op {
		case rtOpAdd:
			for i := range d {
				d[i] = v + b[i]
			}
		case rtOpSub:
			for i := range d {
				d[i] = v - b[i]
			}
		case rtOpMul:
			for i := range d {
				d[i] = v * b[i]
			}
		case rtOpDiv:
			for i := range d {
				d[i] = v / b[i]
			}
		}
	default:
		var v float32
		switch op {
		case rtOpAdd:
			v = a[0] + b[0]
		case rtOpSub:
			v = a[0] - b[0]
		case rtOpMul:
			v = a[0] * b[0]
		case rtOpDiv:
			v = a[0] / b[0]
		}
		for i := range d {
			d[i] = v
		}
	}
}

// rtGlobalAvg averages each of the C planes of hw pixels of src into dst[c],
// then applies the activation: with the implementation's vecMean if it has
// one, else in Go. Both sum in float64; Go four sums at a time, so that
// each add does not wait for the one before.
func rtGlobalAvg(dst, src []float32, hw int, act rtAct, k *rtEltKernels) {
	if k.mean != nil {
		k.mean(dst, src, len(dst), hw)
		if act.Kind != rtActNone {
			rtActivateAll(dst, act)
		}
		return
	}
	for c := range dst {
		x := src[c*hw : (c+1)*hw]
		var s0, s1, s2, s3 float64
		for len(x) >= 4 {
			s0 += float64(x[0])
			s1 += float64(x[1])
			s2 += float64(x[2])
			s3 += float64(x[3])
			x = x[4:]
		}
		for _, v := range x {
			s0 += float64(v)
		}
		dst[c] = rtActivate(float32((s0+s1+(s2+s3))/float64(hw)), act)
	}
}

// rtLayerNorm normalises one image of c channels of hw positions over its
// channels at each position: with μ and σ² the mean and biased variance of
// the channels, dst = (x − μ)/√(σ² + eps)·w[ch] + b[ch]. It normalises
// positions [lo, hi) (a task's), 64 at a time, reading whole rows of each
// channel: one pass sums x and x² in float64 (σ² = E[x²] − μ², whose
// cancellation float64 absorbs: float32 inputs carry 24 bits, float64 53),
// a second writes dst (in float64 too: x·(1/σ) − μ/σ in float32 loses
// the digits of a channel whose mean is large against its spread).
// Three passes, the variance's from μ, took 8% of ConvNeXt-Tiny, two take
// 15% less time. With k's norm kernel (vecLayerNorm) the positions go
// rtNormStep at a time in SIMD, the last few in Go; as scalar Go they took
// 4.1 ms of ConvNeXt-Tiny's 24 on one thread. dst may be src.
func rtLayerNorm(dst, src, w, b []float32, c, hw, lo, hi int, eps float64, k *rtEltKernels) {
	if k.norm != nil {
		n := (hi - lo) / rtNormStep * rtNormStep
		k.norm(dst[lo:], src[lo:], w, b, c, n, hw, eps)
		lo += n
	}
	const block = 64
	var mean, inv [block]float64
	for p0 := lo; p0 < hi; p0 += block {
		n := min(block, hi-p0)
		m, sq := mean[:n], inv[:n]
		clear(m)
		clear(sq)
		for ch := range c {
			row := src[ch*hw+p0 : ch*hw+p0+n]
			for i, v := range row {
				x := float64(v)
				m[i] += x
				sq[i] += x * x
			}
		}
		for i := range m {
			mu := m[i] / float64(c)
			v := max(sq[i]/float64(c)-mu*mu, 0)
			m[i], sq[i] = mu, 1/math.Sqrt(v+eps)
		}
		for ch := range c {
			wc, bc := float64(w[ch]), float64(b[ch])
			row := dst[ch*hw+p0 : ch*hw+p0+n]
			for i, v := range src[ch*hw+p0 : ch*hw+p0+n] {
				row[i] = float32((float64(v)-m[i])*sq[i]*wc + bc)
			}
		}
	}
}
