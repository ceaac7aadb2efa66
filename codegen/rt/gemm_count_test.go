package rt

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/internal/qemu"
	"github.com/cnnc/cnnc/internal/testenv"
)

// gemmCallOnceEnv names the environment variable that makes
// TestGemmCallOnce run, with a tile "MRxNR": TestGemmInstructionCounts sets
// it and counts the instructions rtGemm executes on arm64 under qemu.
const gemmCallOnceEnv = "CNNC_RTGEMM_CALL_ONCE"

// gemmCountTiles are the tiles TestGemmInstructionCounts counts: the pure-Go
// path's (codegen's impls) and the NEON kernels' presets, at K = 1152.
var gemmCountTiles = [][2]int{{4, 16}, {1, 16}, {8, 12}, {12, 8}}

const gemmCountK = 1152

// TestGemmCallOnce calls rtGemm once, with K = gemmCountK and the tile
// gemmCallOnceEnv names, when it is set.
func TestGemmCallOnce(t *testing.T) {
	tile := os.Getenv(gemmCallOnceEnv)
	if tile == "" {
		t.Skipf("%s is not set", gemmCallOnceEnv)
	}
	var mr, nr int
	if _, err := fmt.Sscanf(tile, "%dx%d", &mr, &nr); err != nil {
		t.Fatalf("%s=%q: %v", gemmCallOnceEnv, tile, err)
	}
	a, b, c := make([]float32, gemmCountK*mr), make([]float32, gemmCountK*nr), make([]float32, mr*nr)
	gemmCountCall(mr, nr, a, b, c)
}

// gemmCountCall is one call of rtGemm, under its own symbol so that its
// instructions are counted per tile.
//
//go:noinline
func gemmCountCall(mr, nr int, a, b, c []float32) {
	rtGemm(mr, nr, gemmCountK, a, b, c, nr, nil, rtAct{}, mr, nr)
}

// TestGemmInstructionCounts counts the instructions the pure-Go
// micro-kernel executes on arm64 under qemu-aarch64-static (exhaustive
// suite only; internal/qemu describes the method), for comparison with the
// NEON kernels' (asmgen/gemm/internal/neonkernels' TestInstructionCounts).
func TestGemmInstructionCounts(t *testing.T) {
	testenv.SkipUnlessLong(t, "instruction counts under qemu")
	if runtime.GOARCH == "arm64" {
		t.Skip("counts arm64 instructions under emulation")
	}
	bin := qemu.BuildTest(t, ".")
	// Everything from gemmCountCall down: rtGemm, rtGemmStore, rtActivate.
	name := func(sym string) string {
		for _, f := range []string{".gemmCountCall", ".rtGemm", ".rtActivate"} {
			if strings.Contains(sym, "codegen/rt"+f) {
				return "rtGemm"
			}
		}
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %5s %9s %9s\n", "rtGemm tile", "K", "executed", "FLOP/inst")
	for _, tile := range gemmCountTiles {
		// One tile per run, so that the counts are per tile.
		s := fmt.Sprintf("%dx%d", tile[0], tile[1])
		counts := qemu.Count(t, bin, []string{gemmCallOnceEnv + "=" + s}, name, "-test.run", "^TestGemmCallOnce$")
		n := counts["rtGemm"].Instructions
		if n == 0 {
			t.Fatalf("%s: no instructions counted", s)
		}
		fmt.Fprintf(&b, "%-12s %5d %9d %9.2f\n", s, gemmCountK, n, 2*float64(gemmCountK*tile[0]*tile[1])/float64(n))
	}
	t.Logf("pure-Go micro-kernel on arm64, instructions executed per call under qemu-aarch64-static:\n%s", b.String())
}
