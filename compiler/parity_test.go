package compiler_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/ref"
	"github.com/cnnc/cnnc/compiler/tensor"
	"github.com/cnnc/cnnc/internal/testenv"
)

// The golden files under golden/pytorch were computed by PyTorch (in
// float64, rounded to float32) by golden/pytorch/gen.py, from the weights
// and input below. This test needs no PyTorch: it runs cnnc's reference
// engine on the same weights and input and compares.
const (
	parityWeightSeed = 1
	parityInputSeed  = 2
	parityBatch      = 2
	parityRelTol     = 1e-4 // of the golden tensor's largest magnitude
	parityShortMACs  = 1e8  // per image; larger networks are skipped with -short
)

// The specs and golden files the test reads, set by TestPyTorchParity:
// CNNC_PARITY_SPECS (a glob) and CNNC_PARITY_GOLDEN (a directory written by
// gen.py -o DIR) point it at specs that are not checked in. (They are read
// in the test, not at package init, so that go test's cache sees them.)
var specGlob, goldenDir string

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// paritySets pairs the checked-in specs with their golden directories:
// spec/ holds the example networks, compiler/testdata/corners small specs
// that reach the language's corners (uneven "same" padding, ceil-mode max
// pooling that drops a window, LRN and batchnorm on vectors, softmax over
// channels of an image, three-way add and concat).
var paritySets = [][2]string{
	{"../spec/*.yaml", "../golden/pytorch"},
	{"testdata/corners/*.yaml", "../golden/pytorch/corners"},
}

func TestPyTorchParity(t *testing.T) {
	sets := paritySets
	if os.Getenv("CNNC_PARITY_SPECS") != "" {
		sets = [][2]string{{os.Getenv("CNNC_PARITY_SPECS"), envOr("CNNC_PARITY_GOLDEN", "../golden/pytorch")}}
	}
	for _, set := range sets {
		t.Run(filepath.Base(set[1]), func(t *testing.T) {
			specGlob, goldenDir = set[0], set[1]
			parity(t)
		})
	}
}

func parity(t *testing.T) {
	specs, err := filepath.Glob(specGlob)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) == 0 {
		t.Fatalf("no specs match %s", specGlob)
	}
	manifest := loadManifest(t)
	found := 0
	for _, path := range specs {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			plain, err := compiler.Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			golden := filepath.Join(goldenDir, plain.Name+".npy")
			if _, err := os.Stat(golden); err != nil {
				t.Skipf("no golden file %s (run golden/pytorch/gen.py)", golden)
			}
			found++
			var macs int64
			for _, n := range plain.Nodes {
				macs += ir.MACs(n)
			}
			if !testenv.Long() && macs > parityShortMACs {
				testenv.SkipUnlessLong(t, fmt.Sprintf("%d M multiply-adds per image", macs/1e6))
			}
			checkInputs(t, manifest[plain.Name], plain)
			opt, err := compiler.Compile(path, passes.Options{Verify: true})
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}

			want := loadGolden(t, golden, plain.Output)
			var logits []float32
			var logitsLayer string
			if plain.Output.Op == ir.OpSoftmax {
				logitsLayer = plain.Output.Inputs[0].Name
				logits = loadGolden(t, filepath.Join(goldenDir, plain.Name+".logits.npy"), plain.Output.Inputs[0])
			}

			for _, form := range []struct {
				name string
				g    *ir.Graph
			}{{"written", plain}, {"optimised", opt}} {
				t.Run(form.name, func(t *testing.T) {
					g := form.g
					set := params.Effective(g, params.Map(params.Init(g, parityWeightSeed)))
					x := params.Input(g, parityBatch, parityInputSeed)
					res, err := ref.Run(g, set, x, parityBatch)
					if err != nil {
						t.Fatalf("ref.Run: %v", err)
					}
					if n := findLayer(g, plain.Output.Name); n != g.Output {
						t.Errorf("output node is %q, which does not compute layer %q", g.Output.Name, plain.Output.Name)
					}
					if !slices.Equal(g.Output.Shape.Dims(), plain.Output.Shape.Dims()) {
						t.Fatalf("output shape %v, want %v", g.Output.Shape.Dims(), plain.Output.Shape.Dims())
					}
					compareGolden(t, "output "+g.Output.Name, g.Output.Shape, res.Output(g), want)
					if logits != nil {
						n := findLayer(g, logitsLayer)
						if n == nil {
							t.Fatalf("no node computes layer %q (the softmax's input) in the %s graph", logitsLayer, form.name)
						}
						compareGolden(t, "logits "+logitsLayer, n.Shape, res.Values[n], logits)
					}
				})
			}
		})
	}
	if found == 0 {
		t.Errorf("no spec has a golden file in %s", goldenDir)
	}
}

