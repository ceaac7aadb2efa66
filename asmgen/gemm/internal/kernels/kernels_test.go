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

// BenchmarkKernels measures the kernels with K = benchK or epiK on panels
// that stay in cache, reporting GFLOP/s of the full MR x NR tile and, for
// the epilogue kernels, ns per output vector (the activation's cost is
// the difference from the kernel without one).
func BenchmarkKernels(b *testing.B) {
	for _, cfg := range configs {
		if cfg.K != benchK && cfg.K != epiK {
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
			a, bp, c := random(cfg.K*cfg.MR), random(cfg.K*cfg.NR), random(cfg.MR*cfg.NR)
			bias := random(cfg.MR)
			for i := range a {
				a[i] -= 0.5 // sums of either sign
			}
			for b.Loop() {
				fn(&a[0], &bp[0], &c[0], cfg.K, cfg.NR, &bias[0])
			}
			flops := 2 * float64(cfg.MR*cfg.NR*cfg.K) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cfg.K == epiK {
				lanes := 16
				if cfg.ISA == gemm.AVX2 {
					lanes = 8
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(cfg.MR*cfg.NR/lanes), "ns/vec")
			}
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
