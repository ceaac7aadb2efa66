package pth

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/ref"
	"github.com/cnnc/cnnc/compiler/tensor"
	"github.com/cnnc/cnnc/internal/testenv"
)

// bitsEqual compares float32 slices bit for bit.
func bitsEqual(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return 0, true
}

// checkAgainst compares a state_dict's float tensors with a safetensors
// file written by PyTorch's side (save.py), bit for bit, in order.
func checkAgainst(t *testing.T, sd *StateDict, expectedPath string) {
	t.Helper()
	want, err := tensor.LoadSafetensors(expectedPath)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, got := range sd.Tensors {
		if !got.IsFloat() {
			continue
		}
		w := want.Tensors[got.Name]
		if w == nil {
			t.Errorf("%s is not in %s", got.Name, expectedPath)
			continue
		}
		n++
		if !slices.Equal(got.Shape, w.Shape) {
			t.Errorf("%s: shape %v, want %v", got.Name, got.Shape, w.Shape)
			continue
		}
		if i, ok := bitsEqual(got.Data, w.Data); !ok {
			t.Errorf("%s: element %d is %v, PyTorch's is %v", got.Name, i, got.Data[i], w.Data[i])
		}
	}
	if n != len(want.Tensors) {
		t.Errorf("%d float tensors read, PyTorch wrote %d", n, len(want.Tensors))
	}
}

