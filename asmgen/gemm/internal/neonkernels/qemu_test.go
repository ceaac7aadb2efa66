//go:build !arm64

package neonkernels

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cnnc/cnnc/internal/qemu"
	"github.com/cnnc/cnnc/internal/testenv"
)

// TestQemu builds this package's tests for arm64 and runs them under
// qemu-aarch64-static: every kernel against gemm.Reference
// (TestKernels, TestActivationRange). They take about a second under
// emulation, so the quick suite runs them all; the exhaustive suite
// (CNNC_LONG=1) also runs each benchmark kernel once at K=1152.
func TestQemu(t *testing.T) {
	start := time.Now()
	bin := qemu.BuildTest(t, ".")
	t.Logf("built the arm64 test binary in %v", time.Since(start).Round(time.Millisecond))
	args := []string{"-test.run", "^(TestKernels|TestActivationRange)$"}
	if testenv.Long() {
		args = append(args, "-test.bench", ".", "-test.benchtime", "1x")
	}
	start = time.Now()
	out := qemu.Run(t, bin, nil, args...)
	t.Logf("ran under qemu in %v:\n%s", time.Since(start).Round(time.Millisecond), out)
}

// TestInstructionCounts counts the instructions each kernel executes under
// qemu (exhaustive suite only; see package internal/qemu for the method):
// TestCallOnce calls each kernel once. It reports, per kernel, the
// instructions executed, the vector FMAs (FMLA, FMLS, the epilogue's
// included) among them, and the FLOPs of the stored StoreM x StoreN corner
// per instruction.
func TestInstructionCounts(t *testing.T) {
	testenv.SkipUnlessLong(t, "instruction counts under qemu")
	bin := qemu.BuildTest(t, ".")
	name := func(sym string) string {
		const pkg = "neonkernels."
		if i := strings.Index(sym, pkg); i >= 0 {
			return strings.TrimSuffix(sym[i+len(pkg):], ".abi0")
		}
		return ""
	}
	counts := qemu.Count(t, bin, []string{callOnceEnv + "=1"}, name, "-test.run", "^TestCallOnce$")
	var b strings.Builder
	fmt.Fprintf(&b, "%-44s %5s %9s %9s %7s %9s\n", "kernel", "K", "executed", "FMA", "FMA %", "FLOP/inst")
	for _, cfg := range configs {
		cnt := counts[cfg.Name]
		if cnt.Instructions == 0 {
			t.Errorf("%s: no instructions counted", cfg.Name)
			continue
		}
		k, _ := countArgs(cfg)
		m, n := cfg.StoreM, cfg.StoreN
		if m == 0 {
			m = cfg.MR
		}
		if n == 0 {
			n = cfg.NR
		}
		flops := 2 * float64(k) * float64(m*n)
		fmt.Fprintf(&b, "%-44s %5d %9d %9d %6.1f%% %9.2f\n", cfg.Name, k, cnt.Instructions, cnt.FMA,
			100*float64(cnt.FMA)/float64(cnt.Instructions), flops/float64(cnt.Instructions))
	}
	t.Logf("instructions executed per call under qemu-aarch64-static:\n%s", b.String())
}
