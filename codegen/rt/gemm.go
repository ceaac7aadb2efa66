package rt

import (
	"math"
	"runtime"
	"unsafe"
)

// rtAct is an activation applied by an epilogue, as the generated code
// passes it: a kind (ir.ActKind's values, in its order) and its constants:
// leaky ReLU's slope A, clip's bounds [A, B], hardsigmoid's A·x + B. Add
// makes a GEMM's epilogue (rtGemmStore) add C's contents before it
// activates: a residual add fused into the convolution before it.
type rtAct struct {
	Kind int
	A, B float32
	Add  bool
}

// The kinds of rtAct, ir.ActKind's values.
const (
	rtActNone = iota
	rtActReLU
	rtActLeakyReLU
	rtActSigmoid
	rtActTanh
	rtActClip
	rtActHardSigmoid
	rtActHardSwish
	rtActSiLU
	rtActGELU
	rtActGELUTanh
)

// rtGemm is the pure-Go micro-kernel, the counterpart of the generated
// assembly: for r < sm and j < sn,
//
//	c[r*ldc+j] = act(bias[r] + sum_kk a[kk*mr+r] * b[kk*nr+j])
//
// with bias nil meaning zero. a is an mr-row panel, b an nr-column panel
// (see rtPackRows and rtIm2col). mr*nr must be at most 512. Every sum
// adds its products in kk order from zero, whichever loop computes it, so
// that the result does not depend on the loop (nor on rtGemmWide).
func rtGemm(mr, nr, k int, a, b, c []float32, ldc int, bias []float32, act rtAct, sm, sn int) {
	var acc [512]float32
	t := acc[:mr*nr]
	a = a[:k*mr]
	b = b[:k*nr]
	if mr == 4 && nr == 16 && k > 0 {
		// The pure-Go implementation's tile (codegen's impls).
		ap := unsafe.Slice((*[4]float32)(unsafe.Pointer(&a[0])), k)
		bp := unsafe.Slice((*[16]float32)(unsafe.Pointer(&b[0])), k)
		if rtGemmWide {
			rtGemm4x16By4x4(ap, bp, (*[64]float32)(t))
		} else {
			rtGemm4x16By2x3(ap, bp, (*[64]float32)(t))
		}
		rtGemmStore(t, nr, c, ldc, bias, act, sm, sn)
		return
	}
	if rtGemmWide && mr == 1 && nr == 16 && k > 0 {
		// A dense layer's tile at batch 1.
		rtGemm1x16(a, unsafe.Slice((*[16]float32)(unsafe.Pointer(&b[0])), k), (*[16]float32)(t))
		rtGemmStore(t, nr, c, ldc, bias, act, sm, sn)
		return
	}
	for kk := range k {
		bk := b[kk*nr : kk*nr+nr]
		for r, ar := range a[kk*mr : kk*mr+mr] {
			row := t[r*nr : r*nr+nr]
			for j, bv := range bk {
				row[j] += ar * bv
			}
		}
	}
	rtGemmStore(t, nr, c, ldc, bias, act, sm, sn)
}

// rtGemmWide is whether rtGemm's 4x16 tile is computed in 4x4 blocks
// (rtGemm4x16By4x4) rather than 2x3 (rtGemm4x16By2x3), and its 1x16 tile
// in one pass (rtGemm1x16): on the GOARCHes with 32 floating-point
// registers whose compiler fuses c += a*b into one multiply-add, where 16
// sums, 4 values of a and 4 of b fit in registers. Elsewhere (amd64's 15
// usable XMM registers, where Go's scheduler computes all of an
// iteration's products before their adds, so that N sums need 2N
// registers; s390x's 16; 386; wasm) 4x4 blocks spill. Measured: amd64
// and arm64 under qemu (bench/results/2026-12-06-purego-gemm.md); the
// others by the same register count.
const rtGemmWide = runtime.GOARCH == "arm64" || runtime.GOARCH == "riscv64" || runtime.GOARCH == "loong64" ||
	runtime.GOARCH == "ppc64" || runtime.GOARCH == "ppc64le"

