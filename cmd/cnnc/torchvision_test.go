package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/cpu"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/onnx"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/ref"
	"github.com/cnnc/cnnc/compiler/spec"
	"github.com/cnnc/cnnc/compiler/tensor"
	"github.com/cnnc/cnnc/internal/testenv"
)

// torchvisionEnv selects TestTorchvision's matrix beyond the quick and
// long selections: "all" for every model at both opsets at its native
// size, or a comma-separated list of models and families.
const torchvisionEnv = "CNNC_TORCHVISION"

// refusedToday lists the torchvision classifiers that cnnc import refuses
// today, with what it lacks (bench/results/torchvision-onnx-survey.md has
// the exact ONNX subgraphs). TestTorchvision fails for a refused model that
// is not listed, and for a listed model that imports: take it off the
// list when its operators land. A key "model@opset" is that opset only.
var refusedToday = map[string]string{
	// None: MobileNetV2 and V3, EfficientNet and V2, RegNetY, ShuffleNetV2
	// and ConvNeXt import since cnnc import took Clip, HardSigmoid,
	// HardSwish, the SiLU, hardswish, GELU and layer norm patterns,
	// broadcasting Mul, channel splits and shuffles, and channels-last views.
}

// unexportable lists the classifiers torch 1.13 cannot export to ONNX, with
// why; like refusedToday, a listed model that exports fails the test.
var unexportable = map[string]string{}

// tooBig lists the classifiers the long suite leaves out: those over 80M
// parameters, but for the first of each family (vgg11_bn), whose exports
// take a minute or more on two cores and add no operator their family's
// smaller models lack. The full matrix (CNNC_TORCHVISION=all) runs them.
var tooBig = map[string]string{
	"vgg11":             "133M parameters",
	"vgg13":             "133M parameters",
	"vgg13_bn":          "133M parameters",
	"vgg16":             "138M parameters",
	"vgg16_bn":          "138M parameters",
	"vgg19":             "144M parameters",
	"vgg19_bn":          "144M parameters",
	"resnext101_32x8d":  "89M parameters",
	"resnext101_64x4d":  "84M parameters",
	"wide_resnet101_2":  "127M parameters",
	"efficientnet_v2_l": "118M parameters",
	"regnet_x_32gf":     "108M parameters",
	"regnet_y_16gf":     "84M parameters",
	"regnet_y_32gf":     "145M parameters",
	"regnet_y_128gf":    "645M parameters",
	"convnext_base":     "89M parameters",
	"convnext_large":    "198M parameters",
}

// quickFamilies are the families whose cheapest model the quick suite
// runs, at opset 13, through the reference engine (and compiled: see
// quickCompiled): every family whose operators cnnc is gaining
// (refusedToday), and ResNet and SqueezeNet, which import today. The other
// families' exports cost 5 to 15 s each on two cores (DenseNet, GoogLeNet,
// Inception, EfficientNetV2) or need 224x224 (AlexNet, VGG; TestAlexNet in
// compiler/onnx covers AlexNet), and their operators are all in ResNet
// and SqueezeNet's (MNASNet, RegNetX) or EfficientNet's: the long suite
// runs them.
var quickFamilies = []string{"resnet", "squeezenet", "mobilenet_v2", "mobilenet_v3", "efficientnet", "regnet_y", "shufflenet_v2", "convnext"}

// quickCompiled is the one family whose compiled package the quick suite
// builds and runs on every implementation: building a generated package
// takes 5 to 15 s on two cores. The long suite compiles every model.
const quickCompiled = "resnet"

// tvModel is one classifier as torchvision_models.py list describes it.
type tvModel struct {
	Name, Family string
	Min, Native  int // input sizes: the smallest tested, the trained one
}

// tvCase is one cell of the matrix.
type tvCase struct {
	tvModel
	opset, size int
	refOnly     bool // the reference engine only, not the compiled package
}

func (c tvCase) String() string { return fmt.Sprintf("%s@%d", c.Name, c.opset) }

