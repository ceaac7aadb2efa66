package onnx

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/ref"
	"github.com/cnnc/cnnc/compiler/spec"
	"github.com/cnnc/cnnc/compiler/tensor"
)

// manifestEntry is what export.py records for a case.
type manifestEntry struct {
	Description string   `json:"description"`
	Spec        string   `json:"spec"` // the spec the network was exported from, if any
	Ops         []string `json:"ops"`
	Opset       int64    `json:"opset"`
}

const modelsDir = "testdata/models"

func readManifest(t *testing.T) map[string]manifestEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]manifestEntry{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) < 10 {
		t.Fatalf("manifest lists %d cases", len(m))
	}
	return m
}

// importFile imports an ONNX file, failing the test on error.
func importFile(t *testing.T, path string) *Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(data, Options{Source: path})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

// runImported runs an imported spec with its weights on x through the
// reference engine, both as written and after the optimisation passes,
// and returns the output as written (after checking the two agree).
func runImported(t *testing.T, res *Result, x []float32, batch int) []float32 {
	t.Helper()
	s, err := spec.Parse(res.Name+".yaml", res.Spec)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, res.Spec)
	}
	f := &tensor.File{Tensors: res.Tensors()}
	for _, w := range res.Weights {
		f.Order = append(f.Order, w.Name)
	}
	var outs [][]float32
	for _, opt := range []passes.Options{{Stop: "inferShapes"}, {Verify: true}} {
		g, err := compiler.CompileSpec(s, opt)
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		p, warns, err := params.Bind(g, f)
		if err != nil || len(warns) > 0 {
			t.Fatalf("bind: %v %v", err, warns)
		}
		r, err := ref.Run(g, p, x, batch)
		if err != nil {
			t.Fatalf("ref: %v", err)
		}
		outs = append(outs, r.Output(g))
	}
	if d := maxDiff(outs[0], outs[1]); d > 1e-5*maxAbs(outs[0]) {
		t.Errorf("the optimised graph differs from the graph as written by %g", d)
	}
	return outs[0]
}

func maxAbs(x []float32) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = max(m, d)
	}
	return m
}

// checkOutput compares got with the reference at 1e-4 of its scale.
func checkOutput(t *testing.T, got, want []float32) {
	t.Helper()
	scale := maxAbs(want)
	d := maxDiff(got, want)
	t.Logf("max |y| %.4g, max difference %.3g (%.2g of scale)", scale, d, d/scale)
	if !(d <= 1e-4*scale) {
		t.Errorf("output differs from the reference by %g, more than 1e-4 of its scale %g", d, scale)
	}
}

