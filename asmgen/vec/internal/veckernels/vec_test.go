package veckernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/cnnc/cnnc/asmgen/vec"
	"github.com/cnnc/cnnc/compiler/winograd"
	"github.com/cnnc/cnnc/internal/golden"
)

// winoForms are the Winograd forms whose kernels vec generates from their
// matrices (vec.Set.Forms): cnnc's (winograd.Forms) and F6x3;
// kernel.wIn and wOut hold them in this order.
var winoForms = [...]winograd.Form{{M: 2, R: 3}, {M: 4, R: 3}, {M: 2, R: 5}, {M: 3, R: 5}, {M: 4, R: 5}, {M: 6, R: 3}}

func TestGenerated(t *testing.T) {
	asm, stubs, err := vec.Generate("veckernels", vec.Set{Kernels: vec.Kernels, Forms: winoForms[:]})
	if err != nil {
		t.Fatal(err)
	}
	neonAsm, neonStubs, err := vec.GenerateNEON("veckernels", vec.Set{Kernels: vec.Kernels, Forms: winoForms[:]})
	if err != nil {
		t.Fatal(err)
	}
	goSrc, err := vec.GenerateGo("veckernels", winoForms[:])
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"vec_amd64.s": asm, "vec_amd64.go": stubs, "vec_arm64.s": neonAsm, "vec_arm64.go": neonStubs, "winogo.go": goSrc} {
		golden.Check(t, name, want)
	}
}

// lrnGo is the formula the kernels implement, in float32 as they do (the
// sum in window order).
func lrnGo(d, x []float32, n, c, dS, sS, before, after int, k, alpha float32) {
	for ch := range c {
		for i := range n {
			var s float32
			for cc := max(ch-before, 0); cc <= min(ch+after, c-1); cc++ {
				v := x[cc*sS+i]
				s += v * v
			}
			r := math.Sqrt(float64(k + alpha*s))
			d[ch*dS+i] = x[ch*sS+i] / float32(r*math.Sqrt(r))
		}
	}
}

// TestLRN runs each kernel the CPU supports on many shapes: pixel counts
// (the kernels take multiples of their width; pixels past them and the gaps
// between channel strides must be untouched), channel counts below, equal
// to and above the window, even and odd windows, and destination strides
// unlike the source's, for AlexNet's k and alpha and for others that
// spread k + alpha*s over decades. Results are within 8 ulps of the
// float32 formula (AVX2's square roots and division are IEEE, AVX-512's
// reciprocal square root is refined by a Newton step; the sums may round
// differently).
func TestLRN(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type shape struct{ n, c, before, after, dPad, sPad int }
	for _, kern := range kernels() {
		if kern.fn == nil {
			continue // no such routine on this ISA yet
		}
		L := kern.lanes
		worst := 0.0
		for _, sh := range []shape{
			{L, 1, 2, 2, 0, 0}, {2 * L, 5, 2, 2, 3, 0}, {5*L + 3, 96, 2, 2, 0, 7}, {301, 7, 1, 1, 1, 1},
			{3 * L, 4, 3, 2, 0, 2}, {L + 1, 3, 0, 0, 5, 5}, {4 * L, 16, 5, 4, 2, 9}, {0, 3, 2, 2, 0, 0},
		} {
			for _, p := range []struct{ k, alpha, scale float32 }{
				{2, 1e-4 / 5, 30}, // AlexNet's, on values of its conv1's size
				{1, 1, 1},         // k + alpha*s spread over decades
				{0.5, 3, 1e3},
			} {
				m := sh.n / L * L
				if L == 16 {
					m = sh.n // AVX-512 masks its last vector
				}
				dS, sS := sh.n+sh.dPad, sh.n+sh.sPad
				x := make([]float32, sh.c*sS)
				for i := range x {
					// Magnitudes over several decades.
					x[i] = float32(r.NormFloat64()*float64(p.scale)) * float32(math.Pow(10, float64(r.IntN(5)-2)))
				}
				k, alpha := p.k, p.alpha
				want, got := make([]float32, sh.c*dS), make([]float32, sh.c*dS)
				lrnGo(want, x, m, sh.c, dS, sS, sh.before, sh.after, k, alpha)
				for i := range got {
					got[i] = -7 // guard
				}
				kern.fn(got, x, m, sh.c, dS, sS, sh.before, sh.after, k, alpha)
				for i := range got {
					if i%dS >= m {
						if got[i] != -7 {
							t.Fatalf("%s %+v: element %d (pixel %d of a channel) beyond %d was written", kern.name, sh, i, i%dS, m)
						}
						continue
					}
					d := math.Abs(float64(got[i] - want[i]))
					if d > 8*ulp(want[i]) {
						t.Fatalf("%s %+v %+v: element %d is %g, want %g", kern.name, sh, p, i, got[i], want[i])
					}
					worst = max(worst, d/ulp(want[i]))
				}
			}
		}
		t.Logf("%s: largest error %.1f ulp", kern.name, worst)
	}
}

