package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tiny is a network small enough that generating, vetting and building a
// package of it takes moments.
const tiny = `name: %s
input: [1, 8, 8]
layers:
  - {name: c1, op: conv, filters: 4, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: fc, op: dense, units: 3}
`

func writeTiny(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(tiny, "%s", name, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// snapshot maps every file under dir to its contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			rel, _ := filepath.Rel(dir, path)
			m[rel] = string(b)
		}
		return nil
	})
	return m
}

func diffSnapshots(before, after map[string]string) []string {
	var d []string
	for k, v := range after {
		if w, ok := before[k]; !ok {
			d = append(d, "+"+k)
		} else if w != v {
			d = append(d, "~"+k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			d = append(d, "-"+k)
		}
	}
	return d
}

// TestInterruptLeavesNothing stops every command that writes files at its
// worst moment, with all its temporaries written and nothing committed, by
// SIGINT and by SIGTERM. Each must exit 130 or 143 and leave the directory
// exactly as it was: no temporary, no half of its outputs, the old outputs
// untouched.
func TestInterruptLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	spec := writeTiny(t, dir, "tiny")
	w, x := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "x.npy")
	for _, args := range [][]string{{"weights", "init", spec, "-o", w}, {"input", spec, "-o", x}} {
		if _, e, code := cnnc(t, args...); code != 0 {
			t.Fatalf("%v: %s", args, e)
		}
	}
	pkg := filepath.Join(dir, "pkg")
	if _, e, code := cnnc(t, "compile", spec, "-o", pkg); code != 0 {
		t.Fatal(e)
	}
	commands := map[string][]string{
		"compile over a package":   {"compile", spec, "-o", pkg, "-embed", w, "-batch", "2"},
		"compile into a new dir":   {"compile", spec, "-o", filepath.Join(dir, "new", "pkg"), "-embed", w},
		"compile -target cuda":     {"compile", spec, "-o", filepath.Join(dir, "cu"), "-target", "cuda"},
		"weights init over a file": {"weights", "init", spec, "-o", w, "-seed", "9"},
		"input over a file":        {"input", spec, "-o", x, "-seed", "9"},
		"run -output":              {"run", "-engine", "interp", spec, "-weights", w, "-input", x, "-output", filepath.Join(dir, "y.npy")},
		"graph -o file.dot":        {"graph", spec, "-o", filepath.Join(dir, "g.dot")},
		// import and weights import write through the same outputs, but
		// need an ONNX or PyTorch file to get that far.
	}
	for name, args := range commands {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(name+"/"+sig.String(), func(t *testing.T) {
				before := snapshot(t, dir)
				hold := filepath.Join(t.TempDir(), "held")
				cmd := exec.Command(os.Args[0], args...)
				cmd.Env = append(os.Environ(), "CNNC_BE_MAIN=1", "CNNC_TEST_HOLD="+hold, "XDG_CACHE_HOME="+cacheDir, "GOCACHE="+goCaches(t)[0])
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				exited := make(chan error, 1)
				go func() { exited <- cmd.Wait() }()
				deadline := time.After(5 * time.Minute)
			wait:
				for {
					select {
					case err := <-exited:
						t.Fatalf("the command ended (%v) before its commit\n%s", err, stderr.String())
					case <-deadline:
						cmd.Process.Kill()
						t.Fatalf("the command never reached its commit\n%s", stderr.String())
					case <-time.After(10 * time.Millisecond):
						if _, err := os.Stat(hold); err == nil {
							break wait
						}
					}
				}
				// Every output is staged now: the temporaries exist.
				if d := diffSnapshots(before, snapshot(t, dir)); len(d) == 0 {
					t.Fatalf("nothing staged before the commit")
				}
				cmd.Process.Signal(sig)
				err := <-exited
				want := 128 + int(sig)
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != want {
					t.Errorf("exit %v, want status %d\n%s", err, want, stderr.String())
				}
				if d := diffSnapshots(before, snapshot(t, dir)); len(d) > 0 {
					t.Errorf("interrupted command changed the directory: %v", d)
				}
			})
		}
	}
}

