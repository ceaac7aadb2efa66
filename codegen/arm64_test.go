package codegen_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cnnc/cnnc/internal/qemu"
	"github.com/cnnc/cnnc/internal/testenv"
)

// TestEndToEndARM64 is TestEndToEnd for arm64: it generates packages into
// one module, builds their tests with GOARCH=arm64 and runs them under
// qemu-aarch64-static (natively on arm64), where each package's
// TestImplementationsAgree and TestGolden compare the NEON implementation
// with purego and with cnnc's reference engine; go vet's asmdecl checks
// kernels_arm64.s against its declarations. It skips without qemu (fails
// under CI, which installs it).
//
// The quick suite takes a few small networks that between them reach
// every kind of NEON GEMM: im2col convolutions with bias and fused
// activations (ReLU, ReLU6, tanh after the kernel), ragged tiles, the
// residual add in the epilogue (Accumulate) and the squeeze-excite
// multiply folded into the filters, depthwise layers (Go on arm64), dense
// layers at batch 1 and 3 in fp32 and bf16 (BF16B), and Winograd GEMMs.
// The exhaustive suite runs every spec in spec/ and every corner spec at
// batches 1 and 3 (the AlexNets and other big networks at batch 1), and
// the Winograd edge specs at every batch.
func TestEndToEndARM64(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is not on PATH (%v): generated packages cannot be built", err)
	}
	var env, execArgs []string
	if runtime.GOARCH != "arm64" {
		execArgs = []string{"-exec", testenv.LookPath(t, qemu.Command, qemu.Install)}
		env = []string{"GOARCH=arm64", "CGO_ENABLED=0"}
	}
	start := time.Now()
	dir := t.TempDir()
	writeModule(t, dir)
	long := testenv.Long()

	var cases []e2eCase
	add := func(path string, batch int, big, bf16 bool) {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		if bf16 {
			name += "_bf16"
		}
		cases = append(cases, e2eCase{pkg: fmt.Sprintf("%s_b%d", name, batch), path: path, batch: batch, big: big, bf16: bf16, goarch: "arm64"})
	}
	if long {
		for _, glob := range []string{"../spec/*.yaml", "../compiler/testdata/corners/*.yaml"} {
			paths, err := filepath.Glob(glob)
			if err != nil || len(paths) == 0 {
				t.Fatalf("no specs match %s (%v)", glob, err)
			}
			for _, path := range paths {
				big := macs(t, path) > e2eShortMACs
				for _, b := range []int{1, 3} {
					if b == 1 || !big {
						add(path, b, big, false)
					}
				}
			}
		}
		wino, s2d := writeSpec(t, dir, "wino_edges", winoEdgesSpec), writeSpec(t, dir, "wino_s2d", winoS2DSpec)
		for _, b := range e2eBatches {
			add(wino, b, false, false)
			add(s2d, b, false, false)
		}
		add("../spec/lenet5.yaml", 1, false, true)
	} else {
		add("../spec/lenet5.yaml", 1, false, false)
		add("../spec/resnet_small.yaml", 2, false, false)
		add("../compiler/testdata/corners/mobile_dw.yaml", 1, false, false)
		add("../compiler/testdata/corners/residual.yaml", 3, false, false)
		add("../compiler/testdata/corners/squeeze_excite.yaml", 1, false, false)
		add(writeSpec(t, dir, "wino_s2d", winoS2DSpec), 1, false, false)
	}
	add("../spec/lenet5.yaml", 3, false, true)

	t.Run("generate", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.pkg, func(t *testing.T) {
				t.Parallel()
				writeCase(t, dir, c)
			})
		}
	})
	if t.Failed() {
		return
	}
	t.Logf("generated %d packages in %v", len(cases), time.Since(start).Round(time.Millisecond))
	goRun(t, goTool, dir, env, "vet", "./...")
	args := append([]string{"test", "-json"}, execArgs...)
	if long {
		args = append(args, "-timeout", "60m")
	}
	goTest(t, goTool, dir, env, cases, false, append(args, "./...")...)
}