// TestIm2colRow runs each im2col row kernel the CPU supports on many
// geometries (segment lengths below, at and above the vector width, strides
// 1 to 4, starting mid-row, cols < nr and cols == nr) and compares with the
// definition; the elements past nr must be untouched. The source slice
// ends at the last element the row reads (the masked tails read nothing
// past it).
func TestIm2colRow(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, kern := range kernels() {
		if kern.row == nil {
			continue // no such routine on this ISA yet
		}
		for iter := range 2000 {
			ow := 1 + r.IntN(40)
			sw := 1 + r.IntN(4)
			if iter%2 == 0 {
				sw = 1
			}
			rowStep := (ow-1)*sw + 1 + r.IntN(9) // at least one row's reach
			ox0 := r.IntN(ow)
			nr := 1 + r.IntN(70)
			cols := 1 + r.IntN(nr)
			// Source index of position j: row (ox0+j)/ow, column (ox0+j)%ow.
			idx := func(j int) int { q := ox0 + j; return q/ow*rowStep + (q%ow-ox0)*sw }
			// idx(0) = 0; positions before ox0 in row 0 have negative
			// offsets that are never read.
			last := idx(cols - 1)
			s := make([]float32, last+1)
			for i := range s {
				s[i] = float32(i + 1)
			}
			d := make([]float32, nr+5)
			for i := range d {
				d[i] = -7
			}
			kern.row(d, s, cols, nr, ow, ox0, sw, rowStep)
			for i := range d {
				want := float32(-7)
				switch {
				case i < cols:
					want = s[idx(i)]
				case i < nr:
					want = 0
				}
				if d[i] != want {
					t.Fatalf("%s ow %d sw %d rowStep %d ox0 %d cols %d nr %d: d[%d] = %g, want %g", kern.name, ow, sw, rowStep, ox0, cols, nr, i, d[i], want)
				}
			}
		}
	}
}

// TestCopyRows checks the row copy on row lengths around the vector
// widths, including 0, and strides: every element outside the rows keeps
// its sentinel, on both sides.
func TestCopyRows(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, kern := range kernels() {
		if kern.copy == nil {
			continue // no such routine on this ISA yet
		}
		for range 500 {
			rows, n := r.IntN(6), r.IntN(70)
			ldSrc, ldDst := n+r.IntN(20), n+r.IntN(20)
			if r.IntN(4) == 0 {
				ldSrc = 0 // every row from the same source, as V's zero padding
			}
			const guard = 17
			src := make([]float32, guard+rows*ldSrc+n+guard)
			dst := make([]float32, len(src)+rows*ldDst)
			for i := range src {
				src[i] = float32(i)
			}
			for i := range dst {
				dst[i] = -1
			}
			want := slices.Clone(dst)
			for row := range rows {
				copy(want[guard+row*ldDst:guard+row*ldDst+n], src[guard+row*ldSrc:])
			}
			kern.copy(dst[guard:], src[guard:], rows, n, ldDst, ldSrc)
			if !slices.Equal(dst, want) {
				t.Fatalf("%s: rows %d n %d ldDst %d ldSrc %d: got %v, want %v", kern.name, rows, n, ldDst, ldSrc, dst, want)
			}
		}
	}
}