// TestTorchvision exports torchvision's CNN classifiers (random weights,
// seeded, with non-trivial batchnorm statistics:
// compiler/onnx/testdata/torchvision_models.py) at test time, imports each
// with cnnc import, and compares the reference engine's output and the
// compiled package's, on every implementation this CPU has (avx512, avx2,
// purego), with PyTorch's float64 output: max |diff| ≤ 1e-4·max |ref|.
// A model cnnc refuses must be in refusedToday, and a model there must be
// refused.
//
// What runs:
//
//	go test ./cmd/cnnc -run Torchvision                       # quick: quickFamilies' cheapest models, opset 13; compiled: quickCompiled
//	CNNC_LONG=1 go test ./cmd/cnnc -run Torchvision           # long: every model at opset 13, each family's first at 17
//	CNNC_TORCHVISION=all go test -timeout 0 ./cmd/cnnc -run Torchvision   # everything: both opsets, native sizes
//	CNNC_TORCHVISION=mobilenet_v2,convnext go test ./cmd/cnnc -run Torchvision  # these models or families, both opsets
//
// The quick and long selections use each model's smallest tested input
// (64x64 for most; see min_size in torchvision_models.py).
func TestTorchvision(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes the reference engine ten times slower and finds nothing in a sequential matrix")
	}
	testenv.NeedPython(t, "torch", "torchvision", "onnx", "numpy")
	const script = "../../compiler/onnx/testdata/torchvision_models.py"
	out, err := exec.Command(testenv.Python, script, "list").Output()
	if err != nil {
		t.Fatalf("torchvision_models.py list: %v", err)
	}
	var models []tvModel
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var m tvModel
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	cases := torchvisionCases(t, models, os.Getenv(torchvisionEnv), testenv.Long())
	for _, list := range []map[string]string{refusedToday, unexportable, tooBig} {
		for k := range list {
			name, _, _ := strings.Cut(k, "@")
			if !slices.ContainsFunc(models, func(m tvModel) bool { return m.Name == name }) {
				t.Errorf("%s is listed but torchvision has no such classifier", k)
			}
		}
	}

	srv := startExporter(t, script)
	dir := t.TempDir()
	// The exporter works on the next case while this one runs.
	srv.request(dir, cases[0])
	for i, c := range cases {
		res := srv.result(t)
		if i+1 < len(cases) {
			srv.request(dir, cases[i+1])
		}
		t.Run(c.String(), func(t *testing.T) { testTorchvisionCase(t, c, res) })
		for _, ext := range []string{".onnx", ".input.npy", ".output.npy"} {
			os.Remove(res.Stem + ext)
		}
	}
}

// torchvisionCases is the matrix that sel (CNNC_TORCHVISION) and long select.
func torchvisionCases(t *testing.T, models []tvModel, sel string, long bool) []tvCase {
	var cases []tvCase
	first := map[string]bool{} // families whose first model is taken
	switch {
	case sel == "all":
		for _, m := range models {
			for _, opset := range []int{13, 17} {
				cases = append(cases, tvCase{m, opset, m.Native, false})
			}
		}
	case sel != "":
		for _, name := range strings.Split(sel, ",") {
			n := len(cases)
			for _, m := range models {
				if m.Name == name || m.Family == name {
					cases = append(cases, tvCase{m, 13, m.Min, false}, tvCase{m, 17, m.Min, false})
				}
			}
			if len(cases) == n {
				t.Fatalf("%s=%s: no model or family %q", torchvisionEnv, sel, name)
			}
		}
	case long:
		for _, m := range models {
			if why := tooBig[m.Name]; why != "" {
				t.Logf("%s: left out: %s", m.Name, why)
				continue
			}
			cases = append(cases, tvCase{m, 13, m.Min, false})
		}
		for _, m := range models {
			if !first[m.Family] && tooBig[m.Name] == "" {
				first[m.Family] = true
				cases = append(cases, tvCase{m, 17, m.Min, false})
			}
		}
	default:
		for _, m := range models {
			if first[m.Family] || !slices.Contains(quickFamilies, m.Family) {
				continue
			}
			first[m.Family] = true
			cases = append(cases, tvCase{m, 13, m.Min, m.Family != quickCompiled})
		}
	}
	return cases
}

