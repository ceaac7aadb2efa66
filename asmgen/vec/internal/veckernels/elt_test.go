package veckernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// eltLengths are the lengths the elementwise kernels are tested on for
// vectors of L lanes: 0 to two blocks and a vector more (every mix of
// blocks, single vectors and ragged tails), and a few longer ones.
func eltLengths(L int) []int {
	var ns []int
	for n := range 2*4*L + L + 2 {
		ns = append(ns, n)
	}
	return append(ns, 1000, 3136, 49*16+3)
}

// eltInput returns n values, normal with a few NaNs, infinities and
// signed zeros among them.
func eltInput(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 4)
		switch r.IntN(40) {
		case 0:
			x[i] = float32(math.NaN())
		case 1:
			x[i] = float32(math.Inf(-1))
		case 2:
			x[i] = float32(math.Inf(1))
		case 3:
			x[i] = float32(math.Copysign(0, -1))
		case 4:
			x[i] = -90 - 10*float32(r.Float64()) // where e^-x overflows
		}
	}
	return x
}

// eltCheck compares got with want, act(pre), over the first n values, with the
// activations' tolerance: e^x and hardswish's v/6 round differently from
// actGo's, and where e^-x overflows float32 sigmoid and SiLU are 0 for
// actGo's subnormals; the rest is exact. Past n, got must hold guard.
func eltCheck(t *testing.T, what string, got, want, pre []float32, n int, guard float32) {
	t.Helper()
	for i, g := range got {
		if i >= n {
			if g != guard {
				t.Fatalf("%s: wrote %g at %d, past the %d values", what, g, i, n)
			}
			continue
		}
		w := want[i]
		if g == w || g != g && w != w {
			continue
		}
		if g != g || w != w || math.Abs(float64(g-w)) > 2e-6*(math.Abs(float64(w))+math.Abs(float64(pre[i])))+1e-37 {
			t.Fatalf("%s: d[%d] = %g, want %g (before the activation %g)", what, i, g, w, pre[i])
		}
	}
}

// eltActs are the activations with the parameters each is tested with.
var eltActs = []struct {
	act       int
	slope, hi float32
}{{0, 0, 0}, {1, 0, 0}, {2, 0.1, 0}, {2, 0, 0}, {3, 0, 6}, {3, -1, 1}, {4, 0, 0}, {5, 0, 0}, {6, 0, 0}}

// TestAffine runs each vecAffine the CPU supports on 1 to 3 channels of
// every length of eltLengths, per-channel and broadcast scales and shifts,
// in place and not, with every activation, against the definition
// (product and sum rounded each, then actGo). Nothing past the channels is
// written.
func TestAffine(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const guard = -7
	for _, kern := range kernels() {
		if kern.affine == nil {
			continue // no such routine on this ISA yet
		}
		for _, n := range eltLengths(kern.lanes) {
			for _, a := range eltActs {
				c, ss, ts := 1+r.IntN(3), r.IntN(2), r.IntN(2)
				inPlace := r.IntN(2) == 0
				x := eltInput(r, c*n)
				s, sh := eltInput(r, c), eltInput(r, c)
				for i := range s {
					if r.IntN(4) == 0 {
						s[i] = 1
						sh[i] = float32(math.Copysign(0, -1))
					}
				}
				want, pre := make([]float32, c*n), make([]float32, c*n)
				for ch := range c {
					for i := range n {
						v := float32(x[ch*n+i] * s[ch*ss])
						pre[ch*n+i] = v + sh[ch*ts]
						want[ch*n+i] = actGo(pre[ch*n+i], a.act, a.slope, a.hi)
					}
				}
				got := make([]float32, c*n+kern.lanes)
				for i := range got {
					got[i] = guard
				}
				src := x
				if inPlace {
					copy(got, x)
					src = got[:c*n]
				}
				kern.affine(got, src, s, sh, c, n, ss, ts, a.act, a.slope, a.hi)
				eltCheck(t, fmt.Sprintf("%s c %d n %d ss %d ts %d act %d in place %v", kern.name, c, n, ss, ts, a.act, inPlace), got, want, pre, c*n, guard)
			}
		}
	}
}

// TestBinary runs each vecBinary the CPU supports on every length of
// eltLengths, each op and activation, the result written over a, over b
// or elsewhere, against the definition.
func TestBinary(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	const guard = -7
	for _, kern := range kernels() {
		if kern.binary == nil {
			continue // no such routine on this ISA yet
		}
		for _, n := range eltLengths(kern.lanes) {
			for op := range 4 {
				for _, act := range eltActs {
					a, b := eltInput(r, n), eltInput(r, n)
					want, pre := make([]float32, n), make([]float32, n)
					for i := range n {
						var v float32
						switch op {
						case 0:
							v = a[i] + b[i]
						case 1:
							v = a[i] - b[i]
						case 2:
							v = a[i] * b[i]
						case 3:
							v = a[i] / b[i]
						}
						pre[i], want[i] = v, actGo(v, act.act, act.slope, act.hi)
					}
					got := make([]float32, n+kern.lanes)
					for i := range got {
						got[i] = guard
					}
					x, y := a, b
					switch where := r.IntN(3); where {
					case 1:
						copy(got, a)
						x = got[:n]
					case 2:
						copy(got, b)
						y = got[:n]
					}
					kern.binary(got, x, y, n, op, act.act, act.slope, act.hi)
					eltCheck(t, fmt.Sprintf("%s n %d op %d act %d", kern.name, n, op, act.act), got, want, pre, n, guard)
				}
			}
		}
	}
}