// TestMaxPool checks the 3-wide max pooling rows, at stride 2 and 1,
// against the definition on 1 to 3 rows and row lengths around the vector
// width, with NaNs and infinities: a NaN anywhere in a window makes its
// output NaN. The AVX-512 kernels take any n and get rows that end at the
// last window's end, element s(n-1)+2 (slices sized to what they may
// read); the AVX2 and NEON kernels take whole vectors (8, 4) and read to element 2n+1 at
// stride 2 (one past). Outputs past n keep their sentinel.
func TestMaxPool(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, kern := range kernels() {
		if kern.pool == nil {
			continue // no such routine on this ISA yet
		}
		for it := range 4000 {
			s, pool := 2, kern.pool
			if it%2 == 1 {
				s, pool = 1, kern.pool1
			}
			rows, n := 1+r.IntN(3), 1+r.IntN(40)
			if L := kern.lanes; L < 16 { // whole vectors
				n = max(L, n&^(L-1))
			}
			reach := s*(n-1) + 3
			if kern.lanes < 16 && s == 2 {
				reach++
			}
			ld := reach + r.IntN(5)
			src := make([]float32, (rows-1)*ld+reach)
			for i := range src {
				switch v := r.IntN(60); {
				case v == 0:
					src[i] = float32(math.NaN())
				case v == 1:
					src[i] = float32(math.Inf(1 - 2*r.IntN(2)))
				default:
					src[i] = float32(r.NormFloat64())
				}
			}
			dst := make([]float32, n+20)
			for i := range dst {
				dst[i] = -7
			}
			pool(dst, src, n, rows, ld)
			for i := range dst {
				want := float32(-7)
				if i < n {
					want = float32(math.Inf(-1))
					for y := range rows {
						for k := range 3 {
							if v := src[y*ld+s*i+k]; v > want || v != v {
								want = v
							}
							if want != want {
								break
							}
						}
					}
				}
				if got := dst[i]; got != want && !(got != got && want != want) {
					t.Fatalf("%s stride %d: rows %d n %d ld %d: dst[%d] = %g, want %g", kern.name, s, rows, n, ld, i, got, want)
				}
			}
		}
	}
}

// nanLo picks the output kernels' clamp, -Inf (no activation) or 0
// (ReLU), and half the time makes element 0 of one of the n tiles of m
// NaN, which must reach the outputs whose transform uses it, clamp or not.
func nanLo(r *rand.Rand, m []float32, n int) float32 {
	if r.IntN(2) == 0 {
		m[r.IntN(n)] = float32(math.NaN())
	}
	if r.IntN(2) == 0 {
		return 0
	}
	return float32(math.Inf(-1))
}

// clamped reports whether got is max(want, lo) within tol, NaN if want is.
func clamped(got float32, want float64, lo float32, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(float64(got))
	}
	return math.Abs(float64(got)-max(want, float64(lo))) <= tol
}

func ulp(v float32) float64 {
	b := math.Float32bits(v)
	return math.Abs(float64(math.Float32frombits(b+1) - v))
}

// winoKernels are the kernels whose Winograd transforms TestWinograd and
// BenchmarkWinograd run: the SIMD ones this CPU has and the Go ones.
func winoKernels() []kernel {
	return append(kernels(), kernel{name: "Go", lanes: 1,
		wIn: [...]func(dst, planes []float32, ps, tw, ld, ldDst int){
			vecWinoInF2x3Go, vecWinoInF4x3Go, vecWinoInF2x5Go, vecWinoInF3x5Go, vecWinoInF4x5Go, vecWinoInF6x3Go},
		wOut: [...]func(y, m []float32, n, step, ldY int, bias, lo float32){
			vecWinoOutF2x3Go, vecWinoOutF4x3Go, vecWinoOutF2x5Go, vecWinoOutF3x5Go, vecWinoOutF4x5Go, vecWinoOutF6x3Go}})
}

