package rt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// eltImpls are the elementwise kernels of every implementation this
// machine runs (the pure-Go one's are nils), by name.
func eltImpls() map[string]*rtEltKernels {
	out := map[string]*rtEltKernels{}
	for _, impl := range available() {
		k := rtEltKernelsFor(impl)
		out[implNames[impl]] = &k
	}
	return out
}

// eltSizes are the plane sizes tested: 0 to two AVX-512 blocks and a
// vector more (every mix of blocks, vectors and ragged tails for both
// widths), and DenseNet's 7x7 and 56x56.
func eltSizes() []int {
	var ns []int
	for n := range 4*16*2 + 18 {
		ns = append(ns, n)
	}
	return append(ns, 49, 3136)
}

// eltRand returns n normal values with NaNs, infinities and -0 among them.
func eltRand(r *rand.Rand, n int) []float32 {
	x := randSlice(r, n)
	for i := range x {
		switch r.IntN(50) {
		case 0:
			x[i] = float32(math.NaN())
		case 1:
			x[i] = float32(math.Inf(1))
		case 2:
			x[i] = float32(math.Inf(-1))
		case 3:
			x[i] = float32(math.Copysign(0, -1))
		}
	}
	return x
}

// eltNear checks got against want = act(pre): NaN where it is NaN, else
// within 2e-6 of |want| + |pre| (sigmoid's and SiLU's e^x differ by
// a few ulp between Go and the kernels, and both are 0 past where e^-x
// overflows).
func eltNear(t *testing.T, what string, want, got, pre []float32) {
	t.Helper()
	for i, w := range want {
		g := got[i]
		if g == w || g != g && w != w {
			continue
		}
		if g != g || w != w || math.Abs(float64(g-w)) > 2e-6*(math.Abs(float64(w))+math.Abs(float64(pre[i])))+1e-37 {
			t.Fatalf("%s: element %d: got %g, want %g (before the activation %g)", what, i, g, w, pre[i])
		}
	}
}

// eltActs is every activation kind, with random constants where it has
// them.
func eltActs(r *rand.Rand) []rtAct {
	var out []rtAct
	for _, a := range testActivations() {
		act := rtAct{Kind: int(a.Kind), A: a.Alpha, B: a.Beta}
		if act.Kind == rtActLeakyReLU {
			act.A = float32(r.IntN(4)) / 10
		}
		out = append(out, act)
	}
	return out
}

// TestScaleShift checks rtScaleShift on every implementation against
// rtActivate(x*s + t) on 1 to 4 channels of every eltSizes plane, with
// every activation, in place or not.
func TestScaleShift(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for name, k := range eltImpls() {
		for _, hw := range eltSizes() {
			for _, act := range eltActs(r) {
				c := 1 + r.IntN(4)
				x, s, sh := eltRand(r, c*hw), eltRand(r, c), eltRand(r, c)
				want, pre := make([]float32, c*hw), make([]float32, c*hw)
				for i, v := range x {
					pre[i] = float32(v*s[i/hw]) + sh[i/hw] // rounded twice, as Go on amd64 and the kernels
					want[i] = rtActivate(pre[i], act)
				}
				got := randSlice(r, c*hw)
				src := x
				if r.IntN(2) == 0 {
					copy(got, x)
					src = got
				}
				rtScaleShift(got, src, s, sh, hw, act, k)
				eltNear(t, fmt.Sprintf("%s: %d channels of %d, act %+v", name, c, hw, act), want, got, pre)
			}
		}
	}
}

// TestActivateTo checks rtActivateTo on every implementation against
// rtActivate on every eltSizes length, with every activation, in place
// or not.
func TestActivateTo(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for name, k := range eltImpls() {
		for _, n := range eltSizes() {
			for _, act := range eltActs(r) {
				x := eltRand(r, n)
				want := make([]float32, n)
				for i, v := range x {
					want[i] = rtActivate(v, act)
				}
				got := randSlice(r, n)
				src := x
				if r.IntN(2) == 0 {
					copy(got, x)
					src = got
				}
				rtActivateTo(got, src, act, k)
				eltNear(t, fmt.Sprintf("%s: %d values, act %+v", name, n, act), want, got, x)
			}
		}
	}
}