// TestCompileTransaction: a compile that fails leaves the output as it was,
// and a compile that succeeds removes what an earlier compile generated and
// this one does not, unless the user edited it since.
func TestCompileTransaction(t *testing.T) {
	dir := t.TempDir()
	spec := writeTiny(t, dir, "tiny")
	pkg := filepath.Join(dir, "pkg")

	// Failure into a new directory: nothing is created.
	other := filepath.Join(dir, "other.safetensors")
	if _, e, code := cnnc(t, "weights", "init", lenet, "-o", other); code != 0 {
		t.Fatal(e)
	}
	if _, e, code := cnnc(t, "compile", spec, "-o", pkg, "-embed", other); code != 1 || !strings.Contains(e, "cannot be embedded") {
		t.Fatalf("compile -embed with lenet5's weights: exit %d, want 1 and an error\n%s", code, e)
	}
	if _, err := os.Stat(pkg); !os.IsNotExist(err) {
		t.Fatalf("a failed compile created %s", pkg)
	}

	// A preprocess section adds preprocess.go; the second compile drops it.
	withPP := filepath.Join(dir, "pp", "tiny.yaml")
	os.MkdirAll(filepath.Dir(withPP), 0o755)
	src, _ := os.ReadFile(spec)
	os.WriteFile(withPP, bytes.Replace(src, []byte("layers:"), []byte("preprocess: {channels: gray}\nlayers:"), 1), 0o644)
	for _, edit := range []bool{false, true} {
		if _, e, code := cnnc(t, "compile", withPP, "-o", pkg); code != 0 {
			t.Fatal(e)
		}
		pp := filepath.Join(pkg, "preprocess.go")
		if edit {
			b, _ := os.ReadFile(pp)
			os.WriteFile(pp, append(b, "// my change\n"...), 0o644)
		}
		os.WriteFile(filepath.Join(pkg, "notes.txt"), []byte("mine"), 0o644)
		before := snapshot(t, pkg)

		// A failing compile over it changes nothing.
		if _, _, code := cnnc(t, "compile", spec, "-o", pkg, "-embed", other); code != 1 {
			t.Fatalf("compile -embed with wrong weights: exit %d, want 1", code)
		}
		if d := diffSnapshots(before, snapshot(t, pkg)); len(d) > 0 {
			t.Fatalf("a failed compile changed the package: %v", d)
		}
		if d, _ := os.ReadDir(dir); len(d) != 4 {
			t.Errorf("%d entries beside the package after a failed compile, want 4 (a temporary left?)", len(d))
		}

		_, e, code := cnnc(t, "compile", spec, "-o", pkg)
		if code != 0 {
			t.Fatal(e)
		}
		_, err := os.Stat(pp)
		if kept := err == nil; kept != edit {
			t.Errorf("edited %v: preprocess.go kept %v\n%s", edit, kept, e)
		}
		if edit && !strings.Contains(e, "edited since; not removed") {
			t.Errorf("no warning for the kept edited file:\n%s", e)
		}
		if _, err := os.Stat(filepath.Join(pkg, "notes.txt")); err != nil {
			t.Errorf("the user's notes.txt was removed")
		}
		os.Remove(pp)
	}

	// A package from a cnnc without cnnc.sum: its generated files go.
	os.Remove(filepath.Join(pkg, manifestName))
	stale := filepath.Join(pkg, "tiny.go")
	os.WriteFile(stale, []byte("// Code generated by cnnc compile; DO NOT EDIT.\n\npackage tiny\n"), 0o644)
	if _, e, code := cnnc(t, "compile", spec, "-o", pkg); code != 0 {
		t.Fatal(e)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("the old API file tiny.go of a package without cnnc.sum was kept")
	}
}