// manifestEntry is the part of golden/pytorch/manifest.json the test reads.
type manifestEntry struct {
	Seeds struct {
		Weights uint64 `json:"weights"`
		Input   uint64 `json:"input"`
	} `json:"seeds"`
	Batch         int    `json:"batch"`
	WeightsSHA256 string `json:"weights_sha256"`
	InputSHA256   string `json:"input_sha256"`
}

func loadManifest(t *testing.T) map[string]*manifestEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, "manifest.json"))
	if err != nil {
		t.Fatalf("golden manifest: %v", err)
	}
	m := map[string]*manifestEntry{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("golden manifest: %v", err)
	}
	return m
}

// checkInputs checks that the golden files were computed from the weights
// and input this test makes, so that a change to params.Init or
// params.Input is reported as stale golden files rather than as a
// disagreement with PyTorch.
func checkInputs(t *testing.T, e *manifestEntry, g *ir.Graph) {
	t.Helper()
	if e == nil {
		t.Fatalf("%s/manifest.json has no entry for %s", goldenDir, g.Name)
	}
	if e.Seeds.Weights != parityWeightSeed || e.Seeds.Input != parityInputSeed || e.Batch != parityBatch {
		t.Fatalf("golden files were made with weight seed %d, input seed %d, batch %d; the test uses %d, %d, %d",
			e.Seeds.Weights, e.Seeds.Input, e.Batch, parityWeightSeed, parityInputSeed, parityBatch)
	}
	ts := params.Init(g, parityWeightSeed)
	slices.SortFunc(ts, func(a, b *tensor.Tensor) int { return strings.Compare(a.Name, b.Name) })
	h := sha256.New()
	for _, x := range ts {
		h.Write(append([]byte(x.Name), 0))
		h.Write(floatBytes(x.Data))
	}
	const regen = "; params.Init or params.Input changed since the golden files were made: regenerate them with /usr/bin/python3 golden/pytorch/gen.py"
	if got := hex.EncodeToString(h.Sum(nil)); got != e.WeightsSHA256 {
		t.Fatalf("weights digest %s, manifest has %s%s", got, e.WeightsSHA256, regen)
	}
	sum := sha256.Sum256(floatBytes(params.Input(g, parityBatch, parityInputSeed)))
	if got := hex.EncodeToString(sum[:]); got != e.InputSHA256 {
		t.Fatalf("input digest %s, manifest has %s%s", got, e.InputSHA256, regen)
	}
}

func floatBytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// findLayer returns the node whose output is layer's output: the node of
// that name, or a node whose last fused layer it is.
func findLayer(g *ir.Graph, layer string) *ir.Node {
	if n := g.Lookup(layer); n != nil {
		return n
	}
	for _, n := range g.Nodes {
		if len(n.Fused) > 0 && n.Fused[len(n.Fused)-1] == layer {
			return n
		}
	}
	return nil
}

// loadGolden reads a golden file and checks its shape is [batch, n.Shape.Dims()...].
func loadGolden(t *testing.T, path string, n *ir.Node) []float32 {
	t.Helper()
	shape, data, err := tensor.LoadNpy(path)
	if err != nil {
		t.Fatalf("golden file: %v", err)
	}
	want := append([]int{parityBatch}, n.Shape.Dims()...)
	if !slices.Equal(shape, want) {
		t.Fatalf("%s has shape %v; layer %s's output is %v", path, shape, n.Name, want)
	}
	return data
}

// compareGolden checks max|got - want| <= parityRelTol * max|want|.
func compareGolden(t *testing.T, what string, s ir.Shape, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, golden has %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	worst, at := -1.0, 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > worst {
			worst, at = d, i
		}
	}
	rel := worst / scale
	if scale == 0 {
		rel = worst
	}
	if worst > parityRelTol*scale {
		t.Errorf("%s: max |got - want| = %.3g at %s: got %.8g, want %.8g; scale max|want| = %.4g, relative error %.3g > %g",
			what, worst, index(s, at), got[at], want[at], scale, rel, parityRelTol)
		return
	}
	t.Logf("%s: max |got - want| = %.3g (%.3g of scale %.4g)", what, worst, rel, scale)
}

// index formats flat index i of a [batch, s.Dims()...] tensor.
func index(s ir.Shape, i int) string {
	dims := append([]int{parityBatch}, s.Dims()...)
	idx := make([]string, len(dims))
	for k := len(dims) - 1; k >= 0; k-- {
		idx[k] = fmt.Sprint(i % dims[k])
		i /= dims[k]
	}
	return "[" + strings.Join(idx, ", ") + "]"
}