// tvExport is the line torchvision_models.py prints for an export.
type tvExport struct {
	Name, Stem, Error string
	Opset, Size       int
	Scale             float64
	F32Diff           float64 `json:"f32_diff"`
	Seconds           float64
}

// exporter is torchvision_models.py serve, running for the whole test.
type exporter struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

func startExporter(t *testing.T, script string) *exporter {
	cmd := exec.Command(testenv.Python, script, "serve")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	return &exporter{in: in, out: bufio.NewScanner(out)}
}

func (e *exporter) request(dir string, c tvCase) {
	b, _ := json.Marshal(map[string]any{"dir": dir, "name": c.Name, "opset": c.opset, "size": c.size})
	e.in.Write(append(b, '\n'))
}

func (e *exporter) result(t *testing.T) tvExport {
	if !e.out.Scan() {
		t.Fatalf("torchvision_models.py serve stopped: %v", e.out.Err())
	}
	var r tvExport
	if err := json.Unmarshal(e.out.Bytes(), &r); err != nil {
		t.Fatalf("torchvision_models.py serve: %v: %s", err, e.out.Bytes())
	}
	return r
}

// listed returns the entry of list for c: "name@opset" or "name".
func listed(list map[string]string, c tvCase) (string, bool) {
	if why, ok := list[c.String()]; ok {
		return why, true
	}
	why, ok := list[c.Name]
	return why, ok
}

func testTorchvisionCase(t *testing.T, c tvCase, ex tvExport) {
	why, noExport := listed(unexportable, c)
	switch {
	case ex.Error != "" && noExport:
		t.Skipf("torch cannot export it (%s): %s", why, ex.Error)
	case ex.Error != "":
		t.Fatalf("torch cannot export it: %s; if it never will, add it to unexportable", ex.Error)
	case noExport:
		t.Fatalf("torch exports it now: remove it from unexportable")
	}
	t.Logf("export at %dx%d: %.1fs; max |y| %.4g, float32 PyTorch differs from float64 by %.2g of it",
		c.size, c.size, ex.Seconds, ex.Scale, ex.F32Diff/ex.Scale)
	if !(ex.F32Diff <= 1e-5*ex.Scale) {
		// Then float32 rounding alone could exceed the tolerance below.
		t.Fatalf("float32 PyTorch differs from float64 by %g, more than 1e-5 of max |y| %g: the random weights make the network ill-conditioned (build in torchvision_models.py)", ex.F32Diff, ex.Scale)
	}
	data, err := os.ReadFile(ex.Stem + ".onnx")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := onnx.Import(data, onnx.Options{Source: filepath.Base(ex.Stem) + ".onnx", Name: "model"})
	why, refused := listed(refusedToday, c)
	switch {
	case err != nil && refused:
		msg, _, _ := strings.Cut(err.Error(), "\n")
		t.Skipf("refused as refusedToday expects (%s): %s", why, msg)
	case err != nil:
		t.Fatalf("import: %v", err)
	case refused:
		t.Fatalf("cnnc import takes it now: remove it from refusedToday (%s)", why)
	}
	t.Logf("import: %d layers, %v", res.Layers, time.Since(start).Round(time.Millisecond))
	_, x, err := tensor.LoadNpy(ex.Stem + ".input.npy")
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := tensor.LoadNpy(ex.Stem + ".output.npy")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse("model.yaml", res.Spec)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, res.Spec)
	}
	f := &tensor.File{Tensors: res.Tensors()}
	for _, w := range res.Weights {
		f.Order = append(f.Order, w.Name)
	}

	// The reference engine, on the network as written.
	start = time.Now()
	g, err := compiler.CompileSpec(s, passes.Options{Stop: "inferShapes"})
	if err != nil {
		t.Fatal(err)
	}
	p, warns, err := params.Bind(g, f)
	if err != nil || len(warns) > 0 {
		t.Fatalf("bind: %v %v", err, warns)
	}
	r, err := ref.Run(g, p, x, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkTorchvision(t, "reference engine", r.Output(g), want, time.Since(start))
	if c.refOnly {
		t.Logf("the compiled package: long suite only (quickCompiled)")
		return
	}

	// The compiled package, on every implementation.
	start = time.Now()
	g, err = compiler.CompileSpec(s, passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := generateDriver(g, codegen.Options{Batch: 1, Precision: "fp32"}, torchvisionDriver)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := b.build(dir, dir); err != nil {
		t.Fatal(err)
	}
	w := filepath.Join(dir, "weights.safetensors")
	wf, err := os.Create(w)
	if err != nil {
		t.Fatal(err)
	}
	if err := tensor.WriteSafetensors(wf, res.Weights, nil); err != nil {
		t.Fatal(err)
	}
	if err := wf.Close(); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "x.raw")
	raw, _ := binary.Append(nil, binary.LittleEndian, x)
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("compiled package built: %v", time.Since(start).Round(time.Millisecond))
	cmd := exec.Command(filepath.Join(dir, "driver"), w, in, dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("driver: %v\n%s", err, out)
	}
	var ran []string
	for _, line := range strings.Fields(string(out)) {
		impl, ms, _ := strings.Cut(line, ":")
		ran = append(ran, impl)
		raw, err := os.ReadFile(filepath.Join(dir, impl+".raw"))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(raw)/4)
		for i := range got {
			got[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		d, _ := time.ParseDuration(ms)
		checkTorchvision(t, "compiled, "+impl, got, want, d)
	}
	if missing := slices.DeleteFunc(torchvisionImpls(), func(s string) bool { return slices.Contains(ran, s) }); len(missing) > 0 {
		t.Errorf("the compiled package ran %v; this CPU also has %v", ran, missing)
	}
}

// torchvisionImpls lists the implementations this CPU runs, as the
// generated dispatch code decides (codegen/e2e_test.go's impls).
func torchvisionImpls() []string {
	impls := []string{"purego"}
	if runtime.GOARCH == "amd64" {
		if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
			impls = append(impls, "avx2")
		}
		if cpu.X86.HasAVX512F {
			impls = append(impls, "avx512")
		}
	}
	if runtime.GOARCH == "arm64" {
		impls = append(impls, "neon")
	}
	return impls
}