// TestOutputIsNotInput: no command may overwrite one of its inputs, by
// whatever path it is named.
func TestOutputIsNotInput(t *testing.T) {
	dir := t.TempDir()
	spec := writeTiny(t, dir, "tiny")
	pthFile, onnxFile := filepath.Join(dir, "m.pth"), filepath.Join(dir, "m.onnx")
	for _, p := range []string{pthFile, onnxFile} {
		os.WriteFile(p, []byte("the user's only copy"), 0o644)
	}
	w := filepath.Join(dir, "w.safetensors")
	if _, e, code := cnnc(t, "weights", "init", spec, "-o", w); code != 0 {
		t.Fatal(e)
	}
	dotted := filepath.Join(dir, ".", "sub", "..", "m.pth") // the same file by another path
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	for _, args := range [][]string{
		{"weights", "import", pthFile, "-spec", spec, "-o", pthFile},
		{"weights", "import", pthFile, "-spec", spec, "-o", dotted},
		{"weights", "import", pthFile, "-spec", spec, "-o", spec},
		{"import", onnxFile, "-o", filepath.Join(dir, "m.yaml"), "-weights", onnxFile},
		{"import", onnxFile, "-o", onnxFile},
		{"weights", "init", spec, "-o", spec},
		{"input", spec, "-o", spec},
		{"run", "-engine", "interp", spec, "-weights", w, "-output", w},
		{"graph", spec, "-o", spec + ".dot"}, // not an input: allowed
	} {
		before := snapshot(t, dir)
		_, e, code := cnnc(t, args...)
		if args[0] == "graph" {
			if code != 0 {
				t.Errorf("%v: exit %d\n%s", args, code, e)
			}
			continue
		}
		if code != 2 || !strings.Contains(e, "is also an input") {
			t.Errorf("%v: exit %d, want 2 and \"is also an input\"\n%s", args, code, e)
		}
		if d := diffSnapshots(before, snapshot(t, dir)); len(d) > 0 {
			t.Errorf("%v changed %v", args, d)
		}
	}
}

// TestPackageNames compiles packages named after each of Go's file-name
// rules (runtime files, _test, GOOS and GOARCH suffixes, the API file) and
// builds and vets them all: none may break the build. main is refused at
// the name's position.
func TestPackageNames(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module names\n\ngo 1.26.0\n\nrequire golang.org/x/sys v0.50.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("../../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
	names := []string{"layers", "weights", "dispatch_other", "dispatch_amd64", "rt_io", "kernels_amd64", "model", "model_test",
		"net_test", "net_windows", "net_arm64", "net_linux_amd64", "preprocess", "vec"}
	for _, name := range names {
		spec := writeTiny(t, dir, name)
		if _, e, code := cnnc(t, "compile", spec, "-o", filepath.Join(dir, "p_"+name)); code != 0 {
			t.Fatalf("compile %s: exit %d\n%s", name, code, e)
		}
	}
	// -pkg takes the same names.
	if _, e, code := cnnc(t, "compile", filepath.Join(dir, "layers.yaml"), "-pkg", "x_windows", "-o", filepath.Join(dir, "p_pkg")); code != 0 {
		t.Fatalf("compile -pkg x_windows: exit %d\n%s", code, e)
	}
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "-run", "TestInfer$", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}

	spec := writeTiny(t, dir, "main")
	if _, e, code := cnnc(t, "compile", spec, "-o", filepath.Join(dir, "p_main")); code != 1 || !strings.Contains(e, spec+":1:7: name: \"main\"") {
		t.Errorf("compile of a spec named main: exit %d, want 1 and an error at %s:1:7\n%s", code, spec, e)
	}
	if _, e, code := cnnc(t, "compile", filepath.Join(dir, "layers.yaml"), "-pkg", "main", "-o", filepath.Join(dir, "p_main")); code == 0 {
		t.Errorf("compile -pkg main succeeded\n%s", e)
	}
}

// TestModulePathFromDir: outside any module, compile makes the package a
// module of its own whose path is valid whatever the directory is called,
// so that the documented `cd dir && go build` works.
func TestModulePathFromDir(t *testing.T) {
	dir := t.TempDir()
	spec := writeTiny(t, dir, "tiny")
	for _, name := range []string{"sp ace/my net", "plain", "v1.0 (old)"} {
		pkg := filepath.Join(dir, "out", name)
		if _, e, code := cnnc(t, "compile", spec, "-o", pkg); code != 0 {
			t.Fatal(e)
		}
		cmd := exec.Command("go", "build", ".")
		cmd.Dir = pkg
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			mod, _ := os.ReadFile(filepath.Join(pkg, "go.mod"))
			t.Errorf("-o %q: go build: %v\n%s\ngo.mod:\n%s", name, err, out, mod)
		}
	}
}
