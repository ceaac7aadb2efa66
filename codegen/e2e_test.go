package codegen_test

// The end-to-end test: the correctness bar for generated code. Every spec
// cnnc ships, the corner specs of compiler/testdata and a seeded zoo of
// small random networks are compiled, generated as Go packages into one
// temporary module, and built and tested there with the go tool. Each
// package's own TestGolden then compares every implementation the machine
// has (AVX-512, AVX2, pure Go) with the output of cnnc's reference engine
// on the network as written, before any pass.

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/cpu"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/ref"
	"github.com/cnnc/cnnc/compiler/spec"
	"github.com/cnnc/cnnc/compiler/tensor"
	"github.com/cnnc/cnnc/internal/testenv"
)

var e2eDir = flag.String("e2e.dir", "", "write the end-to-end test's module to `dir` and keep it (default: a temporary directory)")

const (
	e2eWeightSeed = 1
	e2eInputSeed  = 2
	e2eShortMACs  = 1e8 // per image; larger networks run only in the exhaustive suite

	zooSeed = 283
	// The zoo has at least zooMinSpecs specs, and as many more as it takes
	// to cover zooFeatures, up to zooMaxSpecs (TestZoo fails beyond).
	zooMinSpecs = 30
	zooMaxSpecs = 150
)

// e2eBatches are the batch sizes the shipped and corner specs are compiled
// for: dense layers tile the batch, so 1, 3 (a partial tile of every
// implementation) and 8 (a whole AVX-512 tile) take different code.
var e2eBatches = []int{1, 3, 8}

// An e2eCase is one generated package: a spec compiled for one batch size.
type e2eCase struct {
	pkg    string // package name and directory
	path   string // the spec
	batch  int
	embed  bool     // embed the weights (Options.Embed) and test NewEmbedded
	bf16   bool     // Options.Precision "bf16", with dense weights that bfloat16 holds exactly
	wino   bool     // the package must use Winograd (rt_wino.go)
	forms  []string // and exactly these of winoForms for its layers (nil: not checked)
	text   string   // a generated file must contain this, if set
	direct bool     // Options.Direct: the package must not
	big    bool     // over e2eShortMACs: exhaustive suite only, not rerun with -tags purego
	goarch string   // built and tested for this GOARCH (TestEndToEndARM64); "": the machine's
}

