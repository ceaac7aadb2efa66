package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/cnnc/cnnc/asmgen/gemm"
)

// kernelFunc is the uniform signature of the adapters in kernelFuncs;
// arguments a kernel does not take are ignored.
type kernelFunc func(a, b, c *float32, k, ldc int, bias *float32)

// supported reports whether the kernels of isa can run: always for the
// portable fallback, else according to the CPU.
// toBF16 returns the upper halves of n float32s at p (exact for values
// already rounded to bfloat16).
func toBF16(p *float32, n int) []uint16 {
	out := make([]uint16, n)
	for i, v := range unsafe.Slice(p, n) {
		out[i] = uint16(math.Float32bits(v) >> 16)
	}
	return out
}

func supported(isa gemm.ISA) bool {
	if !haveAsm {
		return true
	}
	switch isa {
	case gemm.AVX512:
		return cpu.X86.HasAVX512F
	case gemm.AVX2:
		return cpu.X86.HasAVX2 && cpu.X86.HasFMA
	}
	return false
}

// guard is the number of guard elements before and after the C tile.
const guard = 67

// testKs returns the reduction lengths to test cfg with.
func testKs(cfg gemm.Config) []int {
	if cfg.K > 0 {
		return []int{cfg.K}
	}
	u := max(cfg.Unroll, 1)
	return slices.Compact([]int{-1, 0, 1, 2, u - 1, u, u + 1, 2*u + 3, 67})
}

// testLDCs returns the C row strides to test cfg with.
func testLDCs(cfg gemm.Config) []int {
	if cfg.LDC > 0 {
		return []int{cfg.LDC}
	}
	n := cfg.StoreN
	if n == 0 {
		n = cfg.NR
	}
	return []int{n, cfg.NR + 5, 3*cfg.NR + 1}
}

func TestKernels(t *testing.T) {
	for _, cfg := range configs {
		t.Run(cfg.Name, func(t *testing.T) {
			if !supported(cfg.ISA) {
				t.Skipf("CPU lacks %v", cfg.ISA)
			}
			fn := kernelFuncs[cfg.Name]
			if fn == nil {
				t.Fatal("kernel missing; run go generate")
			}
			rng := rand.New(rand.NewPCG(1, uint64(len(cfg.Name))))
			for _, k := range testKs(cfg) {
				for _, ldc := range testLDCs(cfg) {
					checkCall(t, cfg, fn, rng, k, ldc, false)
				}
			}
			// A NaN in A must reach row 0 of C through every activation.
			checkCall(t, cfg, fn, rng, max(cfg.K, 5), testLDCs(cfg)[0], true)
		})
	}
}

// checkCall runs one call of fn on random data and compares C with
// gemm.Reference: stored elements within tolerance, everything else
// bit-identical. With nan, A[0] (row 0, first k) is NaN and row 0 of C must
// come out NaN.
func checkCall(t *testing.T, cfg gemm.Config, fn kernelFunc, rng *rand.Rand, k, ldc int, nan bool) {
	t.Helper()
	random := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = rng.Float32()*2 - 1
		}
		return s
	}
	kk := max(k, 0)
	a := random(max(kk, 1) * cfg.MR)
	b := random(max(kk, 1) * cfg.NR)
	if cfg.BF16B {
		// B must be exactly representable in bfloat16 for the reference.
		for i, v := range b {
			b[i] = math.Float32frombits(math.Float32bits(v) &^ 0xffff)
		}
	}
	bias := random(cfg.MR)
	if nan {
		a[0] = float32(math.NaN())
	}
	c := random(guard + (cfg.MR+1)*ldc + cfg.NR + guard)
	want := slices.Clone(c)
	gemm.Reference(cfg, k, a, b, want[guard:], ldc, bias)

	var biasPtr *float32
	if cfg.Bias {
		biasPtr = &bias[0]
	}
	got := slices.Clone(c)
	fn(&a[0], &b[0], &got[guard], k, ldc, biasPtr)

	storeM, storeN := cfg.StoreM, cfg.StoreN
	if storeM == 0 {
		storeM = cfg.MR
	}
	if storeN == 0 {
		storeN = cfg.NR
	}
	// The activation's steepest slope scales the tolerance (hardswish's is
	// up to 1 + Beta + 2·Alpha·|x| where it is not clipped, under 2 here).
	slope := math.Max(1, math.Abs(float64(cfg.Slope)))
	if cfg.Act == gemm.ActHardSwish {
		slope = 2
	}
	errors := 0
	for i := range got {
		r, j := (i-guard)/ldc, (i-guard)%ldc
		stored := i >= guard && r < storeM && j < storeN
		if !stored {
			if math.Float32bits(got[i]) != math.Float32bits(c[i]) {
				t.Errorf("k=%d ldc=%d: element %d (row %d col %d) outside the stored tile changed: %v -> %v",
					k, ldc, i-guard, r, j, c[i], got[i])
				errors++
			}
		} else {
			// Tolerance: relative 1e-5 of the sum of the magnitudes of the terms.
			mag := 0.0
			if cfg.Bias {
				mag += math.Abs(float64(bias[r]))
			}
			if cfg.Accumulate {
				mag += math.Abs(float64(c[i]))
			}
			for p := range kk {
				mag += math.Abs(float64(a[p*cfg.MR+r]) * float64(b[p*cfg.NR+j]))
			}
			if math.IsNaN(float64(want[i])) {
				if !math.IsNaN(float64(got[i])) {
					t.Errorf("k=%d ldc=%d: C[%d,%d] = %v, want NaN", k, ldc, r, j, got[i])
					errors++
				}
			} else if d := math.Abs(float64(got[i]) - float64(want[i])); d > 1e-5*mag*slope || math.IsNaN(d) {
				t.Errorf("k=%d ldc=%d: C[%d,%d] = %v, want %v (|diff| %.3g > %.3g)",
					k, ldc, r, j, got[i], want[i], d, 1e-5*mag*slope)
				errors++
			}
		}
		if errors >= 10 {
			t.Fatal("too many errors")
		}
	}
}

