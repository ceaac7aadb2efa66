package onnx

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cnnc/cnnc/compiler/tensor"
	"github.com/cnnc/cnnc/internal/testenv"
)

// python is Debian's Python, which has torch, torchvision and onnx (the
// python3 on PATH may be another one).
const python = "/usr/bin/python3"

// needPython skips the test when Python or one of the modules is missing,
// unless the environment variable CI is set (.ci/run installs them), in
// which case the test fails.
func needPython(t *testing.T, modules ...string) {
	t.Helper()
	testenv.NeedPython(t, modules...)
}

// TestAlexNet exports torchvision's AlexNet (random initialisation, seeded;
// 244 MB, so it is made here rather than committed), imports it and
// compares the reference engine's output with PyTorch's.
func TestAlexNet(t *testing.T) {
	needPython(t, "torch", "torchvision", "onnx", "numpy")
	dir := t.TempDir()
	start := time.Now()
	cmd := exec.Command(python, "compiler/onnx/testdata/export.py", "alexnet", dir)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("export.py alexnet: %v\n%s", err, out)
	}
	t.Logf("export: %v", time.Since(start))
	start = time.Now()
	res := importFile(t, filepath.Join(dir, "alexnet.onnx"))
	t.Logf("import: %v", time.Since(start))
	for _, want := range []string{
		"{name: features_0, op: conv, filters: 64, kernel: 11, stride: 4, padding: 2}",
		"{name: features_2, op: maxpool, kernel: 3, stride: 2}",
		"{name: avgpool, op: avgpool, kernel: 1}", // AdaptiveAvgPool2d((6, 6)) on 6x6
		"{name: classifier_6, op: dense, units: 1000}",
	} {
		if !strings.Contains(string(res.Spec), want) {
			t.Errorf("spec lacks %q:\n%s", want, res.Spec)
		}
	}
	if res.Layers != 20 {
		t.Errorf("%d layers, want 20", res.Layers)
	}
	shape, x, err := tensor.LoadNpy(filepath.Join(dir, "alexnet.input.npy"))
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := tensor.LoadNpy(filepath.Join(dir, "alexnet.output.npy"))
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	checkOutput(t, runImported(t, res, x, shape[0]), want)
	t.Logf("reference engine, twice: %v", time.Since(start))
}