// runSpec runs a spec with weights through the reference engine and
// compares with PyTorch's output at 1e-4 of its scale.
func runSpec(t *testing.T, specPath string, ts []*tensor.Tensor, inputPath, outputPath string) {
	t.Helper()
	g, err := compiler.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	f := &tensor.File{Tensors: map[string]*tensor.Tensor{}}
	for _, x := range ts {
		f.Tensors[x.Name] = x
		f.Order = append(f.Order, x.Name)
	}
	p, warns, err := params.Bind(g, f)
	if err != nil || len(warns) > 0 {
		t.Fatalf("bind: %v %v", err, warns)
	}
	shape, x, err := tensor.LoadNpy(inputPath)
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := tensor.LoadNpy(outputPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ref.Run(g, p, x, shape[0])
	if err != nil {
		t.Fatal(err)
	}
	got := r.Output(g)
	scale, d := 0.0, 0.0
	for i := range want {
		scale = max(scale, math.Abs(float64(want[i])))
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
	}
	t.Logf("max |y| %.4g, max difference %.3g", scale, d)
	if len(got) != len(want) || !(d <= 1e-4*scale) {
		t.Errorf("output differs from PyTorch's by %g (scale %g, %d vs %d values)", d, scale, len(got), len(want))
	}
}

func mustLoad(t *testing.T, path string) *StateDict {
	t.Helper()
	sd, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

func TestResNetSmall(t *testing.T) {
	sd := mustLoad(t, "testdata/resnet_small.pth")
	if sd.Format != "zip" || len(sd.Tensors) != 38 {
		t.Fatalf("format %s, %d tensors", sd.Format, len(sd.Tensors))
	}
	checkAgainst(t, sd, "testdata/resnet_small.expected.safetensors")
	g, err := compiler.Load("../../spec/resnet_small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, rows, err := Map(sd, params.Wants(g), nil)
	if err != nil {
		t.Fatal(err)
	}
	table := Table(rows)
	for _, want := range []string{
		"conv1.weight [16 3 3 3]                     -> stem.weight\n",
		"layer2.downsample.1.running_var [32]        -> b2_proj_bn.running_var\n",
		"bn1.num_batches_tracked []                  (ignored: a counter, not a parameter)\n",
		"fc.bias [10]                                -> fc.bias\n",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	runSpec(t, "../../spec/resnet_small.yaml", ts, "testdata/resnet_small.input.npy", "testdata/resnet_small.output.npy")

	// The same through an explicit map (module prefixes and one full name).
	m, err := ParseMap("resnet.map", []byte(`
# torchvision-style names -> spec/resnet_small.yaml
conv1 stem
bn1 stem_bn
layer1.conv1 b1_conv1
layer1.bn1 b1_bn1
layer1.conv2 b1_conv2
layer1.bn2 b1_bn2
layer2.conv1 b2_conv1
layer2.bn1 b2_bn1
layer2.conv2 b2_conv2
layer2.bn2 b2_bn2
layer2.downsample.0 b2_proj
layer2.downsample.1 b2_proj_bn
fc.weight fc.weight   # a full name
fc.bias   fc.bias
`))
	if err != nil {
		t.Fatal(err)
	}
	ts2, _, err := Map(sd, params.Wants(g), m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ts {
		if ts[i].Name != ts2[i].Name {
			t.Fatalf("tensor %d: %s by order, %s by map", i, ts[i].Name, ts2[i].Name)
		}
		if _, ok := bitsEqual(ts[i].Data, ts2[i].Data); !ok {
			t.Errorf("%s differs between the order and the map", ts[i].Name)
		}
	}
}

func TestMapErrors(t *testing.T) {
	sd := mustLoad(t, "testdata/resnet_small.pth")
	load := func(spec string) []params.Want {
		g, err := compiler.Load(spec)
		if err != nil {
			t.Fatal(err)
		}
		return params.Wants(g)
	}
	rs := load("../../spec/resnet_small.yaml")
	// By order onto the wrong network.
	_, _, err := Map(sd, load("../../spec/lenet5.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "the state_dict has 13 modules with parameters and the spec 5 layers") {
		t.Errorf("lenet5: %v", err)
	}
	// A state_dict whose modules are in another order than the spec's.
	swapped := &StateDict{Tensors: slices.Clone(sd.Tensors)}
	swapped.Tensors[0], swapped.Tensors[6] = swapped.Tensors[6], swapped.Tensors[0]
	_, _, err = Map(swapped, rs, nil)
	if err == nil || !strings.Contains(err.Error(), "module 1 of the state_dict does not match layer 1 of the spec") {
		t.Errorf("swapped: %v", err)
	}
	for _, c := range []struct{ name, src, want string }{
		{"wrong_shape", "conv1 b1_conv1\n", "resnet.map:1: conv1.weight has shape [16 3 3 3]; b1_conv1.weight needs [16 16 3 3]"},
		{"unmapped", "conv1 stem\n", "resnet.map: no line maps bn1.weight [16]"},
		{"unused_line", "conv1 stem\nnothing -\n", "resnet.map:2: nothing matches no tensor"},
		{"not_in_spec", "conv1 frob\n", "conv1.weight maps to frob.weight, which the spec does not have"},
		{"two_to_one", "conv1 stem\nlayer1.conv1 stem\n", "both map to stem.weight"},
	} {
		m, err := ParseMap("resnet.map", []byte(c.src))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Map(sd, rs, m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant %q", c.name, err, c.want)
		}
	}
	if _, err := ParseMap("m", []byte("a b c\nx y\nx z\n")); err == nil ||
		!strings.Contains(err.Error(), "m:1: want `SOURCE TARGET`, got 3 fields") || !strings.Contains(err.Error(), "m:3: x is already mapped on line 2") {
		t.Errorf("ParseMap: %v", err)
	}
	// Leaving tensors out with "-" lets a state_dict with extras map.
	m, _ := ParseMap("m", []byte("conv1 stem\nbn1 stem_bn\nlayer1 -\nlayer2 -\nfc -\n"))
	stem := load("testdata/stem.yaml")
	if _, rows, err := Map(sd, stem, m); err != nil {
		t.Errorf("partial map: %v", err)
	} else if !strings.Contains(Table(rows), "(left out by m:3)") {
		t.Errorf("table:\n%s", Table(rows))
	}
}

// TestDTypes reads tensors of every supported type, views sharing a
// storage and a scalar, from the zip and the legacy format.
func TestDTypes(t *testing.T) {
	b, err := os.ReadFile("testdata/dtypes.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Shape  []int
		DType  string
		Values []json.Number
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"dtypes.pth", "dtypes_legacy.pth"} {
		sd := mustLoad(t, filepath.Join("testdata", file))
		if len(sd.Tensors) != len(want) {
			t.Errorf("%s: %d tensors, want %d", file, len(sd.Tensors), len(want))
		}
		for _, got := range sd.Tensors {
			w, ok := want[got.Name]
			if !ok {
				t.Errorf("%s: unexpected %s", file, got.Name)
				continue
			}
			if got.DType != w.DType || !slices.Equal(got.Shape, w.Shape) {
				t.Errorf("%s: %s is %s %v, want %s %v", file, got.Name, got.DType, got.Shape, w.DType, w.Shape)
				continue
			}
			for i, v := range w.Values {
				if got.IsFloat() {
					f, _ := v.Float64()
					if got.Data[i] != float32(f) {
						t.Errorf("%s: %s[%d] = %v, want %v", file, got.Name, i, got.Data[i], f)
						break
					}
				} else if n, _ := v.Int64(); got.Ints[i] != n {
					t.Errorf("%s: %s[%d] = %v, want %v", file, got.Name, i, got.Ints[i], n)
					break
				}
			}
		}
	}
}

// python is Debian's Python, which has torch and torchvision.
const python = "/usr/bin/python3"

// TestAlexNetStateDict saves torchvision's AlexNet state_dict (random
// initialisation, seeded, 244 MB) with PyTorch, imports it onto
// spec/alexnet_torchvision.yaml by order and shape, checks every tensor
// against PyTorch's bit for bit and the reference engine's output against
// PyTorch's.
func TestAlexNetStateDict(t *testing.T) {
	testenv.NeedPython(t, "torch", "torchvision", "numpy")
	dir := t.TempDir()
	cmd := exec.Command(python, "compiler/pth/testdata/save.py", "alexnet", dir)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("save.py alexnet: %v\n%s", err, out)
	}
	sd := mustLoad(t, filepath.Join(dir, "alexnet.pth"))
	checkAgainst(t, sd, filepath.Join(dir, "alexnet.expected.safetensors"))
	g, err := compiler.Load("../../spec/alexnet_torchvision.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, rows, err := Map(sd, params.Wants(g), nil)
	if err != nil {
		t.Fatal(err)
	}
	table := Table(rows)
	flat := strings.Join(strings.Fields(table), " ")
	for _, want := range []string{"features.0.weight [64 3 11 11] -> conv1.weight", "classifier.6.bias [1000] -> fc8.bias"} {
		if !strings.Contains(flat, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	runSpec(t, "../../spec/alexnet_torchvision.yaml", ts, filepath.Join(dir, "alexnet.input.npy"), filepath.Join(dir, "alexnet.output.npy"))
}
