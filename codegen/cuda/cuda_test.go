package cuda_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/codegen/cuda"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/ref"
	"github.com/cnnc/cnnc/compiler/tensor"
	"github.com/cnnc/cnnc/internal/golden"
	"github.com/cnnc/cnnc/internal/testenv"
)

// clangName is the compiler the checks run: clang 19, as Debian 12 ships it
// (apt-get install clang-19); CNNC_CLANG overrides it.
func clangName() string {
	if c := os.Getenv("CNNC_CLANG"); c != "" {
		return c
	}
	return "clang++-19"
}

// needClang returns the clang to run, or skips the test.
func needClang(t *testing.T) string {
	t.Helper()
	return testenv.LookPath(t, clangName(), "apt-get install clang-19 (it compiles the generated CUDA and C++ code and emulates it)")
}

// specPaths lists every spec cnnc ships and the corner specs.
func specPaths(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"../../spec/*.yaml", "../../compiler/testdata/corners/*.yaml"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) < 11 {
		t.Fatalf("found only %d specs", len(out))
	}
	return out
}

func specName(path string) string { return strings.TrimSuffix(filepath.Base(path), ".yaml") }

// A config is one way of compiling a spec. Batches are chosen to reach the
// interesting paths: per-image copies (model parallelism with a batch),
// dense layers as GEMMs (a batch over 8), GPUs without images (data
// parallelism over more GPUs than images... of 3 over 4).
type config struct {
	gpus, batch int
	par         cuda.Parallel
}

func (c config) String() string { return fmt.Sprintf("%s%d_b%d", c.par, c.gpus, c.batch) }

var configs = []config{
	{1, 1, cuda.Model},
	{2, 2, cuda.Model},
	{4, 10, cuda.Model},
	{2, 3, cuda.Data},
	{4, 3, cuda.Data},
}

// quickConfigs returns cs in the exhaustive suite (CNNC_LONG=1) and, in
// the quick one, the single config i selects, in turn.
func quickConfigs(cs []config, i int) []config {
	if testenv.Long() {
		return cs
	}
	return cs[i%len(cs) : i%len(cs)+1]
}

