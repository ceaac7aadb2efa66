package kernels

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/asmgen/gemm/internal/kerneltest"
)

// kernelFunc is the uniform signature of the adapters in kernelFuncs.
type kernelFunc = kerneltest.Func

// toBF16 narrows a B panel for the BF16B kernels' adapters.
var toBF16 = kerneltest.ToBF16

// supported reports whether the kernels of isa can run: always for the
// portable fallback, else according to the CPU.
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
			kerneltest.Check(t, cfg, fn)
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
// constants on sums across float32's range (kerneltest.ActivationRange).
func TestActivationRange(t *testing.T) {
	for _, cfg := range configs {
		if !kerneltest.RangeTested(cfg) || !supported(cfg.ISA) {
			continue
		}
		t.Run(cfg.Name, func(t *testing.T) {
			kerneltest.ActivationRange(t, cfg, kernelFuncs[cfg.Name])
		})
	}
}
