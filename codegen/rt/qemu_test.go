//go:build !arm64

package rt

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/internal/qemu"
	"github.com/cnnc/cnnc/internal/testenv"
)

// TestQemu builds this package's tests for arm64 and runs them under
// qemu-aarch64-static, so that the wrappers of *_arm64.go and the NEON
// kernels they call (vec_arm64.s) are tested as the amd64 ones are here:
// every test that runs the implementations available() lists. The quick
// suite leaves out the three that take seconds under emulation:
// TestWinograd's transforms and TestPackWeights are Go on arm64, and
// TestArith's NEON kernels (vecBinary, vecAffine) are tested by
// TestScaleShift, TestActivateTo and asmgen/vec's veckernels; the
// exhaustive suite (CNNC_LONG=1) runs them all.
func TestQemu(t *testing.T) {
	bin := qemu.BuildTest(t, ".")
	var args []string
	if !testenv.Long() {
		args = []string{"-test.skip", "^(TestWinograd|TestPackWeights|TestArith)$"}
	}
	t.Logf("%s", qemu.Run(t, bin, nil, args...))
}

// TestDWInstructionCounts counts, under qemu (exhaustive suite only), the
// instructions of one depthwise channel of each of dwCountShapes with
// NEON's kernels and in Go (TestDWCountOnce's phases; see package
// internal/qemu for the method), and the share of the NEON routines.
func TestDWInstructionCounts(t *testing.T) {
	testenv.SkipUnlessLong(t, "instruction counts under qemu")
	bin := qemu.BuildTest(t, ".")
	const pkg = "github.com/cnnc/cnnc/codegen/rt."
	name := func(sym string) string {
		if strings.HasPrefix(sym, pkg+"vec") && strings.HasSuffix(sym, "NEON.abi0") {
			return "neon"
		}
		return "go"
	}
	phases := qemu.CountPhases(t, bin, []string{dwCountEnv + "=1"}, name, pkg+"dwCountMark", "-test.run", "^TestDWCountOnce$")
	// Phases 1, 3, 5, ...: one channel with NEON's kernels, in Go, the
	// next channel with NEON's, ...
	if want := 1 + 4*len(dwCountShapes); len(phases) != want {
		t.Fatalf("%d phases, want %d", len(phases), want)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-24s %12s %12s %8s %12s %6s\n", "channel", "Go", "NEON", "Go/NEON", "NEON kernels", "FMLA")
	for i, sh := range dwCountShapes {
		neon, goPath := phases[1+4*i], phases[3+4*i]
		total := func(p map[string]qemu.Counts) int { return p["neon"].Instructions + p["go"].Instructions }
		fmt.Fprintf(&b, "%-24s %12d %12d %7.1fx %12d %6d\n", sh.name, total(goPath), total(neon),
			float64(total(goPath))/float64(total(neon)), neon["neon"].Instructions, neon["neon"].FMA)
	}
	t.Logf("instructions per channel under qemu-aarch64-static:\n%s", b.String())
}