func compile(t *testing.T, path string) *ir.Graph {
	t.Helper()
	g, err := compiler.Compile(path, cuda.Passes(passes.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func generate(t *testing.T, path string, opt cuda.Options) []codegen.File {
	t.Helper()
	files, err := cuda.Generate(compile(t, path), opt)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return files
}

func writeFiles(t *testing.T, dir string, files []codegen.File) {
	t.Helper()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func shimDir(t *testing.T) string {
	d, err := filepath.Abs("testdata/shim")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// deviceFlags and hostFlags compile the generated code with clang's CUDA
// front end and no CUDA installation: device code to PTX for one GPU
// architecture, host code type-checked against the runtime API's
// declarations in testdata/shim. Warnings are errors.
func deviceFlags(shim, arch, src, out string) []string {
	return []string{"-x", "cuda", "--cuda-device-only", "-nocudainc", "-nocudalib", "--cuda-gpu-arch=" + arch,
		"-std=c++17", "-O3", "-Wall", "-Wextra", "-Werror", "-I", shim, "-S", "-o", out, src}
}

func hostFlags(shim, src string) []string {
	return []string{"-x", "cuda", "--cuda-host-only", "-nocudainc", "-nocudalib",
		"-std=c++17", "-Wall", "-Wextra", "-Werror", "-I", shim, "-fsyntax-only", src}
}

var archs = []string{"sm_80", "sm_90"}

// TestClang compiles the generated device code of every spec, for every
// config, to PTX for sm_80 and sm_90 with clang, and type-checks the host
// side. It proves that the code is valid CUDA C++ that clang lowers to
// PTX, that every kernel instance the .cu declares is instantiated (one
// .entry each), and that the host code is consistent with the CUDA runtime
// API's declarations. It runs nothing: see TestEmulate for values. The
// quick suite (without CNNC_LONG=1) compiles each spec for one config, the
// configs in turn, so that each config and each spec is compiled.
func TestClang(t *testing.T) {
	clang := needClang(t)
	shim := shimDir(t)
	var ptx, host atomic.Int64
	t.Run("all", func(t *testing.T) {
		for i, path := range specPaths(t) {
			for _, c := range quickConfigs(configs, i) {
				t.Run(specName(path)+"/"+c.String(), func(t *testing.T) {
					t.Parallel()
					files := generate(t, path, cuda.Options{GPUs: c.gpus, Batch: c.batch, Parallel: c.par})
					dir := t.TempDir()
					writeFiles(t, dir, files)
					cu := specName(path) + ".cu"
					src, err := os.ReadFile(filepath.Join(dir, cu))
					if err != nil {
						t.Fatal(err)
					}
					instances := len(regexp.MustCompile(`(?m)^struct K_\w+ \{$`).FindAll(src, -1))
					as := archs
					if !testenv.Long() {
						as = archs[i%len(archs) : i%len(archs)+1] // each arch on every other spec
					}
					for _, arch := range as {
						out := filepath.Join(dir, arch+".ptx")
						run(t, dir, nil, clang, deviceFlags(shim, arch, cu, out)...)
						p, err := os.ReadFile(out)
						if err != nil {
							t.Fatal(err)
						}
						if !bytes.Contains(p, []byte(".target "+arch)) {
							t.Errorf("%s: PTX is not for %s", arch, arch)
						}
						if got := bytes.Count(p, []byte(".visible .entry ")); got != instances {
							t.Errorf("%s: PTX has %d kernels, the .cu %d instances", arch, got, instances)
						}
						ptx.Add(1)
					}
					run(t, dir, nil, clang, hostFlags(shim, cu)...)
					host.Add(1)
				})
			}
		}
	})
	t.Logf("%d PTX compilations (specs x configs x %v), %d host-side checks", ptx.Load(), archs, host.Load())
}

// TestGolden compares the files generated for spec/lenet5.yaml with
// golden/cuda/lenet5/<file>.golden; go test ./codegen/cuda -update rewrites them.
// The copies of shared files are not kept there (omitted.golden lists
// them): checkCopy checks them against their sources.
func TestGolden(t *testing.T) {
	const path = "../../spec/lenet5.yaml"
	spec, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const header = "// Code generated by cnnc compile spec/lenet5.yaml -target cuda -o lenet5; DO NOT EDIT."
	files := generate(t, path, cuda.Options{Batch: 1, GPUs: 1, Args: strings.TrimSuffix(strings.TrimPrefix(header, "// Code generated by cnnc "), "; DO NOT EDIT."),
		SpecSHA256: fmt.Sprintf("%x", sha256.Sum256(spec))})
	omitted := "# Files Generate writes that are not kept here: copies of codegen/cuda's files (TestGolden checks them).\n"
	want := map[string][]byte{}
	for _, f := range files {
		if src, ok := copySource(f.Name, "lenet5"); ok {
			checkCopy(t, f, header, "lenet5")
			omitted += f.Name + "\tcodegen/cuda/" + src + "\n"
			continue
		}
		want[f.Name+".golden"] = f.Data
	}
	want["omitted.golden"] = []byte(omitted)
	golden.CheckDir(t, filepath.Join("..", "..", "golden", "cuda", "lenet5"), want)
}

// copySource returns the file of codegen/cuda that a file generated for
// package pkg is a copy of: the shared CUDA runtime (rt/) or gort's Go API
// (rt_X.go, but the package's own <pkg>_cuda.go).
func copySource(name, pkg string) (string, bool) {
	if slices.Contains(cuda.RuntimeFiles, name) {
		return "rt/" + name, true
	}
	if x, ok := strings.CutPrefix(name, "rt_"); ok && strings.HasSuffix(name, ".go") && name != pkg+"_cuda.go" {
		return "gort/" + x, true
	}
	return "", false
}

// checkCopy checks that generated file f is its source (copySource) after
// the generated-code header, with gort's package clause renamed to pkg. It
// is written out again here, rather than calling Generate's code, so that a
// change to the copying fails.
func checkCopy(t *testing.T, f codegen.File, header, pkg string) {
	t.Helper()
	name, _ := copySource(f.Name, pkg)
	src, err := os.ReadFile(name)
	if err != nil {
		t.Errorf("%s is no copy: %v", f.Name, err)
		return
	}
	if strings.HasSuffix(name, ".go") {
		before, after, ok := bytes.Cut(src, []byte("package gort\n"))
		if !ok {
			t.Errorf("%s has no package clause", name)
			return
		}
		src = slices.Concat(before, []byte("package "+pkg+"\n"), after)
	}
	if want := header + "\n\n" + string(src); want != string(f.Data) {
		t.Errorf("%s differs from %s (-want +got):\n%s", f.Name, name, golden.Diff([]byte(want), f.Data))
	}
}

// TestDeterministic generates every spec twice, from separately compiled
// graphs, for every config: the bytes must be the same. Every file starts
// with the generated-code header.
func TestDeterministic(t *testing.T) {
	header := regexp.MustCompile(`^// Code generated by cnnc .*; DO NOT EDIT\.\n`)
	for _, path := range specPaths(t) {
		for _, c := range configs {
			opt := cuda.Options{GPUs: c.gpus, Batch: c.batch, Parallel: c.par, Args: "compile x -target cuda"}
			a, b := generate(t, path, opt), generate(t, path, opt)
			if len(a) != len(b) {
				t.Fatalf("%s %v: %d files, then %d", path, c, len(a), len(b))
			}
			for i := range a {
				if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
					t.Errorf("%s %v: %s differs between two runs", path, c, a[i].Name)
				}
				if !header.Match(a[i].Data) {
					t.Errorf("%s %v: %s does not start with the generated-code header", path, c, a[i].Name)
				}
			}
		}
	}
}

func TestOptions(t *testing.T) {
	g := compile(t, "../../spec/lenet5.yaml")
	for _, opt := range []cuda.Options{
		{Package: "main"}, {Package: "a-b"}, {Package: "1x"}, {Package: "cnnc_go"}, {Package: "cnnc_runtime"}, {GPUs: cuda.MaxGPUs + 1}, {Batch: 1 << 30},
	} {
		if _, err := cuda.Generate(g, opt); err == nil {
			t.Errorf("Generate(%+v) succeeded", opt)
		}
	}
	for _, s := range []string{"", "Model", "pipeline"} {
		if _, err := cuda.ParseParallel(s); err == nil {
			t.Errorf("ParseParallel(%q) succeeded", s)
		}
	}
	files, err := cuda.Generate(g, cuda.Options{Package: "net2"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	want := []string{"cnnc_go.h", "cnnc_kernels.cuh", "cnnc_runtime.h", "net2.cu", "net2.h", "net2_cuda.go", "rt_model.go"}
	if !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
}

// emuConfigs are the configs TestEmulate runs: model parallelism over 1 to
// 4 GPUs (3: uneven splits, groups shared unevenly), a batch over 8 (dense
// layers as GEMMs), and data parallelism over more GPUs than images.
var emuConfigs = []config{
	{1, 1, cuda.Model},
	{2, 2, cuda.Model},
	{3, 2, cuda.Model},
	{4, 10, cuda.Model},
	{4, 3, cuda.Data},
}

// emuDevices lists the physical device counts a config runs with: all the
// GPUs it asks for and fewer (the logical GPUs then share them modulo).
func emuDevices(c config) []int {
	switch c.gpus {
	case 1:
		return []int{1}
	case 2:
		return []int{2, 1}
	}
	return []int{c.gpus, 2, 1}
}

// Emulation costs about 50 ns per multiply-add, unoptimised and with the
// sanitizers (optimising makes compiling far slower than running). Cases
// of more than emuBigMACs (per call: MACs per image x batch) run with one
// device count, cases of more than emuMaxMACs only with CNNC_EMU_ALL=1,
// and in the quick suite (without CNNC_LONG=1) one config per spec, in
// turn, and only cases up to emuShortMACs.
const (
	emuBigMACs   = 2e7
	emuMaxMACs   = 7e7
	emuShortMACs = 2e6
)

// emuSpecs are the specs TestEmulate runs: those TestClang compiles and a
// scaled-down AlexNet, whose splits and exchanges are AlexNet's.
func emuSpecs(t *testing.T) []string {
	return append(specPaths(t), "testdata/specs/alexnet_mini.yaml")
}

// TestEmulate compiles the generated code of every spec and config for the
// CPU, against the emulated CUDA runtime of testdata/emu (with
// AddressSanitizer and UndefinedBehaviorSanitizer), runs it, and compares
// the output with cnnc's reference engine on the network as written. It
// checks the values the kernels compute, the partitioning and the
// exchanges between GPUs, the mapping of logical GPUs onto fewer physical
// ones, and, by running the streams in random orders CUDA allows, that the
// events order every dependency. It is not a GPU: see the emulator's
// header for what it does not model.
func TestEmulate(t *testing.T) {
	clang := needClang(t)
	emu, err := filepath.Abs("testdata/emu")
	if err != nil {
		t.Fatal(err)
	}
	// The emulator itself, compiled once.
	lib := filepath.Join(t.TempDir(), "emu.o")
	run(t, ".", nil, clang, append(emuFlags(emu), "-O1", "-c", filepath.Join(emu, "emu.cpp"), "-o", lib)...)
	all := os.Getenv("CNNC_EMU_ALL") != ""
	t.Run("all", func(t *testing.T) {
		for i, path := range emuSpecs(t) {
			for _, c := range quickConfigs(emuConfigs, i) {
				t.Run(specName(path)+"/"+c.String(), func(t *testing.T) {
					t.Parallel()
					emulate(t, clang, emu, lib, path, c, all)
				})
			}
		}
	})
}

func emuFlags(emu string) []string {
	return []string{"-std=c++20", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-DCNNC_EMULATE", "-I", emu}
}

func emulate(t *testing.T, clang, emu, lib, path string, c config, all bool) {
	plain, err := compiler.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	g := compile(t, path)
	var macs float64
	for _, n := range g.Nodes {
		macs += float64(ir.MACs(n))
	}
	macs *= float64(c.batch)
	switch {
	case macs > emuMaxMACs && !all:
		t.Skipf("%.3g multiply-adds per call: set CNNC_EMU_ALL=1 to emulate it", macs)
	case macs > emuShortMACs && !testenv.Long():
		testenv.SkipUnlessLong(t, fmt.Sprintf("%.3g multiply-adds per call", macs))
	}
	pkg := "net"
	files, err := cuda.Generate(g, cuda.Options{Package: pkg, GPUs: c.gpus, Batch: c.batch, Parallel: c.par})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, files)

	// Weights, input and the reference output.
	ts := params.Init(plain, 1)
	var w bytes.Buffer
	if err := tensor.WriteSafetensors(&w, ts, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "w.safetensors"), w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	x := params.Input(plain, c.batch, 2)
	if err := os.WriteFile(filepath.Join(dir, "x.bin"), floatBytes(x), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := ref.Run(plain, params.Effective(plain, params.Map(ts)), x, c.batch)
	if err != nil {
		t.Fatal(err)
	}
	want := res.Output(plain)

	drv, err := filepath.Abs("testdata/emu/driver.cpp")
	if err != nil {
		t.Fatal(err)
	}
	flags := append(emuFlags(emu), "-O0", "-I", ".")
	run(t, dir, nil, clang, append(flags, "-x", "c++", "-c", pkg+".cu", "-o", "net.o")...)
	run(t, dir, nil, clang, append(flags, "-DPRE=cnnc_"+pkg, "-DMAC=CNNC_"+strings.ToUpper(pkg), `-DHEADER="`+pkg+`.h"`,
		"-c", drv, "-o", "driver.o")...)
	run(t, dir, nil, clang, "-fsanitize=address,undefined", "net.o", "driver.o", lib, "-o", "drv")
	devices := emuDevices(c)
	if macs > emuBigMACs {
		devices = devices[:1]
	}
	for i, n := range devices {
		env := []string{fmt.Sprintf("CNNC_EMU_DEVICES=%d", n), fmt.Sprintf("CNNC_EMU_SEED=%d", i+1)}
		run(t, dir, env, "./drv", "w.safetensors", "x.bin", "y.bin")
		data, err := os.ReadFile(filepath.Join(dir, "y.bin"))
		if err != nil {
			t.Fatal(err)
		}
		got := bytesFloat(data)
		if len(got) != len(want) {
			t.Fatalf("%d devices: %d outputs, want %d", n, len(got), len(want))
		}
		scale := 1e-30
		for _, v := range want {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		for i, v := range want {
			if d := math.Abs(float64(got[i] - v)); !(d <= 1e-4*scale) {
				t.Fatalf("%d physical devices: output %d is %g, want %g (scale %g)", n, i, got[i], v, scale)
			}
		}
	}
}

func floatBytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func bytesFloat(b []byte) []float32 {
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

// TestSafetensorsParity feeds the safetensors fuzz corpus of
// compiler/tensor, and mutations of well-formed files, to the generated
// code's C++ reader (cnnc_runtime.h, built with AddressSanitizer and
// UndefinedBehaviorSanitizer) and to cnnc's Go reader: they must accept
// the same files and find the same tensors, dtypes, shapes and values.
func TestSafetensorsParity(t *testing.T) {
	clang := needClang(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "stcheck")
	run(t, ".", nil, clang, "-std=c++17", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
		"-I", "rt", "testdata/stcheck.cpp", "-o", bin)

	var inputs [][]byte
	corpus, err := filepath.Glob("../../compiler/tensor/testdata/fuzz/FuzzReadSafetensors/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range corpus {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "[]byte(") {
			t.Fatalf("%s: not a go test fuzz v1 file of one []byte", path)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		inputs = append(inputs, []byte(s))
	}
	if len(inputs) < 100 {
		t.Fatalf("only %d corpus files", len(inputs))
	}
	// Well-formed files of every readable dtype, and their mutations.
	var valid [][]byte
	for _, x := range inputs {
		if _, err := tensor.ReadSafetensors(x); err == nil && len(x) > 16 {
			valid = append(valid, x)
		}
	}
	var w bytes.Buffer
	if err := tensor.WriteSafetensors(&w, params.Init(compile(t, "../../spec/lenet5.yaml"), 3), map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	valid = append(valid, w.Bytes())
	r := rand.New(rand.NewPCG(1, 2))
	for _, v := range valid {
		for range 200 {
			m := slices.Clone(v)
			switch r.IntN(4) {
			case 0:
				m = m[:r.IntN(len(m))]
			case 1:
				m[r.IntN(len(m))] ^= byte(1 << r.IntN(8))
			case 2:
				i := 8 + r.IntN(len(m)-8)
				const syntax = "{}[]\":,0123456789 -.eE\\u"
				m[i] = syntax[r.IntN(len(syntax))]
			case 3:
				binary.LittleEndian.PutUint64(m, binary.LittleEndian.Uint64(m)+uint64(r.IntN(5))-2)
			}
			inputs = append(inputs, m)
		}
	}

	var stdin bytes.Buffer
	var want strings.Builder
	accepted := 0
	for _, x := range inputs {
		stdin.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(x))))
		stdin.Write(x)
		f, err := tensor.ReadSafetensors(x)
		if err != nil {
			want.WriteString("error\n")
			continue
		}
		accepted++
		fmt.Fprintf(&want, "ok %d\n", len(f.Order))
		for _, name := range f.Order {
			tn := f.Tensors[name]
			var dims []string
			for _, d := range tn.Shape {
				dims = append(dims, strconv.Itoa(d))
			}
			fmt.Fprintf(&want, "%x %s [%s] ", name, f.DTypes[name], strings.Join(dims, " "))
			if tn.Data == nil && f.DTypes[name] != "F32" && f.DTypes[name] != "F16" && f.DTypes[name] != "BF16" {
				want.WriteString("-\n")
				continue
			}
			h := fnv.New64a()
			for _, v := range tn.Data {
				h.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
			}
			fmt.Fprintf(&want, "%016x\n", h.Sum64())
		}
	}
	cmd := exec.Command(bin)
	cmd.Stdin = &stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("stcheck: %v\n%s", err, stderr.String())
	}
	if diff := cmp.Diff(strings.Split(want.String(), "\n"), strings.Split(string(got), "\n")); diff != "" {
		t.Errorf("the C++ and Go readers disagree (-go +c++):\n%s", diff)
	}
	t.Logf("%d files, %d accepted", len(inputs), accepted)
}

// wrapperTest is the test TestGoWrapper adds to a generated package.
const wrapperTest = `//go:build cuda

package lenet5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
)

func floats(t *testing.T, path string) []float32 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

func TestWrapper(t *testing.T) {
	m, err := Load("testdata/w.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	var in [InputLen]float32
	copy(in[:], floats(t, "testdata/x.bin"))
	want := floats(t, "testdata/want.bin")
	scale := 1e-30
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	// Concurrent calls on one Model are serialised.
	outs := make([][OutputLen]float32, 4)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.Infer(&outs[i], &in); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, out := range outs {
		for i, v := range want {
			if d := math.Abs(float64(out[i] - v)); !(d <= 1e-4*scale) {
				t.Fatalf("output %d is %g, want %g", i, out[i], v)
			}
		}
	}
	if got := m.Devices(); len(got) != GPUs {
		t.Errorf("Devices() = %v", got)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Infer(&outs[0], &in); err == nil {
		t.Error("Infer after Close succeeded")
	}

	var e *Error
	if _, err := Load("testdata/missing.safetensors"); !errors.As(err, &e) || e.Code != 2 || !strings.Contains(e.Msg, "missing.safetensors") {
		t.Errorf("Load of a missing file: %v", err)
	}
	if _, err := New(bytes.NewReader([]byte("junk"))); !errors.As(err, &e) || e.Code != 3 {
		t.Errorf("New of junk: %v", err)
	}
	data, err := os.ReadFile("testdata/w.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	m2, err := New(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if err := m2.Infer(&outs[1], &in); err != nil || outs[1] != outs[0] {
		t.Errorf("New: %v, or a different output", err)
	}
}
`

// TestGoWrapper builds the generated cgo wrapper of spec/lenet5.yaml (two
// GPUs, model parallel, batch 2) with -tags cuda against the generated
// CUDA code compiled for the emulator of testdata/emu, standing in for
// libcudart, and runs a test of its API with the go tool: loading, Infer
// from several goroutines, the errors, Close.
func TestGoWrapper(t *testing.T) {
	clang := needClang(t)
	if _, err := exec.LookPath("ar"); err != nil {
		t.Skip("no ar")
	}
	emu, err := filepath.Abs("testdata/emu")
	if err != nil {
		t.Fatal(err)
	}
	const batch = 2
	path := "../../spec/lenet5.yaml"
	dir := filepath.Join(t.TempDir(), "lenet5")
	if err := os.MkdirAll(filepath.Join(dir, "testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, generate(t, path, cuda.Options{GPUs: 2, Batch: batch}))
	plain, err := compiler.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ts := params.Init(plain, 1)
	var w bytes.Buffer
	if err := tensor.WriteSafetensors(&w, ts, nil); err != nil {
		t.Fatal(err)
	}
	x := params.Input(plain, batch, 2)
	res, err := ref.Run(plain, params.Effective(plain, params.Map(ts)), x, batch)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"go.mod":                 []byte("module example.com/lenet5\n\ngo 1.26\n"),
		"lenet5_emu_test.go":     []byte(wrapperTest),
		"testdata/w.safetensors": w.Bytes(),
		"testdata/x.bin":         floatBytes(x),
		"testdata/want.bin":      floatBytes(res.Output(plain)),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	flags := []string{"-std=c++20", "-O1", "-fPIC", "-DCNNC_EMULATE", "-I", emu, "-I", "."}
	run(t, dir, nil, clang, append(flags, "-x", "c++", "-c", "lenet5.cu", "-o", "lenet5.o")...)
	run(t, dir, nil, clang, append(flags, "-c", filepath.Join(emu, "emu.cpp"), "-o", "emu.o")...)
	run(t, dir, nil, "ar", "rcs", "liblenet5_cuda.a", "lenet5.o")
	run(t, dir, nil, "ar", "rcs", "libcudart.a", "emu.o")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out := run(t, dir, []string{"CGO_ENABLED=1", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local", "CNNC_EMU_DEVICES=2"},
		gobin, "test", "-tags", "cuda", "-count=1", "-v", ".")
	if !strings.Contains(out, "--- PASS: TestWrapper") {
		t.Errorf("go test in the generated package:\n%s", out)
	}
}
