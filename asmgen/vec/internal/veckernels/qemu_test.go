//go:build !arm64

package veckernels

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/internal/qemu"
	"github.com/cnnc/cnnc/internal/testenv"
)

// TestQemu builds this package's tests for arm64 and runs them under
// qemu-aarch64-static: every NEON routine against the formulas, as the
// tests above run the AVX ones here.
func TestQemu(t *testing.T) {
	bin := qemu.BuildTest(t, ".")
	t.Logf("%s", qemu.Run(t, bin, nil, "-test.run", "^Test", "-test.skip", "^TestGenerated$"))
}

// TestWinogradInstructionCounts counts the instructions each Winograd
// transform executes under qemu (exhaustive suite only; see package
// internal/qemu for the method), NEON's against the Go ones that arm64
// ran before them: TestCallOnce calls each once on 64 tiles.
func TestWinogradInstructionCounts(t *testing.T) {
	testenv.SkipUnlessLong(t, "instruction counts under qemu")
	bin := qemu.BuildTest(t, ".")
	name := func(sym string) string {
		const pkg = "veckernels."
		if i := strings.Index(sym, pkg); i >= 0 && strings.HasPrefix(sym[i+len(pkg):], "vecWino") {
			return strings.TrimSuffix(sym[i+len(pkg):], ".abi0")
		}
		return ""
	}
	counts := qemu.Count(t, bin, []string{callOnceEnv + "=1"}, name, "-test.run", "^TestCallOnce$")
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %-4s %10s %10s %7s %12s\n", "form", "", "Go", "NEON", "Go/NEON", "NEON per tile")
	for _, f := range winoForms {
		for _, dir := range []string{"In", "Out"} {
			g, n := counts["vecWino"+dir+f.Name()+"Go"].Instructions, counts["vecWino"+dir+f.Name()+"NEON"].Instructions
			if g == 0 || n == 0 {
				t.Errorf("%v %s: no instructions counted (Go %d, NEON %d)", f, dir, g, n)
				continue
			}
			fmt.Fprintf(&b, "%-12s %-4s %10d %10d %6.1fx %12.1f\n", f.Name(), dir, g, n, float64(g)/float64(n), float64(n)/64)
		}
	}
	t.Logf("instructions executed per call on 64 tiles under qemu-aarch64-static:\n%s", b.String())
}
