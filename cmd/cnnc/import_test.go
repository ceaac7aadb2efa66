package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler/tensor"
)

const onnxModels = "../../compiler/onnx/testdata/models"

// TestImportCompiled imports two exported ONNX models with the CLI, checks
// the spec, and runs them with the compiled engine (generated code, built)
// on the recorded input: the outputs must match PyTorch's at 1e-4 of their
// scale. fire_small has concat, ceil pooling and a dilated convolution;
// resnet_small batchnorms that the compiler folds and residual adds.
func TestImportCompiled(t *testing.T) {
	for _, name := range []string{"fire_small", "resnet_small"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			spec := filepath.Join(dir, "net.yaml")
			w := filepath.Join(dir, "net.safetensors")
			y := filepath.Join(dir, "y.npy")
			out, errOut, code := cnnc(t, "import", filepath.Join(onnxModels, name+".onnx"), "-o", spec)
			if code != 0 {
				t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, "wrote "+spec+" and "+w) {
				t.Errorf("import printed %q", out)
			}
			if out, errOut, code := cnnc(t, "check", spec); code != 0 || !strings.Contains(out, "ok: net,") {
				t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
			}
			in := filepath.Join(onnxModels, name+".input.npy")
			if out, errOut, code := cnnc(t, "run", spec, "-weights", w, "-input", in, "-output", y, "-top", "0"); code != 0 {
				t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
			}
			_, got, err := tensor.LoadNpy(y)
			if err != nil {
				t.Fatal(err)
			}
			_, want, err := tensor.LoadNpy(filepath.Join(onnxModels, name+".output.npy"))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d outputs, want %d", len(got), len(want))
			}
			scale, d := 0.0, 0.0
			for i := range want {
				scale = max(scale, math.Abs(float64(want[i])))
				d = max(d, math.Abs(float64(got[i])-float64(want[i])))
			}
			t.Logf("max |y| %.4g, compiled engine differs from PyTorch by %.3g", scale, d)
			if !(d <= 1e-4*scale) {
				t.Errorf("compiled output differs from PyTorch's by %g (scale %g)", d, scale)
			}
		})
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.onnx")
	os.WriteFile(bad, []byte("not onnx"), 0o644)
	spec := filepath.Join(dir, "s.yaml")
	for _, tt := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"import", bad}, 2, "import needs -o FILE"},
		{[]string{"import", bad, "-o", spec}, 1, "bad.onnx: not an ONNX model"},
		{[]string{"import", filepath.Join(dir, "none.onnx"), "-o", spec}, 1, "no such file"},
		{[]string{"import", bad, "-o", spec, "-weights", spec}, 2, "name the same file"},
		{[]string{"weights", "import", "x.pth", "-o", spec}, 2, "weights import needs -spec SPEC.yaml and -o FILE"},
		{[]string{"weights", "import", bad, "-spec", lenet, "-o", spec}, 1, "not a PyTorch file"},
		{[]string{"weights", "import", "../../compiler/pth/testdata/resnet_small.pth", "-spec", lenet, "-o", spec}, 1,
			"the state_dict has 13 modules with parameters and the spec 5 layers with parameters"},
	} {
		_, errOut, code := cnnc(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.err) {
			t.Errorf("cnnc %v: exit %d, want %d\nstderr: %s\nwant %q", tt.args, code, tt.code, errOut, tt.err)
		}
	}
	if _, err := os.Stat(spec); !os.IsNotExist(err) {
		t.Errorf("a failed import wrote %s", spec)
	}
}

// TestWeightsImport imports a torchvision-style state_dict onto
// spec/resnet_small.yaml with the CLI, with and without a map file, and
// runs it with the reference engine against PyTorch's output.
func TestWeightsImport(t *testing.T) {
	dir := t.TempDir()
	const rs = "../../spec/resnet_small.yaml"
	const pthDir = "../../compiler/pth/testdata"
	w, w2, y := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "w2.safetensors"), filepath.Join(dir, "y.npy")
	out, errOut, code := cnnc(t, "weights", "import", filepath.Join(pthDir, "resnet_small.pth"), "-spec", rs, "-o", w)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"layer2.downsample.0.weight [32 16 1 1]      -> b2_proj.weight", "wrote " + w + ": 32 tensors, 20,282 values (zip state_dict)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	m := filepath.Join(dir, "map")
	os.WriteFile(m, []byte("conv1 stem\nbn1 stem_bn\nlayer1.conv1 b1_conv1\nlayer1.bn1 b1_bn1\nlayer1.conv2 b1_conv2\nlayer1.bn2 b1_bn2\n"+
		"layer2.conv1 b2_conv1\nlayer2.bn1 b2_bn1\nlayer2.conv2 b2_conv2\nlayer2.bn2 b2_bn2\nlayer2.downsample.0 b2_proj\nlayer2.downsample.1 b2_proj_bn\nfc fc\n"), 0o644)
	if out, errOut, code := cnnc(t, "weights", "import", filepath.Join(pthDir, "resnet_small.pth"), "-spec", rs, "-o", w2, "-map", m); code != 0 {
		t.Fatalf("with -map: exit %d\n%s%s", code, out, errOut)
	}
	a, _ := os.ReadFile(w)
	b, _ := os.ReadFile(w2)
	if string(a) != string(b) {
		t.Errorf("the map file gives other weights than the order")
	}
	if out, errOut, code := cnnc(t, "run", rs, "-engine", "interp", "-weights", w, "-input", filepath.Join(pthDir, "resnet_small.input.npy"), "-output", y); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	_, got, _ := tensor.LoadNpy(y)
	_, want, _ := tensor.LoadNpy(filepath.Join(pthDir, "resnet_small.output.npy"))
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("output %d is %g, PyTorch's %g", i, got[i], want[i])
		}
	}
}
