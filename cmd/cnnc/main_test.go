package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cnnc/cnnc/compiler/tensor"
)

// TestMain lets the test binary act as cnnc itself, so the tests below can
// run it as a real process (exit status, streams) without building it.
func TestMain(m *testing.M) {
	if os.Getenv("CNNC_BE_MAIN") == "1" {
		// CNNC_TEST_HOLD=file stops the command just before it commits its
		// outputs, with every temporary written, and creates file to say so:
		// the moment output_test.go interrupts it.
		if hold := os.Getenv("CNNC_TEST_HOLD"); hold != "" {
			beforeCommit = func() {
				os.WriteFile(hold, nil, 0o644)
				time.Sleep(time.Hour)
			}
		}
		main()
	}
	os.Exit(m.Run())
}

// cacheDir keeps -engine compiled's builds out of the user's cache.
var cacheDir = filepath.Join(os.TempDir(), "cnnc-test-cache")

// cnnc runs the test binary as cnnc and returns its streams and exit status.
func cnnc(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CNNC_BE_MAIN=1", "XDG_CACHE_HOME="+cacheDir, "GOCACHE="+goCaches(t)[0])
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

const lenet = "../../spec/lenet5.yaml"

func TestExitStatus(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: m\ninput: [1, 4, 4]\nlayers:\n  - {name: c, op: conv, filters: 2, kernel: 9}\n"), 0o644)
	tests := []struct {
		args     []string
		code     int
		out, err string // substrings expected in stdout and stderr
	}{
		{[]string{}, 2, "", "Usage:"},
		{[]string{"help"}, 0, "The commands are:", ""},
		{[]string{"help", "run"}, 0, "-engine", ""},
		{[]string{"run", "-h"}, 0, "usage: cnnc run", ""},
		{[]string{"frob"}, 2, "", `unknown command "frob"`},
		{[]string{"check"}, 2, "", "check takes 1 to"},
		{[]string{"check", lenet, "-nope"}, 2, "", "flag provided but not defined: -nope"},
		{[]string{"check", lenet}, 0, "ok: lenet5, 12 layers, 61,706 parameters", ""},
		{[]string{"check", bad}, 1, "", bad + ":4:37: c: kernel 9 is larger than the padded input 4"},
		{[]string{"check", filepath.Join(dir, "missing.yaml")}, 1, "", "no such file"},
		{[]string{"shapes", lenet}, 0, "total", ""},
		{[]string{"passes", "-list"}, 0, "foldBatchNorm", ""},
		{[]string{"passes", lenet, "-final"}, 0, "act=tanh", ""},
		{[]string{"passes", "-disable", "inferShapes", lenet}, 1, "", "required"},
		{[]string{"passes", lenet, "-plan", "-batch", "4"}, 0, "conv1  conv     im2col+gemm 1x(M6 N784 K25)", ""},
		{[]string{"passes", lenet, "-plan", "-batch", "0"}, 2, "", "-batch must be in"},
		{[]string{"weights", "init", lenet}, 2, "", "needs -o"},
		{[]string{"weights", "frob", lenet, "-o", "x"}, 2, "", "unknown weights subcommand"},
		{[]string{"run", lenet, "-engine", "gpu"}, 2, "", "unknown -engine"},
		{[]string{"bench", lenet, "-runs", "3", "-warmup", "1"}, 0, "conv1  conv [tanh1]", ""},
		{[]string{"bench", lenet, "-runs", "0"}, 2, "", "must be positive"},
		{[]string{"bench", lenet, "-runs", "2", "-impl", "purego"}, 0, "purego kernels", ""},
		{[]string{"bench", lenet, "-impl", "vax"}, 1, "", `implementation "vax" is not available`},
		{[]string{"compile", lenet, "-o", dir, "-precision", "fp16"}, 2, "", "-precision must be fp32 or bf16"},
		{[]string{"run", lenet, "-weights", filepath.Join(dir, "none.safetensors")}, 1, "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := cnnc(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout containing %q and stderr containing %q", code, tt.code, out, errOut, tt.out, tt.err)
			}
		})
	}
}

// TestRunEndToEnd makes weights and an input with the CLI, runs the
// network with flags after the arguments, and reads the output back.
func TestRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	w, x, y := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	yi := filepath.Join(dir, "yi.npy")
	for _, args := range [][]string{
		{"weights", "init", lenet, "-seed", "3", "-o", w},
		{"input", "-batch", "3", lenet, "-o", x},
		{"run", lenet, "-weights", w, "-input", x, "-output", y},
		{"run", "-engine", "interp", lenet, "-weights", w, "-input", x, "-output", yi},
	} {
		if out, errOut, code := cnnc(t, args...); code != 0 {
			t.Fatalf("cnnc %v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	shape, data, err := tensor.LoadNpy(y)
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := tensor.LoadNpy(yi)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if d := want[i] - data[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("compiled engine: element %d is %g, interp %g", i, data[i], want[i])
		}
	}
	if !slices.Equal(shape, []int{3, 10}) {
		t.Fatalf("output shape %v, want [3 10]", shape)
	}
	for b := range 3 {
		sum := float32(0)
		for _, v := range data[b*10 : (b+1)*10] {
			sum += v
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("image %d: softmax sums to %g", b, sum)
		}
	}
	// A failing run leaves no output behind, not even a partial one.
	os.Remove(y)
	if _, _, code := cnnc(t, "run", lenet, "-weights", x, "-output", y); code != 1 {
		t.Errorf("run with an .npy as weights: exit %d, want 1", code)
	}
	if _, err := os.Stat(y); !os.IsNotExist(err) {
		t.Errorf("failed run left %s behind", y)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("directory holds %d files after a failed run, want 3", len(entries))
	}
}

// TestWeightsStable pins the bytes of `cnnc weights init`: the same seed
// must give the same file on every machine and every cnnc version, because
// golden outputs depend on it.
func TestWeightsStable(t *testing.T) {
	dir := t.TempDir()
	var sums []string
	for i := range 2 {
		p := filepath.Join(dir, fmt.Sprint(i))
		if _, e, code := cnnc(t, "weights", "init", lenet, "-o", p); code != 0 {
			t.Fatal(e)
		}
		b, _ := os.ReadFile(p)
		sums = append(sums, fmt.Sprintf("%x", sha256.Sum256(b)))
	}
	const want = "2734a9dd72be61aab2a76dfdd30e07335115df8d49d5556745f546280f9272fb"
	if sums[0] != sums[1] {
		t.Fatalf("two runs differ: %s %s", sums[0], sums[1])
	}
	if sums[0] != want {
		t.Errorf("weights init -seed 1 lenet5 has sha256 %s, want %s", sums[0], want)
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, args := range [][]string{
		{"-seed", "4", "a", "b"},
		{"a", "-seed", "4", "b"},
		{"a", "b", "-seed=4"},
	} {
		e := &env{}
		c := lookup("weights")
		fs := newFlagSet(c)
		c.setup(fs, e)
		pos, err := parseInterspersed(fs.FlagSet, args)
		if err != nil || !slices.Equal(pos, []string{"a", "b"}) || fs.Lookup("seed").Value.String() != "4" {
			t.Errorf("%v: got %v, %v, seed %s", args, pos, err, fs.Lookup("seed").Value)
		}
	}
	fs := newFlagSet(lookup("check"))
	pos, err := parseInterspersed(fs.FlagSet, []string{"a", "--", "-b"})
	if err != nil || !slices.Equal(pos, []string{"a", "-b"}) {
		t.Errorf("after --: got %v, %v", pos, err)
	}
}