// TestWinograd checks the transform kernels generated from the Toom-Cook
// matrices (winoForms), SIMD and Go, against the formulas, evaluated in float64 from the
// same exact matrices, for every tile count in a list around the vector
// widths and odd strides. The input transform runs one row of tiles per
// call, as the runtime calls it, for a few rows of tiles of a plane split
// by column mod M: dst[(α*i+j)*ldDst + t] = Σ_y Σ_c BT[i][y]·BT[j][c]·
// planes[(c%M)*ps + y*ld + t + c/M]. The output transform gives
// y[(M*dy+dx)*ldY + t] = max(Σ AT[dy][i]·AT[dx][j]·m[(α*i+j)*step + t] +
// bias, lo), NaN where a term with a nonzero coefficient is. Results are
// within a few float32 roundings of the sum of the terms' magnitudes, and
// nothing is written before dst or y, nor more than 15 elements past the
// last tile of a row, nor past the last row.
func TestWinograd(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	const guard = float32(-12345.5)
	const tol = 2e-6
	counts := []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 40}
	// checkGuard reports the first element of buf outside [lo, hi) of
	// any of rows rows (ld apart, from base) that is not the guard.
	checkGuard := func(buf []float32, base, rows, ld, lo, hi int) int {
		for i, v := range buf {
			k := i - base
			if k >= 0 && k < rows*ld && k%ld >= lo && k%ld < hi {
				continue
			}
			if v != guard {
				return i
			}
		}
		return -1
	}
	for _, kern := range winoKernels() {
		if kern.wIn[0] == nil {
			continue // no such routine on this ISA yet
		}
		for fi, f := range winoForms {
			a, M := f.Alpha(), f.M
			bt32, err := f.BT().Float32()
			if err != nil {
				t.Fatal(err)
			}
			at32, err := f.AT().Float32()
			if err != nil {
				t.Fatal(err)
			}
			bt := func(i, j int) float64 { return float64(bt32[i*a+j]) }
			at := func(i, j int) float64 { return float64(at32[i*a+j]) }
			worst, worstOut := 0.0, 0.0
			for _, tw := range counts {
				// Input: th rows of tiles of a plane of (th-1)*M+α rows,
				// columns split into M planes.
				th := 1 + r.IntN(3)
				rows := (th-1)*M + a
				cols := tw + (a-1)/M // per plane
				ld := cols + 1 + 2*r.IntN(3)
				if ld%2 == 0 {
					ld++
				}
				ps := rows*ld + 1 + 2*r.IntN(4)
				planes := make([]float32, M*ps+16)
				for i := range planes {
					planes[i] = float32(r.NormFloat64())
				}
				T := th * tw
				ldDst := T + 15 + 1 + 2*r.IntN(4)
				const pad = 20
				dst := make([]float32, pad+a*a*ldDst+pad)
				for i := range dst {
					dst[i] = guard
				}
				for ty := range th {
					kern.wIn[fi](dst[pad+ty*tw:], planes[ty*M*ld:], ps, tw, ld, ldDst)
				}
				if i := checkGuard(dst, pad, a*a, ldDst, 0, T+15); i >= 0 {
					t.Fatalf("%s %v in: th %d tw %d ld %d ldDst %d: dst[%d] (row %d, element %d) written", kern.name, f, th, tw, ld, ldDst, i-pad, (i-pad)/ldDst, (i-pad)%ldDst)
				}
				for ty := range th {
					for tx := range tw {
						d := func(y, c int) float64 { return float64(planes[(c%M)*ps+(ty*M+y)*ld+tx+c/M]) }
						for i := range a {
							for j := range a {
								var want, mag float64
								for y := range a {
									for c := range a {
										v := bt(i, y) * bt(j, c) * d(y, c)
										want, mag = want+v, mag+math.Abs(v)
									}
								}
								got := float64(dst[pad+(a*i+j)*ldDst+ty*tw+tx])
								e := math.Abs(got-want) / mag
								if !(e <= tol) {
									t.Fatalf("%s %v in: th %d tw %d ld %d tile (%d,%d) ξ %d: %g, want %g (error %.2g of the terms' magnitude)", kern.name, f, th, tw, ld, ty, tx, a*i+j, got, want, e)
								}
								worst = max(worst, e)
							}
						}
					}
				}

				// Output, n = tw tiles.
				n := tw
				step := n + 16 + 2*r.IntN(5)
				if step%2 == 0 {
					step++
				}
				m := make([]float32, a*a*step+16)
				for i := range m {
					m[i] = float32(r.NormFloat64())
				}
				ldY := n + 15 + 1 + 2*r.IntN(4)
				y := make([]float32, pad+M*M*ldY+pad)
				for i := range y {
					y[i] = guard
				}
				bias := float32(r.NormFloat64())
				lo := nanLo(r, m, n)
				if r.IntN(2) == 0 {
					m[r.IntN(a*a)*step+r.IntN(n)] = float32(math.NaN())
				}
				kern.wOut[fi](y[pad:], m, n, step, ldY, bias, lo)
				if i := checkGuard(y, pad, M*M, ldY, 0, n+15); i >= 0 {
					t.Fatalf("%s %v out: n %d ldY %d: y[%d] (row %d, element %d) written", kern.name, f, n, ldY, i-pad, (i-pad)/ldY, (i-pad)%ldY)
				}
				for tt := range n {
					for dy := range M {
						for dx := range M {
							want, mag := float64(bias), math.Abs(float64(bias))
							for i := range a {
								for j := range a {
									if k := at(dy, i) * at(dx, j); k != 0 {
										v := k * float64(m[(a*i+j)*step+tt])
										want, mag = want+v, mag+math.Abs(v)
									}
								}
							}
							got := y[pad+(M*dy+dx)*ldY+tt]
							if !clamped(got, want, lo, tol*mag) {
								t.Fatalf("%s %v out: n %d tile %d (%d,%d) lo %g: %g, want %g", kern.name, f, n, tt, dy, dx, lo, got, want)
							}
							if float64(got) == want || want > float64(lo) {
								worstOut = max(worstOut, math.Abs(float64(got)-want)/mag)
							}
						}
					}
				}
			}
			t.Logf("%s %v: largest error %.2g of the terms' magnitude in, %.2g out", kern.name, f, worst, worstOut)
		}
	}
}