// TestArith checks rtArith on every implementation against the
// definition: every op, operands of the image's shape or broadcast per
// channel, for the image or per pixel (on either side), every
// activation, the result over a full operand or elsewhere.
func TestArith(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	type operand struct {
		name  string
		shape func(c, h, w int) (rtBcast, int) // strides and length
	}
	operands := []operand{
		{"full", func(c, h, w int) (rtBcast, int) { return rtStrides(c, h, w), c * h * w }},
		{"per channel", func(c, h, w int) (rtBcast, int) { return rtStrides(c, 1, 1), c }},
		{"one value", func(c, h, w int) (rtBcast, int) { return rtBcast{0, 0, 0}, 1 }},
		{"per pixel", func(c, h, w int) (rtBcast, int) { return rtStrides(1, h, w), h * w }},
	}
	for name, k := range eltImpls() {
		for iter := range 3000 {
			c, h, w := 1+r.IntN(5), 1+r.IntN(9), 1+r.IntN(40)
			if iter%7 == 0 {
				h = 1 // rows: the strides of size-1 axes are 0
			}
			if iter%10 == 0 {
				h, w = 56, 56
			}
			op := r.IntN(4)
			oa, ob := operands[0], operands[r.IntN(len(operands))]
			if r.IntN(2) == 0 {
				oa, ob = ob, oa
			}
			sa, na := oa.shape(c, h, w)
			sb, nb := ob.shape(c, h, w)
			a, b := eltRand(r, na), eltRand(r, nb)
			acts := eltActs(r)
			act := acts[r.IntN(len(acts))]
			n := c * h * w
			want, pre := make([]float32, n), make([]float32, n)
			for ci := range c {
				for y := range h {
					for x := range w {
						u, v := a[ci*sa.SC+y*sa.SH+x*sa.SW], b[ci*sb.SC+y*sb.SH+x*sb.SW]
						var e float32
						switch op {
						case rtOpAdd:
							e = u + v
						case rtOpSub:
							e = u - v
						case rtOpMul:
							e = u * v
						case rtOpDiv:
							e = u / v
						}
						i := (ci*h+y)*w + x
						pre[i], want[i] = e, rtActivate(e, act)
					}
				}
			}
			got := randSlice(r, n)
			if r.IntN(2) == 0 {
				// Over whichever operand is full.
				if na == n {
					copy(got, a)
					a = got
				} else {
					copy(got, b)
					b = got
				}
			}
			rtArith(got, a, b, op, c, h, w, sa, sb, act, k)
			eltNear(t, fmt.Sprintf("%s: %dx%dx%d %s op %d %s, act %+v", name, c, h, w, oa.name, op, ob.name, act), want, got, pre)
		}
	}
}

// TestGlobalAvg checks global average pooling on every implementation
// against a float64 mean, on every plane size of eltSizes (1 up), a few
// channels at a time, with a ReLU after it; and NaN and infinities, which
// reach the channel's mean.
func TestGlobalAvg(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for name, k := range eltImpls() {
		for _, hw := range eltSizes()[1:] {
			c := 1 + r.IntN(4)
			x := randSlice(r, c*hw)
			if hw%7 == 3 {
				x[r.IntN(len(x))] = float32([]float64{math.NaN(), math.Inf(1), math.Inf(-1)}[r.IntN(3)])
			}
			want := make([]float32, c)
			for ch := range c {
				var s float64
				for _, v := range x[ch*hw : (ch+1)*hw] {
					s += float64(v)
				}
				want[ch] = max(float32(s/float64(hw)), 0)
			}
			got := make([]float32, c+1)
			got[c] = -7
			rtGlobalAvg(got[:c], x, hw, rtAct{Kind: rtActReLU}, k)
			for ch, w := range want {
				g := got[ch]
				if g != w && !(g != g && w != w) && math.Abs(float64(g-w)) > 1e-6*math.Abs(float64(w)) {
					t.Errorf("%s: hw %d channel %d: got %g, want %g", name, hw, ch, g, w)
				}
			}
			if got[c] != -7 {
				t.Errorf("%s: hw %d: wrote past the %d channels", name, hw, c)
			}
		}
	}
}
