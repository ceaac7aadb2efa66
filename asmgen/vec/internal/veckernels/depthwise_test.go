package veckernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// dwGo is the depthwise kernel's definition, in float32 with FMAs as it
// computes.
func dwGo(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
	for r := range rows {
		for q := range cols {
			v := bias
			for t, o := range offs {
				v = float32(math.FMA(float64(w[t]), float64(s[r*ldS+q+o]), float64(v)))
			}
			d[r*ldD+q] = actGo(v, act, slope, hi)
		}
	}
}

// TestDepthwise runs each depthwise kernel the CPU supports on rows of 1
// to 200 outputs (around multiples of the vector and of the kernel's
// blocks of 4 vectors, 8 on AVX-512), 1 to 49 taps, 1 to 9 rows (rows of one or two vectors
// go several at a time) and strides, with every activation and none,
// and NaNs and -Infs in some inputs. Outputs are within a
// few ulps of the definition's scale (the FMAs round as the definition's
// do up to double rounding), NaN where it is; between rows and past the
// last output nothing is written, except by AVX2 and NEON with rows
// shorter than a vector, which write whole vectors.
func TestDepthwise(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, kern := range kernels() {
		if kern.dw == nil {
			continue // no such routine on this ISA yet
		}
		L := kern.lanes
		for iter := range 3000 {
			rows := 1 + r.IntN(9)
			cols := 1 + r.IntN(200)
			if iter%3 == 0 {
				cols = (1+r.IntN(17))*L + r.IntN(3) - 1
				cols = max(cols, 1)
			}
			taps := 1 + r.IntN(49)
			offs := make([]int, taps)
			maxOff := 0
			for i := range offs {
				offs[i] = r.IntN(60)
				maxOff = max(maxOff, offs[i])
			}
			ldS := cols + r.IntN(20)
			ldD := cols + r.IntN(5)
			written := cols
			if L < 16 && cols < L { // AVX2 and NEON; AVX-512 masks
				written = L
				ldD = max(ldD, L)
			}
			s := make([]float32, (rows-1)*ldS+cols-1+maxOff+L)
			for i := range s {
				s[i] = float32(r.NormFloat64())
				switch r.IntN(500) {
				case 0:
					s[i] = float32(math.NaN())
				case 1:
					s[i] = float32(math.Inf(-1)) // ReLU makes 0 of it, leaky ReLU -Inf
				}
			}
			w := make([]float32, taps)
			for i := range w {
				w[i] = float32(r.NormFloat64())
			}
			act, bias, slope, hi := r.IntN(7), float32(r.NormFloat64()), float32(r.IntN(3))/10, float32(6)
			if act == 3 {
				slope, hi = -0.5, float32(r.IntN(4))
			}
			const guard = -7
			want := make([]float32, (rows-1)*ldD+written+3)
			got := make([]float32, len(want))
			for i := range got {
				want[i], got[i] = guard, guard
			}
			// The columns the kernel computes, cols of them or whole vectors.
			dwGo(want, s, w, offs, rows, written, ldD, ldS, act, bias, slope, hi)
			kern.dw(got, s, w, offs, rows, cols, ldD, ldS, act, bias, slope, hi)
			for i := range got {
				r, q := i/ldD, i%ldD
				scale := float64(abs(bias))
				if got[i] != guard || want[i] != guard {
					for t, o := range offs {
						scale += math.Abs(float64(w[t] * s[min(r, rows-1)*ldS+q+o]))
					}
				}
				wn, gn := math.IsNaN(float64(want[i])), math.IsNaN(float64(got[i]))
				// The activations computed from e^x add their own few
				// ulp; hardswish's slope is up to 1.5.
				if wn != gn || !wn && math.Abs(float64(got[i]-want[i])) > 2e-6*scale+1e-6*math.Abs(float64(want[i])) && got[i] != want[i] {
					t.Fatalf("%s rows %d cols %d taps %d ldD %d ldS %d act %d slope %g: d[%d] (row %d, col %d) = %g, want %g",
						kern.name, rows, cols, taps, ldD, ldS, act, slope, i, r, q, got[i], want[i])
				}
			}
		}
	}
}

// actGo is the kernels' activation act (vec's activate), in float64
// where they compute e^x.
func actGo(v float32, act int, slope, hi float32) float32 {
	switch act {
	case 1:
		v = max(v, 0)
	case 2:
		v = max(v, 0) + slope*min(v, 0)
	case 3:
		v = min(max(v, slope), hi)
	case 4:
		v *= min(max(v/6+0.5, 0), 1)
	case 5:
		v = float32(1 / (1 + math.Exp(-float64(v))))
	case 6:
		v = float32(float64(v) / (1 + math.Exp(-float64(v))))
	}
	return v
}

func abs(x float32) float32 { return max(x, -x) }

// TestEvens checks the stride-2 gather on rows of 1 to 70 outputs, the
// source ending at the last element it needs and every destination row's
// neighbours guarded.
func TestEvens(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, kern := range kernels() {
		if kern.evens == nil {
			continue // no such routine on this ISA yet
		}
		for range 1000 {
			rows, n := 1+r.IntN(5), 1+r.IntN(70)
			ldSrc, ldDst := 2*n-1+r.IntN(5), n+r.IntN(5)
			src := make([]float32, (rows-1)*ldSrc+2*n-1)
			for i := range src {
				src[i] = float32(i)
			}
			want, got := make([]float32, (rows-1)*ldDst+n+5), make([]float32, (rows-1)*ldDst+n+5)
			for i := range got {
				want[i], got[i] = -1, -1
			}
			for row := range rows {
				for j := range n {
					want[row*ldDst+j] = src[row*ldSrc+2*j]
				}
			}
			kern.evens(got, src, rows, n, ldDst, ldSrc)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s rows %d n %d ldDst %d ldSrc %d: dst[%d] = %g, want %g", kern.name, rows, n, ldDst, ldSrc, i, got[i], want[i])
				}
			}
		}
	}
}