// BenchmarkWinograd times the transform kernels on data in L1: one row of
// 64 tiles for the input transform (a plane of α rows), 64 tiles for the
// output transform. It reports ns per tile and per output element (tile /
// M²).
func BenchmarkWinograd(b *testing.B) {
	const tw, n = 64, 64
	rnd := func(k int) []float32 {
		v := make([]float32, k)
		for i := range v {
			v[i] = float32(i%17) - 8
		}
		return v
	}
	report := func(b *testing.B, tiles, M int) {
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(tiles)
		b.ReportMetric(ns, "ns/tile")
		b.ReportMetric(ns/float64(M*M), "ns/output")
		b.ReportMetric(0, "ns/op")
	}
	for _, kern := range winoKernels() {
		if kern.wIn[0] == nil {
			continue // no such routine on this ISA yet
		}
		for fi, f := range winoForms {
			a, M := f.Alpha(), f.M
			name := fmt.Sprintf("%s/F(%dx%d,%dx%d)", kern.name, M, M, f.R, f.R)
			b.Run(name+"/in", func(b *testing.B) {
				ld := tw + 16 + (a-1)/M
				ps := a * ld
				planes, dst := rnd(M*ps+16), rnd(a*a*(tw+16)+16)
				for b.Loop() {
					kern.wIn[fi](dst, planes, ps, tw, ld, tw+16)
				}
				report(b, tw, M)
			})
			b.Run(name+"/out", func(b *testing.B) {
				m, y := rnd(a*a*n+16), rnd(M*M*(n+16))
				for b.Loop() {
					kern.wOut[fi](y, m, n, n, n+16, 0.5, 0)
				}
				report(b, n, M)
			})
		}
	}
}

// callOnceEnv names the environment variable that makes TestCallOnce
// run: TestWinogradInstructionCounts sets it under qemu.
const callOnceEnv = "CNNC_VEC_CALL_ONCE"

// TestCallOnce calls each Winograd transform of winoKernels once, on
// BenchmarkWinograd's sizes (64 tiles), for the instruction counts.
func TestCallOnce(t *testing.T) {
	if os.Getenv(callOnceEnv) == "" {
		t.Skipf("%s is not set", callOnceEnv)
	}
	const tiles = 64
	for _, kern := range winoKernels() {
		if kern.wIn[0] == nil {
			continue
		}
		for fi, f := range winoForms {
			a, M := f.Alpha(), f.M
			ld := tiles + 16 + (a-1)/M
			ps := a * ld
			kern.wIn[fi](make([]float32, a*a*(tiles+16)+16), make([]float32, M*ps+16), ps, tiles, ld, tiles+16)
			kern.wOut[fi](make([]float32, M*M*(tiles+16)), make([]float32, a*a*tiles+16), tiles, tiles, tiles+16, 0.5, 0)
		}
	}
}
