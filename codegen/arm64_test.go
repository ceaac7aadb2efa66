package codegen_test

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
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
// multiply folded into the filters, depthwise layers (NEON), dense
// layers at batch 1 and 3 in fp32 and bf16 (BF16B), and Winograd GEMMs.
// The exhaustive suite runs every spec in spec/ and every corner spec at
// batches 1 and 3 (the AlexNets and other big networks at batch 1), and
// the Winograd edge specs at every batch, and then the small ones again
// with -tags purego.
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
	goRun(t, goTool, dir, env, "vet", "-tags", "purego", "./...")
	args := append([]string{"test", "-json"}, execArgs...)
	if long {
		args = append(args, "-timeout", "60m")
	}
	goTest(t, goTool, dir, env, cases, false, append(args, "./...")...)
	if long {
		// -tags purego on arm64: Implementations() is purego alone. The
		// big networks are built (vet above), not rerun: only the
		// dispatch differs from the purego implementation just tested.
		var small []e2eCase
		args = append(args, "-tags", "purego")
		for _, c := range cases {
			if !c.big {
				small = append(small, c)
				args = append(args, "./"+c.pkg)
			}
		}
		goTest(t, goTool, dir, env, small, true, args...)
	}
}

// countTest is a test file added to a generated package by
// TestInstructionCountsARM64: it runs the steps of one inference with the
// implementation CNNC_COUNT_IMPL on one worker, calling cnncPhase before
// each layer's steps and after the last, and writes each phase's layer
// (name, multiply-adds of the batch) to CNNC_COUNT_OUT.
const countTest = `package PACKAGE

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

//go:noinline
func cnncPhase() {}

func TestCountPhases(t *testing.T) {
	impl := os.Getenv("CNNC_COUNT_IMPL")
	if impl == "" {
		t.Skip("CNNC_COUNT_IMPL is not set")
	}
	m := testModel(t, randomWeights(1), impl)
	m.SetThreads(1)
	x := randomInput(2)
	var out [OutputLen]float32
	m.Infer(&out, x) // the first inference, uncounted
	// qemu counts the instructions of the thread that calls cnncPhase.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m.src = x[:]
	var layers []int
	for _, s := range m.steps {
		if len(layers) == 0 || s.layer != layers[len(layers)-1] {
			cnncPhase()
			layers = append(layers, s.layer)
		}
		for i := range s.n {
			s.f(0, s.first+i)
		}
	}
	cnncPhase()
	var b strings.Builder
	for _, l := range layers {
		fmt.Fprintf(&b, "%s\t%d\n", Layers[l].Name, Layers[l].MACs*Batch)
	}
	if err := os.WriteFile(os.Getenv("CNNC_COUNT_OUT"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
`