// rtGemm4x16By2x3 is rtGemm's sums for a 4x16 tile, t[r*16+j] = sum_kk
// a[kk][r]*b[kk][j], a block of 2 rows by 3 columns at a time (the last
// four columns 2x4): the block's sums are local variables, which the
// compiler keeps in registers through the loop over kk, instead of an
// array in memory that the loop loads and stores for every product. a and
// b are the panels as arrays, one per kk, so that the loop has no bounds
// checks. Six sums and their six products fit amd64's 15 registers (8
// sums spill a little, 16 a lot), and are enough to hide the adds'
// latency.
func rtGemm4x16By2x3(a [][4]float32, b [][16]float32, t *[64]float32) {
	b = b[:len(a)]
	for r := 0; r < 4; r += 2 {
		for j := 0; j < 12; j += 3 {
			var c00, c01, c02, c10, c11, c12 float32
			for i := range a {
				ak := (*[2]float32)(a[i][r:])
				bk := (*[3]float32)(b[i][j:])
				b0, b1, b2 := bk[0], bk[1], bk[2]
				a0, a1 := ak[0], ak[1]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
			}
			o := (*[19]float32)(t[r*16+j:])
			o[0], o[1], o[2] = c00, c01, c02
			o[16], o[17], o[18] = c10, c11, c12
		}
		var c00, c01, c02, c03, c10, c11, c12, c13 float32
		for i := range a {
			ak := (*[2]float32)(a[i][r:])
			bk := (*[4]float32)(b[i][12:])
			b0, b1, b2, b3 := bk[0], bk[1], bk[2], bk[3]
			a0, a1 := ak[0], ak[1]
			c00 += a0 * b0
			c01 += a0 * b1
			c02 += a0 * b2
			c03 += a0 * b3
			c10 += a1 * b0
			c11 += a1 * b1
			c12 += a1 * b2
			c13 += a1 * b3
		}
		o := (*[20]float32)(t[r*16+12:])
		o[0], o[1], o[2], o[3] = c00, c01, c02, c03
		o[16], o[17], o[18], o[19] = c10, c11, c12, c13
	}
}

// rtGemm4x16By4x4 is rtGemm4x16By2x3 in 4x4 blocks, for rtGemmWide.
func rtGemm4x16By4x4(a [][4]float32, b [][16]float32, t *[64]float32) {
	b = b[:len(a)]
	for j := 0; j < 16; j += 4 {
		var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
		for i := range a {
			ak := &a[i]
			bk := (*[4]float32)(b[i][j:])
			b0, b1, b2, b3 := bk[0], bk[1], bk[2], bk[3]
			a0, a1, a2, a3 := ak[0], ak[1], ak[2], ak[3]
			c00 += a0 * b0
			c01 += a0 * b1
			c02 += a0 * b2
			c03 += a0 * b3
			c10 += a1 * b0
			c11 += a1 * b1
			c12 += a1 * b2
			c13 += a1 * b3
			c20 += a2 * b0
			c21 += a2 * b1
			c22 += a2 * b2
			c23 += a2 * b3
			c30 += a3 * b0
			c31 += a3 * b1
			c32 += a3 * b2
			c33 += a3 * b3
		}
		o := (*[52]float32)(t[j:])
		o[0], o[1], o[2], o[3] = c00, c01, c02, c03
		o[16], o[17], o[18], o[19] = c10, c11, c12, c13
		o[32], o[33], o[34], o[35] = c20, c21, c22, c23
		o[48], o[49], o[50], o[51] = c30, c31, c32, c33
	}
}

// rtGemm1x16 is rtGemm's sums for a 1x16 tile, t[j] = sum_kk a[kk]*b[kk][j],
// in one pass over b, for rtGemmWide only: its 16 sums spill elsewhere,
// where rtGemm's general loop is as fast (a dense layer at batch 1 is
// bound by reading b from memory; bench/results/2026-12-06-purego-gemm.md).
func rtGemm1x16(a []float32, b [][16]float32, t *[16]float32) {
	b = b[:len(a)]
	var c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15 float32
	for i, ak := range a {
		bk := &b[i]
		c0 += ak * bk[0]
		c1 += ak * bk[1]
		c2 += ak * bk[2]
		c3 += ak * bk[3]
		c4 += ak * bk[4]
		c5 += ak * bk[5]
		c6 += ak * bk[6]
		c7 += ak * bk[7]
		c8 += ak * bk[8]
		c9 += ak * bk[9]
		c10 += ak * bk[10]
		c11 += ak * bk[11]
		c12 += ak * bk[12]
		c13 += ak * bk[13]
		c14 += ak * bk[14]
		c15 += ak * bk[15]
	}
	*t = [16]float32{c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15}
}

// rtGemmStore is the micro-kernels' epilogue: c[r*ldc+j] = act(t[r*nr+j] +
// bias[r]) for r < sm, j < sn (bias nil meaning zero), plus c[r*ldc+j]'s
// old value before the activation if act.Add.
func rtGemmStore(t []float32, nr int, c []float32, ldc int, bias []float32, act rtAct, sm, sn int) {
	for r := range sm {
		var br float32
		if bias != nil {
			br = bias[r]
		}
		row := c[r*ldc : r*ldc+sn]
		for j := range row {
			v := t[r*nr+j] + br
			if act.Add {
				// As the kernels: C + (bias + sum).
				v = row[j] + v
			}
			row[j] = rtActivate(v, act)
		}
	}
}

// rtActivate applies an activation to one value.
func rtActivate(v float32, act rtAct) float32 {
	switch act.Kind {
	case rtActReLU:
		return max(v, 0)
	case rtActLeakyReLU:
		if v > 0 {
			return v
		}
		return v * act.A
	case rtActSigmoid:
		return rtSigmoid(v)
	case rtActTanh:
		return rtTanh(v)
	case rtActClip:
		return rtClip(v, act.A, act.B)
	case rtActHardSigmoid:
		return rtClip(act.A*v+act.B, 0, 1)
	case rtActHardSwish:
		return v * rtClip(v*(1.0/6)+0.5, 0, 1)
	case rtActSiLU:
		return v / (1 + rtExp(-v))
	case rtActGELU:
		return rtGELU(v)
	case rtActGELUTanh:
		x := float64(v)
		return float32(x / 2 * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x))))
	}
	return v
}

