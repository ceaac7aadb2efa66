//go:build amd64 && !purego

package veckernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// lanesKernels are the kernels of a depthwise convolution over channels
// side by side (asmgen/vec's depthwise_lanes.go) for one ISA.
type lanesKernels struct {
	name  string
	lanes int
	to    func(dst, src *float32, pos *int32, n, ld, chans int)
	from  func(dst, src *float32, n, ld, chans int)
	dw    func(d, s, w *float32, offs *int, taps, rows, cols, ldD, ldS, act int, bias *float32, slope, hi float32)
}

func lanesKernelsCPU() []lanesKernels {
	var ks []lanesKernels
	if cpu.X86.HasAVX512F {
		ks = append(ks, lanesKernels{"AVX512", 16, vecToLanesAVX512, vecFromLanesAVX512, vecDepthwiseLanesAVX512})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, lanesKernels{"AVX2", 8, vecToLanesAVX2, vecFromLanesAVX2, vecDepthwiseLanesAVX2})
	}
	return ks
}

// TestToFromLanes transposes lanes runs of 1 to 100 values (around
// multiples of the vector; a third of the time fewer channels) into
// vectors at scattered positions and lanes vectors back into runs,
// checking every value and that nothing else of the destination changed.
func TestToFromLanes(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	const guard = -7
	for _, k := range lanesKernelsCPU() {
		L := k.lanes
		for iter := range 2000 {
			n := 1 + r.IntN(100)
			if iter%2 == 0 {
				n = max(1, (1+r.IntN(6))*L+r.IntN(3)-1)
			}
			chans := L
			if iter%3 == 0 {
				chans = 1 + r.IntN(L) // a last set of fewer channels
			}
			ld := n + r.IntN(9)
			src := make([]float32, (chans-1)*ld+n)
			for i := range src {
				src[i] = float32(r.NormFloat64())
			}
			slots := n + r.IntN(20)
			pos := make([]int32, n)
			for i, p := range r.Perm(slots)[:n] {
				pos[i] = int32(p)
			}
			dst := make([]float32, slots*L)
			for i := range dst {
				dst[i] = guard
			}
			k.to(&dst[0], &src[0], &pos[0], n, ld, chans)
			want := make([]float32, len(dst))
			for i := range want {
				want[i] = guard
			}
			for p := range n {
				for c := range L {
					want[L*int(pos[p])+c] = 0
					if c < chans {
						want[L*int(pos[p])+c] = src[c*ld+p]
					}
				}
			}
			for i := range dst {
				if dst[i] != want[i] {
					t.Fatalf("%s to n %d ld %d chans %d: dst[%d] (slot %d, lane %d) = %g, want %g", k.name, n, ld, chans, i, i/L, i%L, dst[i], want[i])
				}
			}

			// Back: the vectors of n positions into runs ld apart.
			vecs := make([]float32, n*L)
			for i := range vecs {
				vecs[i] = float32(r.NormFloat64())
			}
			out := make([]float32, (L-1)*ld+n+5)
			for i := range out {
				out[i] = guard
			}
			k.from(&out[0], &vecs[0], n, ld, chans)
			for i := range out {
				c, p := i/ld, i%ld
				w := float32(guard)
				if c < chans && p < n {
					w = vecs[L*p+c]
				}
				if out[i] != w {
					t.Fatalf("%s from n %d ld %d chans %d: dst[%d] (channel %d, position %d) = %g, want %g", k.name, n, ld, chans, i, c, p, out[i], w)
				}
			}
		}
	}
}

// TestDepthwiseLanes runs the kernel over channels side by side on 1 to
// 9 rows of 1 to 20 positions, 1 to 49 taps at positions up to 60 on,
// with every activation and none, NaNs and -Infs in some inputs, against
// its definition (in float32 with FMAs, as it computes), checking that
// nothing past each row's outputs is written.
func TestDepthwiseLanes(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	const guard = -7
	for _, k := range lanesKernelsCPU() {
		L := k.lanes
		for range 1500 {
			rows, np, taps := 1+r.IntN(9), 1+r.IntN(20), 1+r.IntN(49)
			cols := np * L
			offs := make([]int, taps)
			maxOff := 0
			for i := range offs {
				offs[i] = L * r.IntN(61)
				maxOff = max(maxOff, offs[i])
			}
			ldS := cols + L*r.IntN(5)
			ldD := cols + L*r.IntN(3)
			s := make([]float32, (rows-1)*ldS+cols+maxOff)
			for i := range s {
				s[i] = float32(r.NormFloat64())
				switch r.IntN(500) {
				case 0:
					s[i] = float32(math.NaN())
				case 1:
					s[i] = float32(math.Inf(-1))
				}
			}
			w := make([]float32, taps*L)
			for i := range w {
				w[i] = float32(r.NormFloat64())
			}
			bias := make([]float32, L)
			for i := range bias {
				bias[i] = float32(r.NormFloat64())
			}
			act, slope, hi := r.IntN(7), float32(r.IntN(3))/10, float32(6)
			if act == 3 {
				slope, hi = -0.5, float32(r.IntN(4))
			}
			got := make([]float32, (rows-1)*ldD+cols+L)
			want := make([]float32, len(got))
			for i := range got {
				got[i], want[i] = guard, guard
			}
			for row := range rows {
				for q := range cols {
					c := q % L
					v := bias[c]
					for tp, o := range offs {
						v = float32(math.FMA(float64(w[tp*L+c]), float64(s[row*ldS+q+o]), float64(v)))
					}
					want[row*ldD+q] = actGo(v, act, slope, hi)
				}
			}
			k.dw(&got[0], &s[0], &w[0], &offs[0], taps, rows, cols, ldD, ldS, act, &bias[0], slope, hi)
			for i := range got {
				row, q := i/ldD, i%ldD
				scale := 0.0
				if row < rows && q < cols {
					c := q % L
					scale = math.Abs(float64(bias[c]))
					for tp, o := range offs {
						scale += math.Abs(float64(w[tp*L+c] * s[row*ldS+q+o]))
					}
				}
				wn, gn := math.IsNaN(float64(want[i])), math.IsNaN(float64(got[i]))
				if wn != gn || !wn && math.Abs(float64(got[i]-want[i])) > 2e-6*scale+1e-6*math.Abs(float64(want[i])) && got[i] != want[i] {
					t.Fatalf("%s rows %d cols %d taps %d ldD %d ldS %d act %d: d[%d] (row %d, col %d) = %g, want %g",
						k.name, rows, cols, taps, ldD, ldS, act, i, row, q, got[i], want[i])
				}
			}
		}
	}
}