// TestInstructionCountsARM64 (exhaustive suite) counts the instructions
// one inference executes on arm64 under qemu-aarch64-static, per layer,
// with the neon and the purego implementation (one worker, batch 1, after
// a first inference): internal/qemu's CountPhases over the steps the
// Model runs, marked layer by layer. Emulated instruction counts say
// nothing of cache misses or of how many instructions a core retires per
// cycle; they compare how much work each implementation asks for.
func TestInstructionCountsARM64(t *testing.T) {
	testenv.SkipUnlessLong(t, "instruction counts of generated packages under qemu")
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is not on PATH (%v)", err)
	}
	testenv.LookPath(t, qemu.Command, qemu.Install)
	dir := t.TempDir()
	writeModule(t, dir)
	for _, path := range []string{"../spec/lenet5.yaml", "../spec/resnet_small.yaml", "../compiler/testdata/corners/mobile_dw.yaml"} {
		spec := strings.TrimSuffix(filepath.Base(path), ".yaml")
		c := e2eCase{pkg: spec + "_b1", path: path, batch: 1, goarch: "arm64"}
		writeCase(t, dir, c)
		test := strings.ReplaceAll(countTest, "PACKAGE", c.pkg)
		if err := os.WriteFile(filepath.Join(dir, c.pkg, "count_test.go"), []byte(test), 0o644); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, c.pkg+".test")
		goRun(t, goTool, dir, []string{"GOARCH=arm64", "CGO_ENABLED=0"}, "test", "-c", "-o", bin, "./"+c.pkg)
		if t.Failed() {
			return
		}
		// Per phase: the instructions of each function, the NEON kernels
		// (k<layer>_<name>_NEON_<variant>) counted together.
		kernel := "e2e/" + c.pkg + ".k"
		name := func(sym string) string {
			if strings.HasPrefix(sym, kernel) && strings.Contains(sym, "_NEON_") {
				return "kernels"
			}
			return strings.TrimPrefix(sym, "e2e/"+c.pkg+".")
		}
		goFuncs := map[string]int{} // neon: the other functions' instructions
		type row struct {
			layer string
			macs  int64
			n     [2]qemu.Counts // purego, neon: all instructions (FMA: the kernels')
			k     int            // neon: the kernels' instructions
		}
		var rows []row
		for i, impl := range []string{"purego", "neon"} {
			out := filepath.Join(dir, c.pkg+"."+impl+".layers")
			phases := qemu.CountPhases(t, bin, []string{"CNNC_COUNT_IMPL=" + impl, "CNNC_COUNT_OUT=" + out}, name,
				"e2e/"+c.pkg+".cnncPhase", "-test.run=^TestCountPhases$", "-test.count=1")
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if len(phases) != len(lines)+2 {
				t.Fatalf("%s %s: %d phases for %d layers", c.pkg, impl, len(phases), len(lines))
			}
			if i == 0 {
				rows = make([]row, len(lines))
			}
			for j, line := range lines {
				f := strings.Split(line, "\t")
				var macs int64
				fmt.Sscan(f[1], &macs)
				all := qemu.Counts{FMA: phases[j+1]["kernels"].FMA}
				for fn, n := range phases[j+1] {
					all.Instructions += n.Instructions
					if i == 1 && fn != "kernels" {
						goFuncs[fn] += n.Instructions
					}
				}
				rows[j].layer, rows[j].macs, rows[j].n[i] = f[0], macs, all
				if i == 1 {
					rows[j].k = phases[j+1]["kernels"].Instructions
				}
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%-10s %12s %14s %14s %7s %12s %7s %9s\n", "layer", "MACs", "purego", "neon", "ratio", "neon kernels", "FMA", "MAC/inst")
		var tot row
		line := func(r row) {
			ratio := float64(r.n[0].Instructions) / float64(max(1, r.n[1].Instructions))
			fma := 100 * float64(r.n[1].FMA) / float64(max(1, r.k))
			fmt.Fprintf(&b, "%-10s %12d %14d %14d %6.1fx %12d %6.1f%% %9.2f\n", r.layer, r.macs, r.n[0].Instructions, r.n[1].Instructions,
				ratio, r.k, fma, float64(r.macs)/float64(max(1, r.n[1].Instructions)))
		}
		for _, r := range rows {
			line(r)
			tot.macs += r.macs
			tot.k += r.k
			for i := range 2 {
				tot.n[i].Instructions += r.n[i].Instructions
				tot.n[i].FMA += r.n[i].FMA
			}
		}
		tot.layer = "total"
		line(tot)
		fns := slices.SortedFunc(maps.Keys(goFuncs), func(a, b string) int { return cmp.Compare(goFuncs[b], goFuncs[a]) })
		fmt.Fprintf(&b, "\nneon: the functions besides the kernels that execute the most instructions\n")
		for _, fn := range fns[:min(8, len(fns))] {
			fmt.Fprintf(&b, "%-40s %12d %5.1f%%\n", fn, goFuncs[fn], 100*float64(goFuncs[fn])/float64(tot.n[1].Instructions))
		}
		t.Logf("%s, batch 1, one worker: instructions executed per inference under qemu-aarch64-static (FMA: the share of the NEON kernels' instructions that are 4-lane FMLAs; MAC/inst: the layer's multiply-adds per neon instruction):\n%s", spec, b.String())
	}
}
