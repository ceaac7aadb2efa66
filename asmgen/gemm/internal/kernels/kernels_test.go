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

// BenchmarkKBlocks runs the K-blocked kernels as codegen's convolution
// steps do when B has one column of tiles (a 7x7 map at batch 1): for each
// K block of kBlockK steps, the kernel on panel after panel of an A of
// kBlocksK-step panels, 64 MiB in all, so that A comes from memory as a
// network's filters do. The kernels with PrefetchA fetch the next panel's
// block while they compute; the others wait for each block's first misses.
func BenchmarkKBlocks(b *testing.B) {
	for _, cfg := range configs {
		if cfg.K != kBlockK {
			continue
		}
		b.Run(cfg.Name, func(b *testing.B) {
			if !supported(cfg.ISA) {
				b.Skipf("CPU lacks %v", cfg.ISA)
			}
			fn := kernelFuncs[cfg.Name]
			panels := (64 << 20) / (4 * cfg.MR * kBlocksK)
			a := make([]float32, panels*cfg.MR*kBlocksK)
			bp := make([]float32, kBlocksK*cfg.NR)
			c := make([]float32, panels*cfg.MR*cfg.NR)
			for i := range a {
				a[i] = float32(i%7) - 3
			}
			for b.Loop() {
				for kb := range kBlocksK / kBlockK {
					for p := range panels {
						fn(&a[(p*kBlocksK+kb*kBlockK)*cfg.MR], &bp[kb*kBlockK*cfg.NR], &c[p*cfg.MR*cfg.NR], kBlockK, cfg.NR, nil)
					}
				}
			}
			flops := 2 * float64(panels*cfg.MR*cfg.NR*kBlocksK) * float64(b.N)
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