// TestModels imports every exported model, runs it through the reference
// engine on the recorded input and compares with the recorded output
// (PyTorch's, in float64; export.py checked onnxruntime against it).
func TestModels(t *testing.T) {
	for name, e := range readManifest(t) {
		t.Run(name, func(t *testing.T) {
			res := importFile(t, filepath.Join(modelsDir, name+".onnx"))
			shape, x, err := tensor.LoadNpy(filepath.Join(modelsDir, name+".input.npy"))
			if err != nil {
				t.Fatal(err)
			}
			_, want, err := tensor.LoadNpy(filepath.Join(modelsDir, name+".output.npy"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(shape[1:], res.Inputs[:]) {
				t.Fatalf("imported input %v, recorded input %v", res.Inputs, shape)
			}
			if res.Opset != e.Opset {
				t.Errorf("opset %d, manifest says %d", res.Opset, e.Opset)
			}
			checkOutput(t, runImported(t, res, x, shape[0]), want)
			if e.Spec != "" {
				sameNetwork(t, res, filepath.Join("../..", e.Spec))
			}
		})
	}
}

// TestPatternsExercised guards the test data: each case must contain the
// ONNX pattern it is there for, so that a change in the exporter cannot
// quietly turn a test of Pad folding into a test of something else.
func TestPatternsExercised(t *testing.T) {
	m := readManifest(t)
	want := map[string][]string{
		"avgpool_pad":        {"Pad", "AveragePool"},
		"avgpool_pad_opset9": {"Pad", "AveragePool"},
		"ceil_pool":          {"Pad", "MaxPool", "AveragePool"},
		"reducemean_gap":     {"ReduceMean", "Squeeze"},
		"view_flatten":       {"Shape", "Gather", "Unsqueeze", "Concat", "Reshape"},
		"const_reshape":      {"Reshape"},
		"gemm_transb0":       {"Gemm"},
		"matmul_add":         {"MatMul", "Add"},
		"dropout_softmax":    {"Dropout", "Softmax"},
		"same_stride2":       {"Pad", "Slice", "Transpose", "ConstantOfShape"},
		"resnet_small":       {"BatchNormalization", "Add"},
		"fire_small":         {"Concat", "LeakyRelu", "Sigmoid"},
		"lrn_small":          {"LRN"},
		"vgg_small_narrow":   {"Pad", "Neg", "Div", "Sub"},
		"softmax_opset11":    {"Softmax", "GlobalAveragePool"},
		"clip":               {"Clip", "Constant"},
		"clip_opset9":        {"Clip"},
		"hardsigmoid":        {"HardSigmoid"},
		"hardswish_13":       {"HardSigmoid", "Mul"},
		"hardswish_14":       {"HardSwish"},
		"silu":               {"Sigmoid", "Mul"},
		"gelu":               {"Div", "Erf", "Add", "Mul"},
		"gelu_tanh":          {"Mul", "Add", "Tanh"},
		"prelu":              {"PRelu"},
		"squeeze_excite":     {"GlobalAveragePool", "Sigmoid", "Mul"},
		"broadcast":          {"Add", "Sub", "Mul", "Div"},
		"const_fold":         {"Mul", "Add", "Sub", "Div", "BatchNormalization"},
		"shuffle":            {"Shape", "Slice", "Split", "Reshape", "Transpose", "Concat"},
		"convnext_13":        {"Transpose", "ReduceMean", "Sub", "Pow", "Sqrt", "MatMul", "Erf", "Mul"},
		"convnext_17":        {"Transpose", "LayerNormalization", "MatMul", "Erf", "Mul"},
		"layernorm_flat_13":  {"ReduceMean", "Pow", "Sqrt", "Div"},
		"layernorm_flat_17":  {"LayerNormalization"},
	}
	for name, ops := range want {
		e, ok := m[name]
		if !ok {
			t.Errorf("no case %s", name)
			continue
		}
		for _, op := range ops {
			if !slices.Contains(e.Ops, op) {
				t.Errorf("%s has no %s node (it has %v)", name, op, e.Ops)
			}
		}
	}
}

// noONNXCounterpart lists the ops of the spec language that no ONNX model
// can give, which TestImportedOps therefore does not look for. None today:
// every op has an ONNX operator or a pattern that torch.onnx.export
// writes (lrn: LRN; dropout: Dropout; relu6: Clip(0, 6); silu: x ·
// Sigmoid(x); channel_shuffle: Reshape, Transpose, Reshape). An op added
// to the language without an ONNX form goes here, with the reason.
var noONNXCounterpart = map[ir.Op]string{}

// TestImportedOps is the importer's half of the op-coverage test
// (compiler/opcover_test.go has the other): every op of the spec language
// must appear in the spec imported from at least one committed model, so
// that each one's ONNX translation is run against PyTorch by TestModels.
func TestImportedOps(t *testing.T) {
	seen := map[ir.Op][]string{}
	for name := range readManifest(t) {
		data, err := os.ReadFile(filepath.Join(modelsDir, name+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Import(data, Options{Source: name + ".onnx"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s, err := spec.Parse(name+".yaml", res.Spec)
		if err != nil {
			t.Fatal(err)
		}
		g, err := compiler.CompileSpec(s, passes.Options{Stop: "inferShapes"})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range g.Nodes[1:] {
			seen[n.Op] = append(seen[n.Op], name)
		}
	}
	for _, op := range ir.AllOps() {
		_, exempt := noONNXCounterpart[op]
		switch {
		case len(seen[op]) == 0 && !exempt:
			t.Errorf("no committed model imports to a spec with %s: add a case to testdata/export.py", op)
		case len(seen[op]) > 0 && exempt:
			t.Errorf("%s is listed as having no ONNX counterpart, but %v import to it", op, seen[op])
		}
	}
}

// TestFusions checks that the written-out functions of the committed
// models become one layer each, and their pieces leave the spec.
func TestFusions(t *testing.T) {
	for name, c := range map[string]struct{ has, lacks []string }{
		"clip":         {[]string{"op: relu6", "op: clip, min: -1, max: 2", "op: clip, min: -0.5}"}, nil},
		"clip_opset9":  {[]string{"op: relu6", "op: clip, min: -1, max: 2"}, nil},
		"hardsigmoid":  {[]string{"op: hardsigmoid}"}, nil},
		"hardswish_13": {[]string{"op: hardswish"}, []string{"hardsigmoid", "op: mul"}},
		"hardswish_14": {[]string{"op: hardswish"}, nil},
		"silu":         {[]string{"op: silu"}, []string{"sigmoid", "op: mul"}},
		"gelu":         {[]string{"op: gelu}", "/{Div, Erf, Add, Mul, Mul_1}"}, nil},
		"gelu_tanh":    {[]string{"op: gelu, approximate: tanh}"}, []string{"op: tanh"}},
		"prelu":        {[]string{"op: prelu}", "op: prelu, shared: true}"}, nil},
		"convnext_13":  {[]string{"op: layernorm, eps: 1e-06}", "op: gelu}", "op: conv, filters: 32, kernel: 1}"}, []string{"op: mul", "op: sub", "op: div"}},
		"convnext_17":  {[]string{"op: layernorm, eps: 1e-06}", "op: gelu}"}, []string{"op: mul"}},
		"const_fold":   {nil, []string{"op: mul", "op: add", "op: sub", "op: div"}},
		"shuffle":      {[]string{"op: channel_shuffle, groups: 2}", "op: channel_shuffle, groups: 4}", "op: slice, start: 0, end: 4}"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			res := importFile(t, filepath.Join(modelsDir, name+".onnx"))
			for _, want := range c.has {
				if !strings.Contains(string(res.Spec), want) {
					t.Errorf("spec lacks %q:\n%s", want, res.Spec)
				}
			}
			for _, bad := range c.lacks {
				if strings.Contains(string(res.Spec), bad) {
					t.Errorf("spec has %q:\n%s", bad, res.Spec)
				}
			}
		})
	}
}

var samePad = regexp.MustCompile(`pad=same\(([^)]*)\)`)

// structure describes a graph for comparison: each layer's op and
// attributes and which layers it reads (by position), leaving out flatten
// and dropout layers, which exporters add and remove freely.
func structure(g *ir.Graph) []string {
	skip := func(n *ir.Node) bool { return n.Op == ir.OpFlatten || n.Op == ir.OpDropout }
	index := map[*ir.Node]int{}
	var out []string
	for _, n := range g.Nodes[1:] {
		if skip(n) {
			continue
		}
		var ins []string
		for _, in := range n.Inputs {
			for skip(in) {
				in = in.Inputs[0]
			}
			if in.Op == ir.OpInput {
				ins = append(ins, "input")
			} else {
				ins = append(ins, "#"+strconv.Itoa(index[in]))
			}
		}
		index[n] = len(out)
		out = append(out, n.Op.String()+"("+strings.Join(ins, ",")+") "+samePad.ReplaceAllString(n.Attrs(), "pad=$1")+" "+n.Shape.String())
	}
	return out
}

// sameNetwork checks that an import of a network exported from a spec has
// the spec's layers and cnnc's deterministic weights (seed 1) bit for bit.
func sameNetwork(t *testing.T, res *Result, specPath string) {
	t.Helper()
	orig, err := compiler.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse("imported.yaml", res.Spec)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := compiler.CompileSpec(s, passes.Options{Stop: "inferShapes"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := structure(orig), structure(imp)
	if !slices.Equal(a, b) {
		t.Errorf("the imported network differs from %s:\n%s\nimported:\n%s", specPath, strings.Join(a, "\n"), strings.Join(b, "\n"))
		return
	}
	init := params.Init(orig, 1)
	if len(init) != len(res.Weights) {
		t.Fatalf("%d tensors imported, %s has %d", len(res.Weights), specPath, len(init))
	}
	for i, w := range init {
		got := res.Weights[i]
		if !slices.Equal(got.Shape, w.Shape) {
			t.Errorf("tensor %d: %s %v, %s has %s %v", i, got.Name, got.Shape, specPath, w.Name, w.Shape)
			continue
		}
		for k := range w.Data {
			if math.Float32bits(got.Data[k]) != math.Float32bits(w.Data[k]) {
				t.Errorf("tensor %s (%s): element %d is %v, want %v", got.Name, w.Name, k, got.Data[k], w.Data[k])
				break
			}
		}
	}
}

// TestSpecText checks the emitted YAML's form on one model: the header,
// one flow mapping per layer with its source node, and that it reads back.
func TestSpecText(t *testing.T) {
	res := importFile(t, filepath.Join(modelsDir, "resnet_small.onnx"))
	text := string(res.Spec)
	for _, want := range []string{
		"# Imported by cnnc import from resnet_small.onnx: ONNX IR version 7, opset 14, written by pytorch 1.13.0.\n",
		"name: resnet_small\n",
		"input: [3, 32, 32]\n",
		"  - {name: Conv, op: conv, filters: 16, kernel: 3, padding: 1, bias: false}",
		"  # /Conv\n",
		"{name: Add, op: add, inputs: [Relu, BatchNormalization_2]}",
		"{name: Conv_5, op: conv, input: Relu_2, filters: 32, kernel: 1, stride: 2, bias: false}",
		"{name: Softmax, op: softmax}",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("spec lacks %q:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "  - {") && !regexp.MustCompile(`^(name|description|input|layers):`).MatchString(line) {
			t.Errorf("unexpected line %q", line)
		}
	}
}