// TestEndToEnd generates every case into one module and runs there
// go test ./..., go vet -tags purego ./... and go test -tags purego on all
// but the big networks (exhaustive suite only), go vet ./... and, in the
// exhaustive suite, GOARCH=arm64 go vet ./....
//
// The quick suite (without CNNC_LONG=1, see internal/testenv) keeps every
// code path and drops repetitions: the small shipped and corner specs at one
// batch size each (1, 3 and 8 in turn), the fewest zoo specs that still
// cover zooFeatures, the Winograd specs at the batch sizes that between them
// reach every form, and one batch size of the others. The exhaustive suite
// runs every spec at every batch size, both AlexNets, the first zooMinSpecs
// zoo specs as well as the cover, and the tests again with -tags purego.
func TestEndToEnd(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is not on PATH (%v): generated packages cannot be built", err)
	}
	start := time.Now()
	dir := *e2eDir
	if dir == "" {
		dir = t.TempDir()
	} else {
		// Start afresh, so that no package of an earlier run is tested, but
		// only in a directory that holds nothing or an earlier run.
		if mod, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(mod, []byte("module e2e\n")) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		} else if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Fatalf("-e2e.dir %s is not empty and holds no earlier run", dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeModule(t, dir)

	long := testenv.Long()
	// pick returns all of batches in the exhaustive suite, and one of
	// them, in turn by i, in the quick one.
	pick := func(batches []int, i int) []int {
		if long {
			return batches
		}
		return batches[i%len(batches) : i%len(batches)+1]
	}
	var cases []e2eCase
	nspec := 0
	for _, glob := range []string{"../spec/*.yaml", "../compiler/testdata/corners/*.yaml"} {
		paths, err := filepath.Glob(glob)
		if err != nil || len(paths) == 0 {
			t.Fatalf("no specs match %s (%v)", glob, err)
		}
		for _, path := range paths {
			name := strings.TrimSuffix(filepath.Base(path), ".yaml")
			batches := pick(e2eBatches, nspec)
			nspec++
			n := macs(t, path)
			big := n > e2eShortMACs
			if big {
				if !long {
					t.Logf("%s: exhaustive suite only (%d M multiply-adds per image)", name, n/1e6)
					continue
				}
				batches = batches[:1] // the AlexNets once: their reference runs dominate
			}
			for _, b := range batches {
				cases = append(cases, e2eCase{pkg: fmt.Sprintf("%s_b%d", name, b), path: path, batch: b, big: big})
			}
		}
	}
	zs := zoo()
	for i, z := range zs {
		// The quick suite runs the cover; the exhaustive one the first
		// zooMinSpecs too. The rest of the zoo is there for its cover.
		if !slices.Contains(zooCover(t, zs), i) && (!long || i >= zooMinSpecs) {
			continue
		}
		b := zooBatch(i)
		path := writeSpec(t, dir, z.name, z.spec())
		cases = append(cases, e2eCase{pkg: fmt.Sprintf("%s_b%d", z.name, b), path: path, batch: b})
		if bf16Exact(t, path) {
			cases = append(cases, e2eCase{pkg: fmt.Sprintf("%s_bf16_b%d", z.name, b), path: path, batch: b, bf16: true})
		}
	}
	for _, b := range pick(e2eBatches, 1) {
		cases = append(cases, e2eCase{pkg: fmt.Sprintf("lenet5_bf16_b%d", b), path: "../spec/lenet5.yaml", batch: b, bf16: true})
	}
	// Winograd is the default: the specs with 3x3 convolutions of 16+
	// channels (fire_small has none) must use it, and compiled with
	// Options.Direct they must not.
	winoSpecs := []string{"vgg_small", "resnet_small", "alexnet", "alexnet_torchvision"}
	for _, name := range winoSpecs {
		path := "../spec/" + name + ".yaml"
		big := macs(t, path) > e2eShortMACs
		if !long && name != "vgg_small" {
			continue // the quick suite checks Options.Direct on one spec
		}
		cases = append(cases, e2eCase{pkg: name + "_direct_b2", path: path, batch: 2, direct: true, big: big})
	}
	// Of those, the AlexNets have 5x5 convolutions with enough channels,
	// on 27x27 maps, and 13x13 maps on which F(4x4, 3x3) wastes less than
	// F(2x2, 3x3).
	alexnets := []string{"alexnet", "alexnet_torchvision"}
	for i := range cases {
		name := strings.TrimSuffix(filepath.Base(cases[i].path), ".yaml")
		if slices.Contains(winoSpecs, name) {
			cases[i].wino = !cases[i].direct
			if cases[i].wino && slices.Contains(alexnets, name) {
				cases[i].forms = []string{f43, f45}
			}
		}
	}
	wino := writeSpec(t, dir, "wino_edges", winoEdgesSpec)
	s2d := writeSpec(t, dir, "wino_s2d", winoS2DSpec)
	// At batch 4 wino_groups' conv computes 2 images at a time: its V for
	// the whole batch (14.7 MB) would not stay in cache.
	cases = append(cases, e2eCase{pkg: "wino_groups_b4", path: writeSpec(t, dir, "wino_groups", winoBatchSpec("wino_groups", 16)), batch: 4, wino: true,
		forms: []string{f43}, text: "N=800 tiles (2 of the\n// batch's 4 images)"})
	for _, b := range []int{1, 3} {
		cases = append(cases, e2eCase{pkg: fmt.Sprintf("packed_b%d", b), path: writeSpec(t, dir, "packed", packedSpec), batch: b, direct: true,
			text: "is a block of 8 columns of tiles"})
	}
	cases = append(cases, e2eCase{pkg: "wino_prefix_b4", path: writeSpec(t, dir, "wino_prefix", winoBatchSpec("wino_prefix", 64)), batch: 4, wino: true,
		forms: []string{f43}, text: "Infer runs the first 2 layers (to g) image by image"})
	for _, b := range e2eBatches {
		// wino_edges' small maps take F(2x2) at batch 1 and some larger
		// tiles at batches 3 and 8; wino_s2d's 10x10/2 layer d takes F(2x2,
		// 5x5) at batch 1 and F(4x4, 5x5) beyond. Between them they cover
		// every form.
		edges := map[int][]string{1: {f23, f25}, 3: {f23, f43, f25, f35}, 8: {f23, f43, f35, f45}}[b]
		s2dForms := []string{f23, f43, f45}
		if b == 1 {
			s2dForms = []string{f23, f43, f25}
		}
		// The quick suite: wino_edges at batch 3 and wino_s2d at batch 8
		// reach every form between them.
		if long || b == 3 {
			cases = append(cases, e2eCase{pkg: fmt.Sprintf("wino_edges_b%d", b), path: wino, batch: b, wino: true, forms: edges})
		}
		if long || b == 8 {
			cases = append(cases, e2eCase{pkg: fmt.Sprintf("wino_s2d_b%d", b), path: s2d, batch: b, wino: true, forms: s2dForms})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(edgeSpecs)) {
		path := writeSpec(t, dir, name, "name: "+name+"\n"+edgeSpecs[name])
		for _, b := range pick(e2eBatches[:2], len(cases)) {
			cases = append(cases, e2eCase{pkg: fmt.Sprintf("%s_b%d", name, b), path: path, batch: b})
		}
	}
	idents := writeSpec(t, dir, "idents", identsSpec)
	for _, b := range pick([]int{1, 3}, 1) {
		cases = append(cases, e2eCase{pkg: fmt.Sprintf("idents_b%d", b), path: idents, batch: b})
	}
	cases = append(cases, e2eCase{pkg: "embedded", path: "../spec/lenet5.yaml", batch: 2, embed: true})

	// Generation and the reference runs, in parallel.
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

	// The tests, with -json so that a package whose TestGolden did not run
	// every implementation (skipped for want of its testdata, say) fails too.
	goTest(t, goTool, dir, nil, cases, false, "test", "-json", "./...")
	// With -tags purego only the dispatch differs from the purego
	// implementation just tested: the big networks are built, not rerun.
	if !long {
		goRun(t, goTool, dir, nil, "vet", "-tags", "purego", "./...")
	} else {
		goRun(t, goTool, dir, nil, "vet", "-tags", "purego", "./...")
		var small []e2eCase
		args := []string{"test", "-json", "-tags", "purego"}
		for _, c := range cases {
			if !c.big {
				small = append(small, c)
				args = append(args, "./"+c.pkg)
			}
		}
		goTest(t, goTool, dir, nil, small, true, args...)
	}
	goRun(t, goTool, dir, nil, "vet", "./...")
	// Other GOARCHes build what -tags purego builds, less the dispatch, and
	// arm64 its NEON files besides: TestEndToEndARM64 vets and tests a few
	// packages for arm64, .ci/run vets generated/ and the examples, and the
	// exhaustive suite vets every package here.
	if long {
		goRun(t, goTool, dir, []string{"GOARCH=arm64"}, "vet", "./...")
	}
	if t.Failed() && *e2eDir == "" {
		t.Logf("rerun with -e2e.dir DIR to keep the module")
	}
}

// goRun runs the go tool in dir and fails t with its output if it fails.
func goRun(t *testing.T, goTool, dir string, env []string, args ...string) []byte {
	t.Helper()
	t0 := time.Now()
	c := exec.Command(goTool, args...)
	c.Dir = dir
	c.Env = append(append(os.Environ(), goEnv...), env...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	shown := args
	if len(shown) > 8 {
		shown = append(slices.Clip(shown[:6]), fmt.Sprintf("(%d more)", len(args)-6))
	}
	what := strings.TrimSpace(strings.Join(env, " ") + " go " + strings.Join(shown, " "))
	if err := c.Run(); err != nil {
		if !slices.Contains(args, "-json") {
			stderr.Write(stdout.Bytes())
		}
		t.Errorf("%s in %s: %v\n%s", what, dir, err, stderr.Bytes())
	} else {
		t.Logf("%s: ok in %v", what, time.Since(t0).Round(time.Millisecond))
	}
	return stdout.Bytes()
}

// impls lists the implementations c's package must have tested on this
// machine (or, with c.goarch, under emulation), as the generated dispatch
// code chooses them.
func (c e2eCase) impls(purego bool) []string {
	impls := []string{"purego"}
	goarch := cmp.Or(c.goarch, runtime.GOARCH)
	if !purego && goarch == "arm64" {
		return append(impls, "neon")
	}
	if purego || goarch != "amd64" {
		return impls
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		impls = append(impls, "avx2")
	}
	if cpu.X86.HasAVX512F && (!c.bf16 || cpu.X86.HasAVX512BW) {
		impls = append(impls, "avx512")
	}
	return impls
}

// goTest runs go test -json in dir, with env added to the environment, and
// fails t with the output of every package that fails, and for every
// package whose TestGolden did not pass for each of its implementations.
func goTest(t *testing.T, goTool, dir string, env []string, cases []e2eCase, purego bool, args ...string) {
	t.Helper()
	out := goRun(t, goTool, dir, env, args...)
	type event struct{ Action, Package, ImportPath, Test, Output string }
	output := map[string]*strings.Builder{}
	passed := map[string]bool{} // package + " " + test
	var failed []string
	for _, line := range bytes.Split(out, []byte("\n")) {
		var e event
		if len(line) == 0 || json.Unmarshal(line, &e) != nil {
			continue
		}
		if e.Action == "build-output" {
			e.Package, _, _ = strings.Cut(e.ImportPath, " ")
			e.Action = "output"
		}
		pkg := strings.TrimPrefix(e.Package, "e2e/")
		if output[pkg] == nil {
			output[pkg] = new(strings.Builder)
		}
		switch e.Action {
		case "output":
			output[pkg].WriteString(e.Output)
		case "pass":
			passed[pkg+" "+e.Test] = true
		case "fail":
			if e.Test == "" {
				failed = append(failed, pkg)
			}
		}
	}
	for _, pkg := range failed {
		t.Errorf("package %s failed (spec in %s):\n%s", pkg, filepath.Join(dir, pkg, "testdata", "spec.yaml"), output[pkg])
	}
	for _, c := range cases {
		if slices.Contains(failed, c.pkg) {
			continue
		}
		var missing []string
		for _, impl := range c.impls(purego) {
			if !passed[c.pkg+" TestGolden/"+impl] {
				missing = append(missing, impl)
			}
		}
		if len(missing) > 0 {
			t.Errorf("package %s: TestGolden did not run %s:\n%s", c.pkg, strings.Join(missing, ", "), output[c.pkg])
		}
	}
}

// goEnv runs the go tool offline on the generated module, outside any
// workspace. With -trimpath the module's directory is not part of what
// the build cache keys on, so a rerun in a new temporary directory reuses
// the last run's builds.
var goEnv = []string{"GOFLAGS=-mod=mod -trimpath", "GOPROXY=off", "GOWORK=off", "GOSUMDB=off"}

func macs(t *testing.T, path string) int64 {
	g, err := compiler.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, x := range g.Nodes {
		n += ir.MACs(x)
	}
	return n
}

// writeModule writes the module all generated packages live in: go.mod and
// go.sum from codegen.ModuleFiles, which require what generated code
// imports, golang.org/x/sys, so that the go tool needs no network.
func writeModule(t *testing.T, dir string) {
	t.Helper()
	for _, f := range codegen.ModuleFiles("e2e") {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeSpec writes a generated spec into dir/specs and returns its path.
func writeSpec(t *testing.T, dir, name, src string) string {
	t.Helper()
	path := filepath.Join(dir, "specs", name+".yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeCase compiles c's spec and writes its package, the weights its tests
// load and the reference engine's output on the spec as written.
func writeCase(t *testing.T, dir string, c e2eCase) {
	src, err := os.ReadFile(c.path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := compiler.Compile(c.path, passes.Options{Verify: true})
	if err != nil {
		t.Fatalf("Compile:\n%v\nspec:\n%s", err, src)
	}
	ts := params.Init(g, e2eWeightSeed)
	opt := codegen.Options{Batch: c.batch, Package: c.pkg, Direct: c.direct}
	if c.bf16 {
		opt.Precision = "bf16"
		roundDenseBF16(g, ts)
	}
	weights := tensorBytes(t, ts)
	if c.embed {
		opt.Embed = "weights.safetensors"
		opt.WeightsSHA256 = fmt.Sprintf("%x", sha256.Sum256(weights))
	}
	files, err := codegen.Generate(g, opt)
	if err != nil {
		t.Fatalf("Generate: %v\nspec:\n%s", err, src)
	}
	usesWino := slices.ContainsFunc(files, func(f codegen.File) bool { return f.Name == "rt_wino.go" })
	if c.wino && !usesWino || c.direct && usesWino {
		t.Fatalf("%s: want Winograd %v, direct %v; the package has rt_wino.go: %v", c.pkg, c.wino, c.direct, usesWino)
	}
	if c.forms != nil {
		i := slices.IndexFunc(files, func(f codegen.File) bool { return f.Name == "layers.go" })
		var forms []string
		for _, form := range winoForms {
			if i >= 0 && bytes.Contains(files[i].Data, []byte(form)) {
				forms = append(forms, form)
			}
		}
		if !slices.Equal(forms, c.forms) {
			t.Fatalf("%s: layers.go uses Winograd %q, want %q", c.pkg, forms, c.forms)
		}
	}
	if c.text != "" && !slices.ContainsFunc(files, func(f codegen.File) bool {
		return bytes.Contains(f.Data, []byte(c.text))
	}) {
		t.Fatalf("%s: no file has %q", c.pkg, c.text)
	}
	pkgDir := filepath.Join(dir, c.pkg)
	if err := os.MkdirAll(filepath.Join(pkgDir, "testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	if c.embed {
		files = append(files,
			codegen.File{Name: opt.Embed, Data: weights},
			codegen.File{Name: "e2e_embedded_test.go", Data: []byte(strings.ReplaceAll(embeddedTest, "PACKAGE", c.pkg))})
	}
	files = append(files,
		// The spec beside the package, to reproduce a failure with cnnc compile.
		codegen.File{Name: "testdata/spec.yaml", Data: src},
		codegen.File{Name: "testdata/weights.safetensors", Data: weights})
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f.Name] {
			t.Fatalf("two files named %s", f.Name)
		}
		seen[f.Name] = true
		if err := os.WriteFile(filepath.Join(pkgDir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	plain, err := compiler.Load(c.path)
	if err != nil {
		t.Fatal(err)
	}
	x := params.Input(plain, c.batch, e2eInputSeed)
	plainTs := params.Init(plain, e2eWeightSeed)
	if c.bf16 {
		roundDenseBF16(g, plainTs)
	}
	set := params.Effective(plain, params.Map(plainTs))
	res, err := ref.Run(plain, set, x, c.batch)
	if err != nil {
		t.Fatalf("ref.Run: %v", err)
	}
	in := plain.Input().Shape
	golden := tensorBytes(t, []*tensor.Tensor{
		{Name: "input", Shape: []int{c.batch, in.C, in.H, in.W}, Data: x},
		{Name: "output", Shape: append([]int{c.batch}, plain.Output.Shape.Dims()...), Data: res.Output(plain)},
	})
	if err := os.WriteFile(filepath.Join(pkgDir, "testdata", "golden.safetensors"), golden, 0o644); err != nil {
		t.Fatal(err)
	}
}

// bf16Exact reports whether the spec at path has dense layers and no
// batchnorm folded into one: whether, with dense weights that are bfloat16
// values, its bf16 package must compute what the reference engine does.
// (A fold scales the weights after they are read, and the products are
// rounded to bfloat16 again.)
func bf16Exact(t *testing.T, path string) bool {
	g, err := compiler.Compile(path, passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dense := false
	for _, n := range g.Nodes {
		if n.Op == ir.OpDense {
			if n.FoldBN != nil {
				return false
			}
			dense = true
		}
	}
	return dense
}

// roundDenseBF16 rounds the weights of g's dense layers, in ts, to the
// nearest bfloat16 (ties to even), so that storing them as bfloat16 loses
// nothing.
func roundDenseBF16(g *ir.Graph, ts []*tensor.Tensor) {
	dense := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Op == ir.OpDense {
			dense[n.Name+".weight"] = true
		}
	}
	for _, x := range ts {
		if !dense[x.Name] {
			continue
		}
		for i, v := range x.Data {
			b := math.Float32bits(v)
			b += 0x7fff + (b>>16)&1
			x.Data[i] = math.Float32frombits(b &^ 0xffff)
		}
	}
}

func tensorBytes(t *testing.T, ts []*tensor.Tensor) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tensor.WriteSafetensors(&b, ts, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// embeddedTest is added to the package generated with embedded weights:
// NewEmbedded must give the golden output and WeightsSHA256 must be the
// embedded file's hash.
const embeddedTest = `package PACKAGE

import (
	"crypto/sha256"
	"fmt"
	"math"
	"os"
	"testing"
)

func TestEmbedded(t *testing.T) {
	if got := fmt.Sprintf("%x", sha256.Sum256(embedded)); got != WeightsSHA256 {
		t.Errorf("WeightsSHA256 is %s; the embedded weights hash to %s", WeightsSHA256, got)
	}
	data, err := os.ReadFile("testdata/golden.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := stReadSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewEmbedded(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var out [OutputLen]float32
	m.Infer(&out, (*[InputLen]float32)(golden.Tensors["input"].Data))
	want := golden.Tensors["output"].Data
	scale := 1e-30
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i, v := range want {
		if d := math.Abs(float64(out[i] - v)); !(d <= 1e-4*scale) {
			t.Fatalf("element %d is %g, want %g", i, out[i], v)
		}
	}
}
`

// edgeSpecs are networks at the edges of the memory plan and the passes:
// nothing to compute (every layer aliases the input, or is removed), layers
// that read the caller's input and may not overwrite it, a 1x1 image.
var edgeSpecs = map[string]string{
	"identity": `input: [3, 4, 5]
layers:
  - {name: f, op: flatten}
  - {name: d, op: dropout}`,
	"nothing": `input: [2, 3, 3]
layers:
  - {name: d, op: dropout}`,
	"on_input": `input: [5, 3, 4]
layers:
  - {name: r, op: relu}
  - {name: b, op: batchnorm, input: input}
  - {name: s, op: softmax, input: input}
  - {name: l, op: lrn, size: 3, input: input}
  - {name: a, op: add, inputs: [input, r, b, s, l, input]}
  - {name: c, op: concat, inputs: [a, input]}`,
	"pixel": `input: [7, 1, 1]
layers:
  - {name: c1, op: conv, filters: 9, kernel: 1}
  - {name: c2, op: conv, filters: 50, kernel: 3, padding: same, groups: 1}
  - {name: p, op: maxpool, kernel: 1}
  - {name: g, op: global_avgpool}
  - {name: d, op: dense, units: 1}`,
}

// The Winograd forms, as layers.go names them.
const f23, f43, f25, f35, f45 = "F(2x2, 3x3)", "F(4x4, 3x3)", "F(2x2, 5x5)", "F(3x3, 5x5)", "F(4x4, 5x5)"

var winoForms = []string{f23, f43, f25, f35, f45}

// winoEdgesSpec reaches the corners of the Winograd path, for 3x3 and 5x5
// filters: odd and even output sizes (ragged 2x2 tiles), asymmetric and no
// padding, groups, outputs of one row or column, activations fused into the
// output transform (ReLU, leaky, sigmoid), a folded batchnorm, and 3x3 and
// 5x5 convs just below the channel threshold that must stay direct.
const winoEdgesSpec = `name: wino_edges
input: [16, 9, 6]
layers:
  - {name: a, op: conv, filters: 32, kernel: 3, padding: 1}
  - {name: a_bn, op: batchnorm}
  - {name: a_r, op: leaky_relu, slope: 0.1}
  - {name: b, op: conv, filters: 32, kernel: 3, padding: same, groups: 2}
  - {name: b_s, op: sigmoid}
  - {name: c, op: conv, filters: 48, kernel: 3, padding: [0, 1]}
  - {name: c_r, op: relu}
  - {name: d, op: conv, filters: 16, kernel: 3, padding: 0, bias: false}
  - {name: e, op: conv, filters: 16, kernel: 3, padding: [2, 0]}
  - {name: f, op: conv, filters: 8, kernel: 3, padding: 1}
  - {name: p5, op: conv, filters: 32, kernel: 5, padding: 2, input: c_r, groups: 2}
  - {name: p5_bn, op: batchnorm}
  - {name: p5_r, op: leaky_relu, slope: 0.2}
  - {name: q5, op: conv, filters: 16, kernel: 5, padding: [2, 1]}
  - {name: r5, op: conv, filters: 24, kernel: 5, padding: [1, 3], bias: false}
  - {name: s5, op: conv, filters: 16, kernel: 5, padding: 2}
  - {name: s5_s, op: sigmoid}
  - {name: t5, op: conv, filters: 8, kernel: 5, padding: 2}
  - {name: g, op: global_avgpool, input: f}
  - {name: g5, op: global_avgpool, input: t5}
  - {name: cat, op: concat, inputs: [g, g5]}
  - {name: h, op: dense, units: 5}`

// winoS2DSpec has strided convolutions that Winograd computes over the
// input's space-to-depth (a: AlexNet's conv1 shape, 11x11 stride 4, as
// F(2x2, 3x3) over 64 channels on this small map; b: 5x5 stride 2 as 3x3,
// by F(4x4, 3x3); c: grouped 12x12 stride 4 with asymmetric padding; d:
// 10x10 stride 2 as F(2x2, 5x5), with a folded batchnorm; e: 9x9 stride 4,
// whose padded 12x12 filters leave F(2x2, 3x3) 79% of the direct products,
// too many, and F(4x4, 3x3) 44%).
const winoS2DSpec = `name: wino_s2d
input: [4, 35, 30]
layers:
  - {name: a, op: conv, filters: 16, kernel: 11, stride: 4, padding: 2}
  - {name: a_r, op: relu}
  - {name: b, op: conv, filters: 24, kernel: 5, stride: 2, padding: [1, 2], input: input}
  - {name: b_l, op: leaky_relu, slope: 0.1}
  - {name: c, op: conv, filters: 32, kernel: 12, stride: 4, padding: [0, 3], groups: 2, input: input}
  - {name: d, op: conv, filters: 16, kernel: 10, stride: 2, padding: 1, input: input}
  - {name: d_bn, op: batchnorm}
  - {name: e, op: conv, filters: 16, kernel: 9, stride: 4, input: input}
  - {name: ga, op: global_avgpool, input: a_r}
  - {name: gb, op: global_avgpool, input: b_l}
  - {name: gc, op: global_avgpool, input: c}
  - {name: gd, op: global_avgpool, input: d_bn}
  - {name: ge, op: global_avgpool, input: e}
  - {name: cat, op: concat, inputs: [ga, gb, gc, gd, ge]}
  - {name: h, op: dense, units: 5}`

// winoBatchSpec, named name, is a Winograd 3x3 conv of filters filters on
// a 64x80x80 input, then a global pooling and a dense layer. At batch 4
// the conv's V for the batch (14.7 MB) would not stay in cache. With 16
// filters (wino_groups) its input and output (8.2 MB) would, so it stays
// out of the image-major prefix and is computed two images at a time
// (steps with a first task). With 64 (wino_prefix) they (26 MB) would
// not, so it runs in the prefix, one image at a time like the pooling
// after it.
func winoBatchSpec(name string, filters int) string {
	return fmt.Sprintf(`name: %s
input: [64, 80, 80]
layers:
  - {name: a, op: conv, filters: %d, kernel: 3, padding: 1}
  - {name: a_r, op: relu}
  - {name: g, op: global_avgpool}
  - {name: d, op: dense, units: 3}`, name, filters)
}

// packedSpec's im2col+gemm convs pack several columns of tiles a task
// (tile.pack), each with a partial last block and a ragged last column:
// a stem of 3 channels 8 columns at once, a strided one, and one in K
// blocks whose epilogue adds a residual it copies tile by tile.
const packedSpec = `name: packed
input: [3, 94, 94]
layers:
  - {name: a, op: conv, filters: 16, kernel: 3, padding: 1}
  - {name: a_r, op: relu}
  - {name: c, op: conv, filters: 32, kernel: 3, stride: 2, padding: 1}
  - {name: b, op: conv, filters: 32, kernel: 5, padding: 2, groups: 2}
  - {name: d, op: conv, filters: 32, kernel: 3, padding: 1}
  - {name: s, op: add, inputs: [d, c]}
  - {name: s_r, op: relu}
  - {name: u, op: add, inputs: [s_r, c]}
  - {name: g, op: global_avgpool}
  - {name: f, op: dense, units: 5}`

// identsSpec names its layers with Go keywords, predeclared identifiers and
// the identifiers generated code uses itself (receiver, task parameters,
// locals, runtime types, the API), none of which may break the package.
const identsSpec = `name: idents
input: [3, 9, 8]
layers:
  - {name: func, op: conv, filters: 8, kernel: 3, padding: 1}
  - {name: type, op: batchnorm}
  - {name: len, op: relu}
  - {name: copy, op: conv, filters: 8, kernel: 1}
  - {name: m, op: lrn, size: 3}
  - {name: t, op: maxpool, kernel: 2}
  - {name: w, op: conv, filters: 6, kernel: 3, padding: 1, groups: 2}
  - {name: img, op: avgpool, kernel: 2, ceil: true}
  - {name: rtPool, op: conv, filters: 6, kernel: 1, input: img}
  - {name: Model, op: add, inputs: [img, rtPool]}
  - {name: New, op: sigmoid}
  - {name: _x, op: concat, inputs: [New, img]}
  - {name: nil, op: lrn, size: 2}
  - {name: append, op: flatten}
  - {name: range, op: dense, units: 10}
  - {name: string, op: batchnorm}
  - {name: go, op: tanh}
  - {name: make, op: dense, units: 7}
  - {name: "true", op: leaky_relu}
  - {name: select, op: dropout}
  - {name: error, op: softmax}
  - {name: src, op: dense, units: 6}
  - {name: dst, op: relu}
  - {name: panel, op: lrn, size: 3}
  - {name: bias, op: batchnorm}
  - {name: Batch, op: dense, units: 5, bias: false}
  - {name: Options, op: sigmoid}
  - {name: Impl, op: dense, units: 4}
  - {name: Infer, op: tanh}
  - {name: load, op: dropout}
  - {name: plan, op: softmax}
  - {name: rtStep, op: leaky_relu, slope: 0.3}
  - {name: InputLen, op: dense, units: 3}
  - {name: Precision, op: add, inputs: [InputLen, InputLen]}
`

// zoo returns small random specs, the same ones on every run: zooMinSpecs
// of them, and more until together they cover zooFeatures (so that a new
// feature costs specs, not a search for a lucky seed), at most zooMaxSpecs.
func zoo() []*zooGen {
	zooOnce.Do(func() { zooSpecs = zooOf(zooSeed) })
	return zooSpecs
}

var (
	zooOnce  sync.Once
	zooSpecs []*zooGen
)

func zooOf(seed uint64) []*zooGen {
	r := rand.New(rand.NewPCG(seed, 0))
	var specs []*zooGen
	acts := 0
	have := map[string]bool{}
	covered := func() bool {
		for _, f := range zooFeatures {
			if !have[f] {
				return false
			}
		}
		return true
	}
	for i := 0; i < zooMaxSpecs && (i < zooMinSpecs || !covered()); i++ {
		z := newZooGen(r, fmt.Sprintf("zoo%02d", i))
		z.acts = &acts
		z.generate()
		specs = append(specs, z)
		// A spec that does not compile is TestZoo's to report.
		s, err := spec.Parse(z.name+".yaml", []byte(z.spec()))
		if err != nil {
			continue
		}
		plain, err1 := compiler.CompileSpec(s, passes.Options{Stop: "inferShapes"})
		opt, err2 := compiler.CompileSpec(s, passes.Options{})
		if err1 != nil || err2 != nil {
			continue
		}
		for _, f := range features(plain, opt, zooBatch(i)) {
			have[f] = true
		}
	}
	return specs
}

// zooBatch is the batch size zoo spec i is compiled for.
func zooBatch(i int) int { return e2eBatches[i%len(e2eBatches)] }

// zShape is a per-image shape as the generator tracks it.
type zShape struct {
	c, h, w int
	flat    bool
}

func (s zShape) elems() int { return s.c * s.h * s.w }

// zooGen writes one random spec: an input of 1 to 17 channels and 1 to 13
// rows and columns (odd sizes favoured), then one to four blocks, each a
// layer or a short pattern (a conv and the batchnorm folded into it, an LRN
// and the max pooling it fuses into, branches and the add or concat that
// joins them) valid for the shape it reads.
type zooGen struct {
	r      *rand.Rand
	name   string
	lines  []string
	shapes map[string]zShape
	cur    string // the layer the next one reads
	acts   *int   // activations drawn so far, by every spec of the zoo
}

func newZooGen(r *rand.Rand, name string) *zooGen {
	size := func() int {
		if r.IntN(3) == 0 {
			return 2 + r.IntN(12)
		}
		return 2*r.IntN(7) + 1
	}
	in := zShape{c: 1 + r.IntN(8), h: size(), w: size()}
	if r.IntN(4) == 0 {
		in.c = []int{12, 16, 17}[r.IntN(3)]
	}
	return &zooGen{r: r, name: name, shapes: map[string]zShape{"input": in}, cur: "input", acts: new(int)}
}

func (z *zooGen) generate() {
	for range 1 + z.r.IntN(4) {
		z.block()
	}
}

// spec is the spec's YAML.
func (z *zooGen) spec() string {
	in := z.shapes["input"]
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\ninput: [%d, %d, %d]\nlayers:\n", z.name, in.c, in.h, in.w)
	for _, l := range z.lines {
		b.WriteString("  - {" + l + "}\n")
	}
	return b.String()
}

func (z *zooGen) shape() zShape { return z.shapes[z.cur] }

// last is the layer a layer reads when it names no input.
func (z *zooGen) last() string {
	if len(z.lines) == 0 {
		return "input"
	}
	return fmt.Sprintf("l%d", len(z.lines)-1)
}

// add appends a layer reading the current one (add and concat name their
// inputs in fields) and makes it current, with shape s.
func (z *zooGen) add(op string, s zShape, fields ...string) {
	name := fmt.Sprintf("l%d", len(z.lines))
	line := "name: " + name + ", op: " + op
	if o, _ := ir.ParseOp(op); o.Info().Arity == ir.Unary && z.cur != z.last() {
		line += ", input: " + z.cur
	}
	for _, f := range fields {
		line += ", " + f
	}
	z.lines = append(z.lines, line)
	z.shapes[name] = s
	z.cur = name
}

func (z *zooGen) pick(xs ...int) int { return xs[z.r.IntN(len(xs))] }

func pair(a, b int) string {
	if a == b {
		return fmt.Sprint(a)
	}
	return fmt.Sprintf("[%d, %d]", a, b)
}

// block appends one random block that fits the current shape.
func (z *zooGen) block() {
	s := z.shape()
	for {
		switch z.r.IntN(20) {
		case 0, 1, 2:
			if !s.flat {
				z.conv()
				return
			}
		case 3:
			if !s.flat {
				z.conv()
				z.add("batchnorm", z.shape()) // folded unless an activation came between
				return
			}
		case 4, 5:
			if s.elems() <= 300 {
				units := 1 + z.r.IntN(70)
				if z.r.IntN(2) == 0 {
					units = z.pick(1, 2, 3, 8, 15, 16, 17, 23, 24, 25, 47, 48, 49, 64, 70)
				}
				z.dense(units)
				if z.r.IntN(3) == 0 {
					z.add("batchnorm", z.shape()) // folded
				}
				if z.r.IntN(3) == 0 {
					z.act()
				}
				return
			}
		case 6:
			if !s.flat {
				z.pool(z.r.IntN(2) == 0)
				return
			}
		case 7:
			z.lrn()
			if !s.flat && z.r.IntN(3) > 0 {
				if z.r.IntN(3) == 0 {
					z.act() // sunk below the pooling, which then takes the LRN too
				}
				z.pool(true) // the LRN is computed inside it
			}
			return
		case 8:
			z.add("batchnorm", s, fmt.Sprintf("eps: %g", []float64{1e-5, 1e-3, 0.1}[z.r.IntN(3)]))
			return
		case 9:
			z.act()
			if !s.flat && z.r.IntN(3) == 0 {
				z.pool(true) // the activation is sunk below it if it cannot be fused
			}
			return
		case 10:
			z.join("add")
			return
		case 11:
			z.join("concat")
			return
		case 12:
			z.add("softmax", s)
			return
		case 13:
			if !s.flat {
				z.add("global_avgpool", zShape{c: s.c, h: 1, w: 1})
				return
			}
		case 14:
			z.add("flatten", zShape{c: s.elems(), h: 1, w: 1, flat: true})
			// The ops that also work on flat vectors, which the blocks
			// would otherwise rarely reach.
			switch z.r.IntN(4) {
			case 0:
				z.lrn()
			case 1:
				z.add("layernorm", z.shape())
			case 2:
				if z.shape().c <= 300 {
					z.arith()
				}
			}
			return
		case 15:
			z.add("dropout", s, "rate: 0.25")
			return
		case 16:
			z.add("layernorm", s, fmt.Sprintf("eps: %g", []float64{1e-5, 1e-6, 0.1}[z.r.IntN(3)]))
			return
		case 17:
			start := z.r.IntN(s.c)
			end := start + 1 + z.r.IntN(s.c-start)
			out := s
			out.c = end - start
			z.add("slice", out, fmt.Sprintf("start: %d", start), fmt.Sprintf("end: %d", end))
			return
		case 18:
			if g := z.pick(2, 3, 4); s.c%g == 0 && s.c > g {
				z.add("channel_shuffle", s, fmt.Sprintf("groups: %d", g))
				return
			}
		case 19:
			z.arith()
			return
		}
	}
}

// arith adds an elementwise add, sub, mul or div of the current layer and
// an operand made from it: of its shape, or one that broadcasts along
// channels ([1,H,W]), positions ([C,1,1], squeeze-and-excitation) or both
// ([1,1,1]). A divisor is clipped to at least 0.5.
func (z *zooGen) arith() {
	r := z.r
	base, s := z.cur, z.shape()
	op := []string{"add", "sub", "mul", "div"}[r.IntN(4)]
	switch k := r.IntN(4); {
	case s.flat:
		units := s.c
		if r.IntN(2) == 0 {
			units = 1
		}
		z.add("dense", zShape{c: units, h: 1, w: 1, flat: true}, fmt.Sprintf("units: %d", units))
	case k == 0:
		z.add("global_avgpool", zShape{c: s.c, h: 1, w: 1})
		z.add("sigmoid", z.shape())
	case k == 1:
		z.add("conv", zShape{c: 1, h: s.h, w: s.w}, "filters: 1", "kernel: 1")
	case k == 2:
		z.add("global_avgpool", zShape{c: s.c, h: 1, w: 1})
		z.add("conv", zShape{c: 1, h: 1, w: 1}, "filters: 1", "kernel: 1")
	default:
		z.add("conv", s, fmt.Sprintf("filters: %d", s.c), "kernel: 1")
	}
	if op == "div" {
		z.add("clip", z.shape(), "min: 0.5")
	}
	a, b := base, z.cur
	if op != "div" && r.IntN(2) == 0 {
		a, b = b, a
	}
	z.cur = base
	z.add(op, s, "inputs: ["+a+", "+b+"]")
}

// zooActs are the activation ops, and prelu.
var zooActs = func() []string {
	var out []string
	for _, op := range ir.AllOps() {
		if op.IsActivation() || op == ir.OpPReLU {
			out = append(out, op.String())
		}
	}
	return out
}()

// act adds an activation. The zoo takes them in turn, so that each kind
// lands in every context (fused, alone, sunk) somewhere in the zoo.
func (z *zooGen) act() {
	op := zooActs[*z.acts%len(zooActs)]
	*z.acts++
	z.actOp(op)
}

// zooKernelActs are the activations the kernels' epilogues apply
// themselves (GEMM: relu, leaky_relu, clip, hardsigmoid, hardswish,
// sigmoid, silu; depthwise: relu, leaky_relu, clip, hardswish, sigmoid,
// silu), and tanh and gelu, which they leave to Go.
var zooKernelActs = []string{"relu", "leaky_relu", "clip", "relu6", "hardsigmoid", "hardswish", "sigmoid", "silu", "tanh", "gelu"}

// actOp adds activation op, with random constants half of the time.
func (z *zooGen) actOp(op string) {
	var fields []string
	switch {
	case z.r.IntN(2) == 0:
		// The defaults.
	case op == "leaky_relu":
		fields = append(fields, fmt.Sprintf("slope: %g", float64(z.pick(1, 2, 3, -2))/10))
	case op == "clip":
		lo, hi := float64(z.pick(-10, -3, 0, 1))/4, float64(z.pick(2, 5, 24))/4
		switch z.r.IntN(3) {
		case 0:
			fields = append(fields, fmt.Sprintf("min: %g", lo))
		case 1:
			fields = append(fields, fmt.Sprintf("max: %g", hi))
		default:
			fields = append(fields, fmt.Sprintf("min: %g", lo), fmt.Sprintf("max: %g", hi))
		}
	case op == "hardsigmoid":
		fields = append(fields, fmt.Sprintf("alpha: %g", float64(z.pick(1, 2, -1))/5), "beta: 0.5")
	case op == "gelu":
		fields = append(fields, "approximate: tanh")
	case op == "prelu":
		fields = append(fields, "shared: true")
	}
	z.add(op, z.shape(), fields...)
}

func (z *zooGen) dense(units int) {
	fields := []string{fmt.Sprintf("units: %d", units)}
	if z.r.IntN(4) == 0 {
		fields = append(fields, "bias: false")
	}
	z.add("dense", zShape{c: units, h: 1, w: 1, flat: true}, fields...)
}

// conv appends a random convolution, sometimes with an activation.
func (z *zooGen) conv() {
	r, s := z.r, z.shape()
	var groups []int
	for g := 1; g <= 4; g++ {
		if s.c%g == 0 {
			groups = append(groups, g)
		}
	}
	g := groups[r.IntN(len(groups))]
	filters := g * (1 + r.IntN(20))
	// Depthwise: a group per channel, with a filter or two each.
	depthwise := s.c > 1 && r.IntN(3) == 0
	if depthwise {
		g = s.c
		filters = g * z.pick(1, 1, 2)
	}
	if !depthwise && r.IntN(3) > 0 {
		for {
			filters = z.pick(1, 2, 3, 5, 7, 8, 11, 12, 16, 17, 24, 31, 32, 48, 50, 64)
			if filters%g == 0 {
				break
			}
		}
	}
	kernel := func() int { return z.pick(1, 1, 2, 3, 3, 3, 4, 5, 5, 7, 9, 11, 13) }
	kh, kw := kernel(), kernel()
	if depthwise && r.IntN(2) == 0 {
		kh = z.pick(3, 5, 7) // MobileNet's, EfficientNet's and ConvNeXt's
	}
	if r.IntN(2) == 0 {
		kw = kh
	}
	dh, dw := z.pick(1, 1, 1, 2, 3), z.pick(1, 1, 1, 2, 3)
	sh, sw := z.pick(1, 1, 2, 3), z.pick(1, 1, 2, 3)
	if r.IntN(2) == 0 {
		sw = sh
	}
	fields := []string{fmt.Sprintf("filters: %d", filters)}
	if g > 1 || r.IntN(5) == 0 {
		fields = append(fields, fmt.Sprintf("groups: %d", g))
	}
	if r.IntN(5) == 0 {
		fields = append(fields, "bias: false")
	}
	var oh, ow int
	if mode := r.IntN(5); mode < 2 {
		// "same": any kernel fits; the padding may be uneven.
		oh, ow = (s.h+sh-1)/sh, (s.w+sw-1)/sw
		fields = append(fields, "padding: same")
	} else {
		ph, pw := 0, 0
		if mode >= 3 {
			ph, pw = r.IntN(3), r.IntN(3)
			if mode == 3 {
				pw = ph
			}
		}
		// Undilate, then shrink, the kernel until it fits the padded input.
		fit := func(in, p int, k, d *int) {
			if (*k-1)**d+1 > in+2*p {
				*d = 1
			}
			*k = min(*k, in+2*p)
		}
		fit(s.h, ph, &kh, &dh)
		fit(s.w, pw, &kw, &dw)
		oh, ow = (s.h+2*ph-(kh-1)*dh-1)/sh+1, (s.w+2*pw-(kw-1)*dw-1)/sw+1
		switch {
		case mode == 2 && r.IntN(2) == 0:
			fields = append(fields, "padding: valid")
		case mode >= 3:
			fields = append(fields, "padding: "+pair(ph, pw))
		}
	}
	fields = append(fields, "kernel: "+pair(kh, kw))
	if sh != 1 || sw != 1 {
		fields = append(fields, "stride: "+pair(sh, sw))
	}
	if dh != 1 || dw != 1 {
		fields = append(fields, "dilation: "+pair(dh, dw))
	}
	z.add("conv", zShape{c: filters, h: oh, w: ow}, fields...)
	switch r.IntN(5) {
	case 0:
		z.act() // fused
	case 1, 2:
		acts := zooKernelActs
		if depthwise {
			acts = zooDepthwiseActs
		}
		z.actOp(acts[r.IntN(len(acts))])
	}
}

// zooDepthwiseActs are the activations drawn after a depthwise
// convolution: those its kernels apply themselves, and what MobileNets and
// EfficientNets use there.
var zooDepthwiseActs = []string{"relu", "relu", "leaky_relu", "relu6", "hardswish", "silu", "sigmoid", "tanh"}

// pool appends a random max or average pooling, sometimes with an activation.
func (z *zooGen) pool(isMax bool) {
	r, s := z.r, z.shape()
	op := "avgpool"
	if isMax {
		op = "maxpool"
	}
	kh, kw := 1+r.IntN(4), 1+r.IntN(4)
	if r.IntN(2) == 0 {
		kw = kh
	}
	ph, pw := r.IntN(kh/2+1), r.IntN(kw/2+1)
	if r.IntN(3) == 0 {
		ph, pw = 0, 0
	}
	// Shrinking the kernel to the padded input keeps the padding at most half of it.
	kh, kw = min(kh, s.h+2*ph), min(kw, s.w+2*pw)
	fields := []string{"kernel: " + pair(kh, kw)}
	sh, sw := kh, kw
	if r.IntN(2) == 0 {
		sh, sw = 1+r.IntN(3), 1+r.IntN(3)
		fields = append(fields, "stride: "+pair(sh, sw))
	}
	if ph != 0 || pw != 0 {
		fields = append(fields, "padding: "+pair(ph, pw))
	}
	ceil := r.IntN(2) == 0
	if ceil {
		fields = append(fields, "ceil: true")
	}
	if !isMax && r.IntN(2) == 0 {
		fields = append(fields, "count_pad: false")
	}
	z.add(op, zShape{c: s.c, h: ir.PoolOut(s.h, kh, sh, ph, ceil), w: ir.PoolOut(s.w, kw, sw, pw, ceil)}, fields...)
	if r.IntN(3) == 0 {
		z.act() // fused, or sunk below a max pooling
	}
}

func (z *zooGen) lrn() {
	r := z.r
	z.add("lrn", z.shape(),
		fmt.Sprintf("size: %d", 1+r.IntN(5)),
		fmt.Sprintf("alpha: %g", []float64{1e-4, 0.1, 0.5, 2}[r.IntN(4)]),
		fmt.Sprintf("beta: %g", []float64{0.5, 0.75, 1}[r.IntN(3)]),
		fmt.Sprintf("k: %g", []float64{1, 2}[r.IntN(2)]))
}

// join appends one or two branches off the current layer and an add or
// concat of them and it (sometimes of it twice).
func (z *zooGen) join(op string) {
	r := z.r
	base, s := z.cur, z.shape()
	operands := []string{base}
	if r.IntN(6) == 0 {
		operands = append(operands, base)
	}
	for range 1 + r.IntN(2) {
		z.cur = base
		switch {
		case !s.flat && r.IntN(3) > 0:
			f := s.c // add needs equal shapes
			if op == "concat" {
				f = z.pick(1, 3, 8, 13, 16)
			}
			g := 1
			if s.c%2 == 0 && f%2 == 0 && r.IntN(2) == 0 {
				g = 2
			}
			fields := []string{fmt.Sprintf("filters: %d", f), fmt.Sprintf("kernel: %d", z.pick(1, 2, 3, 5)), "padding: same"}
			if g > 1 {
				fields = append(fields, fmt.Sprintf("groups: %d", g))
			}
			z.add("conv", zShape{c: f, h: s.h, w: s.w}, fields...)
		case s.flat && s.elems() <= 300 && r.IntN(2) == 0:
			units := s.c
			if op == "concat" {
				units = 1 + r.IntN(40)
			}
			z.dense(units)
		default:
			z.act() // unfused: base has other readers
		}
		operands = append(operands, z.cur)
	}
	r.Shuffle(len(operands), func(i, j int) { operands[i], operands[j] = operands[j], operands[i] })
	out := s
	if op == "concat" {
		out.c = 0
		for _, o := range operands {
			out.c += z.shapes[o].c
		}
	}
	z.add(op, out, "inputs: ["+strings.Join(operands, ", ")+"]")
}

// TestZoo checks the zoo: every spec compiles, the generator's idea of each
// layer's shape is the compiler's, and together the specs reach every
// feature the end-to-end test is meant to cover (a change of seed or
// generator that loses one fails here rather than silently).
func TestZoo(t *testing.T) {
	zs := zoo()
	for _, f := range zooMissing(t, zs, true) {
		t.Errorf("no zoo spec has %s (the zoo stops at zooMaxSpecs = %d)", f, zooMaxSpecs)
	}
	t.Logf("%d zoo specs cover %d features; the quick suite's cover takes %d of them", len(zs), len(zooFeatures), len(zooCover(t, zs)))
}

// zooCover returns the indices of a small subset of specs that covers every
// zooFeature the whole does: the quick suite's zoo. It is chosen greedily,
// the spec that adds most first, so it is the same on every run.
func zooCover(t *testing.T, specs []*zooGen) []int {
	zooCoverOnce.Do(func() {
		dir := t.TempDir()
		var each [][]string
		for i, z := range specs {
			each = append(each, zooSpecFeatures(t, dir, i, z, false))
		}
		have := map[string]bool{}
		for {
			best, gain := -1, 0
			for i, fs := range each {
				n := 0
				for _, f := range fs {
					if slices.Contains(zooFeatures, f) && !have[f] {
						n++
					}
				}
				if n > gain {
					best, gain = i, n
				}
			}
			if best < 0 {
				break
			}
			zooCoverIdx = append(zooCoverIdx, best)
			for _, f := range each[best] {
				have[f] = true
			}
		}
		slices.Sort(zooCoverIdx)
	})
	return zooCoverIdx
}

var (
	zooCoverOnce sync.Once
	zooCoverIdx  []int
)

// zooSpecFeatures compiles zoo spec i, checks the generator's shapes
// against the compiler's and returns the features it exercises.
func zooSpecFeatures(t *testing.T, dir string, i int, z *zooGen, log bool) []string {
	path := writeSpec(t, dir, z.name, z.spec())
	plain, err := compiler.Load(path)
	if err != nil {
		t.Fatalf("%s: %v\n%s", z.name, err, z.spec())
	}
	for _, n := range plain.Nodes {
		want, s := z.shapes[n.Name], n.Shape
		if (zShape{s.C, s.H, s.W, s.Flat}) != want {
			t.Errorf("%s: layer %s has shape %v, the generator expected %+v\n%s", z.name, n.Name, s, want, z.spec())
		}
	}
	opt, err := compiler.Compile(path, passes.Options{Verify: true})
	if err != nil {
		t.Fatalf("%s: %v\n%s", z.name, err, z.spec())
	}
	if log {
		t.Logf("%s (batch %d):\n%s", z.name, zooBatch(i), z.spec())
	}
	return features(plain, opt, zooBatch(i))
}

func zooMissing(t *testing.T, specs []*zooGen, log bool) []string {
	dir := t.TempDir()
	have := map[string]bool{}
	for i, z := range specs {
		for _, f := range zooSpecFeatures(t, dir, i, z, log) {
			have[f] = true
		}
	}
	var missing []string
	for _, f := range zooFeatures {
		if !have[f] {
			missing = append(missing, f)
		}
	}
	return missing
}

// zooFeatures are what the zoo must cover.
var zooFeatures = []string{
	"conv groups 2", "conv groups 3", "conv groups 4", "conv stride 2", "conv stride 3",
	"conv dilation 2", "conv dilation 3", "conv rectangular kernel", "conv 1x1", "conv kernel 13",
	"conv same uneven padding", "conv explicit padding", "conv filters/group not a multiple of 8",
	"conv filters/group a multiple of 16", "conv no bias", "conv over 48 positions",
	"depthwise", "depthwise multiplier 2", "depthwise 3x3", "depthwise 5x5", "depthwise 7x7", "depthwise stride 2",
	"depthwise dilation", "depthwise uneven padding", "depthwise relu fused", "depthwise leaky_relu fused",
	"depthwise clip fused", "depthwise hardswish fused", "depthwise silu fused",
	"depthwise sigmoid or tanh fused", "depthwise batchnorm folded", "depthwise no bias",
	"dense batch 1", "dense batch 3", "dense batch 8", "dense units 1", "dense over 48 units",
	"dense over 200 inputs", "dense no bias",
	"maxpool ceil", "avgpool ceil", "maxpool padding", "avgpool padding",
	"avgpool count_pad false", "avgpool count_pad true padding",
	"lrn fused into maxpool", "lrn standalone", "lrn flat",
	"batchnorm folded into conv", "batchnorm folded into dense", "batchnorm standalone",
	// The kernels' epilogues apply relu, leaky_relu and clip themselves;
	// every other kind goes through rtActivateAll, in the epilogue's Go or
	// alone, whose formulas TestActivateEveryKind checks kind by kind.
	"relu fused", "leaky_relu fused", "clip fused", "sigmoid fused", "silu fused", "hardswish fused", "hardsigmoid fused", "other activation fused",
	"relu unfused", "leaky_relu unfused", "clip unfused", "other activation unfused", "prelu",
	// The elementwise kernels (vecAffine, vecBinary) apply these
	// themselves, alone or after an unfolded batchnorm or arithmetic.
	"sigmoid unfused", "silu unfused", "hardswish unfused",
	"batchnorm standalone with activation", "arithmetic with activation",
	"activation sunk below maxpool",
	"add", "add of three", "concat", "softmax flat", "softmax spatial", "global_avgpool",
	"flatten", "dropout",
	"sub", "mul", "div", "broadcast [C,1,1]", "broadcast [1,H,W]", "broadcast [1,1,1]", "broadcast flat",
	"layernorm", "layernorm flat", "slice", "channel_shuffle",
	// A slice viewed in place (passes' viewSlices) makes its readers step
	// through a batch's images by the larger image's length.
	"strided view", "strided view read by dense", "strided view read by conv",
}

// features lists what a compiled spec exercises, in zooFeatures' terms.
func features(plain, opt *ir.Graph, batch int) []string {
	var fs []string
	has := func(f string) { fs = append(fs, f) }
	for _, n := range plain.Nodes {
		switch n.Op {
		case ir.OpFlatten, ir.OpDropout, ir.OpAdd, ir.OpConcat, ir.OpGlobalAvgPool:
			has(n.Op.String())
			if n.Op == ir.OpAdd && len(n.Inputs) > 2 {
				has("add of three")
			}
		case ir.OpSoftmax:
			if n.Shape.Flat {
				has("softmax flat")
			} else {
				has("softmax spatial")
			}
		}
	}
	for _, n := range opt.Nodes {
		if n.Act.Kind != ir.ActNone {
			has(actName(n.Act.Kind) + " fused")
		}
		if n.Strided() && batch > 1 {
			has("strided view")
		}
		for _, x := range n.Inputs {
			if x.Strided() && batch > 1 && (n.Op == ir.OpDense || n.Op == ir.OpConv) {
				has("strided view read by " + n.Op.String())
			}
		}
		if n.Op.IsActivation() {
			has(actName(ir.ActivationOf(n).Kind) + " unfused")
		}
		switch n.Op {
		case ir.OpPReLU, ir.OpSlice, ir.OpChannelShuffle, ir.OpSub, ir.OpMul, ir.OpDiv:
			has(n.Op.String())
		case ir.OpLayerNorm:
			has("layernorm")
			if n.Shape.Flat {
				has("layernorm flat")
			}
		}
		if n.Op.Info().Elementwise && len(n.Inputs) > 1 {
			if n.Act.Kind != ir.ActNone {
				has("arithmetic with activation")
			}
			for _, x := range n.Inputs {
				switch xs := x.Shape; {
				case !ir.Broadcast(xs, n.Shape):
				case xs.Flat:
					has("broadcast flat")
				case xs.C == 1 && xs.H == 1 && xs.W == 1:
					has("broadcast [1,1,1]")
				case xs.C == 1:
					has("broadcast [1,H,W]")
				case xs.H == 1 && xs.W == 1:
					has("broadcast [C,1,1]")
				}
			}
		}
		switch n.Op {
		case ir.OpConv:
			a := &n.Conv
			if a.Groups > 1 {
				has(fmt.Sprintf("conv groups %d", a.Groups))
			}
			for _, s := range []int{a.StrideH, a.StrideW} {
				if s > 1 {
					has(fmt.Sprintf("conv stride %d", s))
				}
			}
			for _, d := range []int{a.DilH, a.DilW} {
				if d > 1 {
					has(fmt.Sprintf("conv dilation %d", d))
				}
			}
			if a.KH != a.KW {
				has("conv rectangular kernel")
			}
			if a.KH == 1 && a.KW == 1 {
				has("conv 1x1")
			}
			if a.KH == 13 || a.KW == 13 {
				has("conv kernel 13")
			}
			p := a.Pad
			if p.Top != p.Bottom || p.Left != p.Right {
				has("conv same uneven padding")
			}
			if !n.Same && p != (ir.Pad{}) {
				has("conv explicit padding")
			}
			if m := a.Filters / a.Groups; m%8 != 0 {
				has("conv filters/group not a multiple of 8")
			} else if m%16 == 0 {
				has("conv filters/group a multiple of 16")
			}
			if !a.Bias {
				has("conv no bias")
			}
			if n.Shape.H*n.Shape.W > 48 {
				has("conv over 48 positions")
			}
			if n.FoldBN != nil {
				has("batchnorm folded into conv")
			}
			if c := n.Inputs[0].Shape.C; a.Groups == c && c > 1 {
				has("depthwise")
				if a.Filters == 2*c {
					has("depthwise multiplier 2")
				}
				if a.KH == a.KW && a.KH%2 == 1 && a.KH >= 3 && a.KH <= 7 {
					has(fmt.Sprintf("depthwise %dx%d", a.KH, a.KW))
				}
				if a.StrideH == 2 || a.StrideW == 2 {
					has("depthwise stride 2")
				}
				if a.DilH > 1 || a.DilW > 1 {
					has("depthwise dilation")
				}
				if p := a.Pad; p.Top != p.Bottom || p.Left != p.Right {
					has("depthwise uneven padding")
				}
				switch n.Act.Kind {
				case ir.ActReLU, ir.ActLeakyReLU, ir.ActClip, ir.ActHardSwish, ir.ActSiLU:
					has("depthwise " + actName(n.Act.Kind) + " fused")
				case ir.ActSigmoid, ir.ActTanh:
					has("depthwise sigmoid or tanh fused")
				}
				if n.FoldBN != nil {
					has("depthwise batchnorm folded")
				}
				if !a.Bias {
					has("depthwise no bias")
				}
			}
		case ir.OpDense:
			has(fmt.Sprintf("dense batch %d", batch))
			if n.Dense.Units == 1 {
				has("dense units 1")
			}
			if n.Dense.Units > 48 {
				has("dense over 48 units")
			}
			if n.Inputs[0].Shape.Elems() > 200 {
				has("dense over 200 inputs")
			}
			if !n.Dense.Bias {
				has("dense no bias")
			}
			if n.FoldBN != nil {
				has("batchnorm folded into dense")
			}
		case ir.OpMaxPool, ir.OpAvgPool:
			a := &n.Pool
			if a.Ceil {
				has(n.Op.String() + " ceil")
			}
			if a.Pad != (ir.Pad{}) {
				has(n.Op.String() + " padding")
				if n.Op == ir.OpAvgPool && a.CountPad {
					has("avgpool count_pad true padding")
				}
			}
			if n.Op == ir.OpAvgPool && !a.CountPad {
				has("avgpool count_pad false")
			}
			if n.PreLRN != nil {
				has("lrn fused into maxpool")
			}
			if n.Op == ir.OpMaxPool && len(n.Fused) > 0 && n.Act.Kind != ir.ActNone && plain.Lookup(n.Fused[0]).Op.IsActivation() {
				has("activation sunk below maxpool")
			}
		case ir.OpLRN:
			has("lrn standalone")
			if n.Shape.Flat {
				has("lrn flat")
			}
		case ir.OpBatchNorm:
			has("batchnorm standalone")
			if n.Act.Kind != ir.ActNone {
				has("batchnorm standalone with activation")
			}
		}
	}
	return fs
}

// actName is the name of activation kind k in zooFeatures.
func actName(k ir.ActKind) string {
	switch k {
	case ir.ActReLU, ir.ActLeakyReLU, ir.ActClip, ir.ActSigmoid, ir.ActSiLU, ir.ActHardSwish, ir.ActHardSigmoid:
		return k.String()
	}
	return "other activation"
}

// collidingSpecs have layer names that are distinct in the spec but could
// map to one Go identifier: first letters differing in case or a leading
// underscore (the exported shape constants), the names of the API's own
// constants, and a layer named like another layer's per-implementation task.
var collidingSpecs = map[string]string{
	"letter_case": `
  - {name: conv1, op: conv, filters: 4, kernel: 3}
  - {name: Conv1, op: relu, input: conv1}
  - {name: s, op: add, inputs: [conv1, Conv1]}`,
	"underscore": `
  - {name: _x, op: conv, filters: 4, kernel: 3}
  - {name: L_x, op: maxpool, kernel: 2}`,
	"api": `
  - {name: Input, op: conv, filters: 4, kernel: 3}
  - {name: output, op: maxpool, kernel: 2}`,
	"api_flat": `
  - {name: Output, op: dense, units: 3}`,
	"task": `
  - {name: c, op: conv, filters: 4, kernel: 3}
  - {name: c_Go, op: maxpool, kernel: 2}
  - {name: c_AVX2, op: relu}`,
}

// TestLayerNamesCollide requires, for each of collidingSpecs, that
// Generate either refuses the names with an error or writes a package that
// builds and vets.
func TestLayerNamesCollide(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is not on PATH (%v): generated packages cannot be built", err)
	}
	dir := t.TempDir()
	writeModule(t, dir)
	built := 0
	for _, name := range slices.Sorted(maps.Keys(collidingSpecs)) {
		src := fmt.Sprintf("name: %s\ninput: [3, 8, 8]\nlayers:%s\n", name, collidingSpecs[name])
		g, err := compiler.Compile(writeSpec(t, dir, name, src), passes.Options{Verify: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		files, err := codegen.Generate(g, codegen.Options{})
		if err != nil {
			t.Logf("%s: refused: %v", name, err)
			continue
		}
		built++
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, name, f.Name), f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if built == 0 {
		return
	}
	c := exec.Command(goTool, "vet", "./...")
	c.Dir = dir
	c.Env = append(os.Environ(), goEnv...)
	if out, err := c.CombinedOutput(); err != nil {
		t.Errorf("Generate wrote packages that do not build: layer names collide as Go identifiers:\n%s", out)
	}
}