// BenchmarkKernels measures the kernels with K = benchK on panels that stay
// in cache, reporting GFLOP/s of the full MR x NR tile.
func BenchmarkKernels(b *testing.B) {
	for _, cfg := range configs {
		if cfg.K != benchK {
			continue
		}
		b.Run(cfg.Name, func(b *testing.B) {
			if !supported(cfg.ISA) {
				b.Skipf("CPU lacks %v", cfg.ISA)
			}
			fn := kernelFuncs[cfg.Name]
			rng := rand.New(rand.NewPCG(1, 2))
			random := func(n int) []float32 {
				s := make([]float32, n)
				for i := range s {
					s[i] = rng.Float32()
				}
				return s
			}
			a, bp, c := random(benchK*cfg.MR), random(benchK*cfg.NR), random(cfg.MR*cfg.NR)
			for b.Loop() {
				fn(&a[0], &bp[0], &c[0], benchK, cfg.NR, nil)
			}
			flops := 2 * float64(cfg.MR*cfg.NR*benchK) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestActivationRange runs the kernels whose activation is computed from
// constants (sigmoid, SiLU, hardsigmoid, hardswish) on sums across float32's
// range, infinities and NaN included: a K=1 product a[r]*1 puts x in row r.
// Each output must be the reference's within 4e-7 of its magnitude, or
// 1e-37, and NaN exactly where the reference's is.
func TestActivationRange(t *testing.T) {
	xs := []float32{float32(math.Inf(-1)), -1e30, -200, -88.5, -88.3, -87.5, -20, -3.5, -1, -1e-3, 0, 1e-20, 0.25, 3,
		5, 20, 86.9, 87.5, 100, 1e30, float32(math.Inf(1)), float32(math.NaN())}
	for _, cfg := range configs {
		switch cfg.Act {
		case gemm.ActSigmoid, gemm.ActSiLU, gemm.ActHardSigmoid, gemm.ActHardSwish:
		default:
			continue
		}
		if !supported(cfg.ISA) || cfg.K > 1 || cfg.Accumulate {
			continue
		}
		t.Run(cfg.Name, func(t *testing.T) {
			fn := kernelFuncs[cfg.Name]
			for i0 := 0; i0 < len(xs); i0 += cfg.MR {
				a := make([]float32, cfg.MR)
				for r := range a {
					a[r] = xs[(i0+r)%len(xs)]
				}
				b := make([]float32, cfg.NR)
				for j := range b {
					b[j] = 1
				}
				ldc := cfg.NR
				bias := make([]float32, cfg.MR)
				want := make([]float32, cfg.MR*ldc)
				gemm.Reference(cfg, 1, a, b, want, ldc, bias)
				got := make([]float32, cfg.MR*ldc)
				fn(&a[0], &b[0], &got[0], 1, ldc, &bias[0])
				for i, w := range want {
					g := got[i]
					x := a[i/ldc]
					switch {
					case math.IsNaN(float64(w)) != math.IsNaN(float64(g)):
						t.Errorf("x=%v: got %v, want %v", x, g, w)
					case math.IsNaN(float64(w)):
					case math.Abs(float64(g-w)) > math.Max(4e-7*math.Abs(float64(w)), 1e-37) && g != w:
						t.Errorf("x=%v: got %v, want %v", x, g, w)
					}
				}
			}
		})
	}
}