// rtGELU is x/2·(1+erf(x/√2)) in float32, as the SIMD kernels compute
// it (asmgen/gemm's act.go): erf(z) for z clamped to [-4, 4] is z·A(z²)/
// B(z²), within 5e-7 of erf, and ±1 exactly at ±4, so that GELU is 0
// below -4√2 and x above 4√2. math.Erf in float64 took 25 ns a value,
// which made ConvNeXt's GELUs most of its time.
func rtGELU(x float32) float32 {
	z := max(min(x*(1/math.Sqrt2), 4), -4)
	z2 := z * z
	a := float32(-2.72614225801306e-10)
	a = a*z2 + 2.77068142495902e-08
	a = a*z2 - 2.10102402082508e-06
	a = a*z2 - 5.69250639462346e-05
	a = a*z2 - 7.34990630326855e-04
	a = a*z2 - 2.95459980854025e-03
	a = a*z2 - 1.60960333262415e-02
	b := float32(-1.45660718464996e-05)
	b = b*z2 - 2.13374055278905e-04
	b = b*z2 - 1.68282697438203e-03
	b = b*z2 - 7.37332916720468e-03
	b = b*z2 - 1.42647390514189e-02
	h := x * 0.5
	return h + h*(z*a/b)
}

// rtVecAct is the code by which asmgen/vec's kernels (vecDepthwise,
// vecAffine, vecBinary) apply act, with act.A and act.B as their slope and
// hi: 1 ReLU, 2 leaky ReLU, 3 clip, 4 hardswish, 5 sigmoid, 6 SiLU; 0 for
// none and for the activations they lack, which the caller applies.
func rtVecAct(act rtAct) int {
	switch act.Kind {
	case rtActReLU:
		return 1
	case rtActLeakyReLU:
		return 2
	case rtActClip:
		return 3
	case rtActHardSwish:
		return 4
	case rtActSigmoid:
		return 5
	case rtActSiLU:
		return 6
	}
	return 0
}

// rtClip is min(max(v, lo), hi), NaN staying NaN as in PyTorch's clamp.
func rtClip(v, lo, hi float32) float32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// rtBiasAct adds bias[j] to x[i*n+j] and applies the activation, over rows
// of n values (bias nil meaning zero).
func rtBiasAct(x []float32, n int, bias []float32, act rtAct) {
	for i := 0; i+n <= len(x); i += n {
		row := x[i : i+n]
		if bias != nil {
			for j := range row {
				row[j] += bias[j]
			}
		}
		if act.Kind != rtActNone {
			rtActivateAll(row, act)
		}
	}
}

// rtActivateAll applies an activation in place.
func rtActivateAll(x []float32, act rtAct) {
	switch act.Kind {
	case rtActReLU:
		for i, v := range x {
			x[i] = max(v, 0)
		}
	case rtActLeakyReLU:
		// As the SIMD kernels do it, without a branch on v's sign
		// (random signs cost rtActivate's branch a misprediction in two).
		slope := act.A
		for i, v := range x {
			x[i] = max(v, 0) + slope*min(v, 0)
		}
	case rtActSigmoid:
		for i, v := range x {
			x[i] = 1 / (1 + rtExp(-v))
		}
	case rtActSiLU:
		for i, v := range x {
			x[i] = v / (1 + rtExp(-v))
		}
	case rtActGELU:
		for i, v := range x {
			x[i] = rtGELU(v)
		}
	case rtActNone:
	default:
		for i, v := range x {
			x[i] = rtActivate(v, act)
		}
	}
}

// rtGemmBF16 is rtGemm with a bfloat16 B panel (dense weights at
// -precision bf16): each value is widened to float32 exactly, and the
// arithmetic is float32.
func rtGemmBF16(mr, nr, k int, a []float32, b []uint16, c []float32, ldc int, bias []float32, act rtAct, sm, sn int) {
	var wide [512]float32
	w := wide[:nr]
	var acc [512]float32
	t := acc[:mr*nr]
	a = a[:k*mr]
	b = b[:k*nr]
	for kk := range k {
		for j, h := range b[kk*nr : kk*nr+nr] {
			w[j] = math.Float32frombits(uint32(h) << 16)
		}
		for r, ar := range a[kk*mr : kk*mr+mr] {
			row := t[r*nr : r*nr+nr]
			for j, bv := range w {
				row[j] += ar * bv
			}
		}
	}
	rtGemmStore(t, nr, c, ldc, bias, act, sm, sn)
}

// rtToBF16 rounds src to bfloat16, to nearest even (NaNs stay NaN).
func rtToBF16(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		b := math.Float32bits(v)
		if v != v {
			dst[i] = uint16(b>>16) | 0x40
			continue
		}
		b += 0x7fff + (b>>16)&1
		dst[i] = uint16(b >> 16)
	}
}
