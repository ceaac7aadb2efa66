//go:build arm64 && !purego

package neonkernels

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/cnnc/cnnc/asmgen/gemm/internal/kerneltest"
)

// kernelFunc is the uniform signature of the adapters in kernelFuncs.
type kernelFunc = kerneltest.Func

// toBF16 narrows a B panel for the BF16B kernels' adapters.
var toBF16 = kerneltest.ToBF16

func TestKernels(t *testing.T) {
	for _, cfg := range configs {
		t.Run(cfg.Name, func(t *testing.T) {
			fn := kernelFuncs[cfg.Name]
			if fn == nil {
				t.Fatal("kernel missing; run go generate")
			}
			kerneltest.Check(t, cfg, fn)
		})
	}
}

// TestActivationRange runs the kernels whose activation is computed from
// constants on sums across float32's range (kerneltest.ActivationRange).
func TestActivationRange(t *testing.T) {
	for _, cfg := range configs {
		if !kerneltest.RangeTested(cfg) {
			continue
		}
		t.Run(cfg.Name, func(t *testing.T) {
			kerneltest.ActivationRange(t, cfg, kernelFuncs[cfg.Name])
		})
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

// TestCallOnce calls every kernel once with K = countK (or its own K) on
// zero panels, when callOnceEnv is set.
func TestCallOnce(t *testing.T) {
	if os.Getenv(callOnceEnv) == "" {
		t.Skipf("%s is not set", callOnceEnv)
	}
	for _, cfg := range configs {
		k, ldc := countArgs(cfg)
		a := make([]float32, k*cfg.MR)
		b := make([]float32, k*cfg.NR)
		c := make([]float32, cfg.MR*ldc)
		bias := make([]float32, cfg.MR)
		kernelFuncs[cfg.Name](&a[0], &b[0], &c[0], k, ldc, &bias[0])
	}
}