// checkTorchvision compares got with PyTorch's output: max |diff| must be
// at most 1e-4 of max |want|.
func checkTorchvision(t *testing.T, what string, got, want []float32, took time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d outputs, PyTorch %d", what, len(got), len(want))
		return
	}
	scale, d := 0.0, 0.0
	for i := range want {
		scale = max(scale, math.Abs(float64(want[i])))
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
	}
	t.Logf("%s: differs from PyTorch by %.2g of max |y| (%v)", what, d/scale, took.Round(time.Millisecond))
	if !(d <= 1e-4*scale) {
		t.Errorf("%s: output differs from PyTorch's by %g, more than 1e-4 of its scale %g", what, d, scale)
	}
}

// torchvisionDriver runs the compiled package on one input with each
// implementation this machine has: os.Args[1] is the weights, [2] the
// input (raw little-endian float32), and it writes each implementation's
// output to os.Args[3]/IMPL.raw, printing IMPL:DURATION for each.
const torchvisionDriver = `// Code generated by cnnc's TestTorchvision; DO NOT EDIT.

package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"cnncrun/model"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	raw, err := os.ReadFile(os.Args[2])
	if err != nil {
		return err
	}
	var in [model.InputLen]float32
	if _, err := binary.Decode(raw, binary.LittleEndian, in[:]); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	for _, impl := range model.Implementations() {
		f, err := os.Open(os.Args[1])
		if err != nil {
			return err
		}
		m, err := model.NewWithOptions(f, model.Options{Impl: impl})
		f.Close()
		if err != nil {
			return err
		}
		var out [model.OutputLen]float32
		start := time.Now()
		m.Infer(&out, &in)
		took := time.Since(start)
		m.Close()
		b, err := binary.Append(nil, binary.LittleEndian, out[:])
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(os.Args[3], impl+".raw"), b, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s:%s\n", impl, took)
	}
	return nil
}
`
