package codegen_test

import (
	"bytes"
	"flag"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under golden/compiled")

// goldenPackages are compiled, file by file, into golden/compiled/<name>:
// what Generate writes is reviewed as text, like stringer's output.
var goldenPackages = []struct {
	name, path string
	batch      int
}{
	{"lenet5", "../spec/lenet5.yaml", 1},
	{"spatial_softmax", "../compiler/testdata/corners/spatial_softmax.yaml", 2},
}

// TestCompiledGolden compares Generate's files with golden/compiled/<name>/<file>.golden
// (names the go tool ignores); go test ./codegen -update rewrites them.
func TestCompiledGolden(t *testing.T) {
	for _, p := range goldenPackages {
		t.Run(p.name, func(t *testing.T) {
			files := generate(t, p.path, codegen.Options{Batch: p.batch})
			dir := filepath.Join("..", "golden", "compiled", p.name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, f := range files {
					if err := os.WriteFile(filepath.Join(dir, f.Name+".golden"), f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var names []string
			for _, f := range files {
				names = append(names, f.Name+".golden")
				want, err := os.ReadFile(filepath.Join(dir, f.Name+".golden"))
				if err != nil {
					t.Errorf("%v (run go test ./codegen -update to create it)", err)
					continue
				}
				// Compared as lines, so that the diff shows lines.
				if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(f.Data), "\n")); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s", f.Name, diff)
				}
			}
			// A golden file Generate no longer writes is stale.
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if !slices.Contains(names, e.Name()) {
					t.Errorf("%s: Generate writes no %s (run go test ./codegen -update to remove it)", dir, strings.TrimSuffix(e.Name(), ".golden"))
				}
			}
		})
	}
}

func generate(t *testing.T, path string, opt codegen.Options) []codegen.File {
	t.Helper()
	g, err := compiler.Compile(path, passes.Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	files, err := codegen.Generate(g, opt)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// generatedHeader is the line `go help generate` asks generated files to
// start with; tools (gopls, linters, GitHub) recognise it.
var generatedHeader = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

// TestGeneratedFiles checks, for every shipped and corner spec (and with
// the options that change the output), that Generate is deterministic, that
// every file carries the generated-code header, that the Go files are
// gofmt-clean and import only the standard library and
// golang.org/x/sys/cpu, and that file names are unique.
func TestGeneratedFiles(t *testing.T) {
	var paths []string
	for _, glob := range []string{"../spec/*.yaml", "../compiler/testdata/corners/*.yaml"} {
		m, err := filepath.Glob(glob)
		if err != nil || len(m) == 0 {
			t.Fatalf("no specs match %s (%v)", glob, err)
		}
		paths = append(paths, m...)
	}
	opts := []codegen.Options{
		{},
		{Batch: 3, Package: "other", Args: "compile -batch 3 -pkg other", SpecSHA256: strings.Repeat("ab", 32), Precision: "bf16"},
		{Batch: 8, Embed: "weights.safetensors", WeightsSHA256: strings.Repeat("cd", 32)},
	}
	if !testenv.Long() {
		opts = opts[:1]
	}
	for _, path := range paths {
		for i, opt := range opts {
			name := strings.TrimSuffix(filepath.Base(path), ".yaml") + "/" + strconv.Itoa(i)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				g, err := compiler.Compile(path, passes.Options{Verify: true})
				if err != nil {
					t.Fatal(err)
				}
				files, err := codegen.Generate(g, opt)
				if err != nil {
					t.Fatal(err)
				}
				// The same graph again, and a graph compiled afresh: the same bytes.
				again, err := codegen.Generate(g, opt)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(files, again); diff != "" {
					t.Errorf("Generate is not deterministic on one graph (-first +second):\n%s", diff)
				}
				if diff := cmp.Diff(files, generate(t, path, opt)); diff != "" {
					t.Errorf("Generate is not deterministic on a recompiled graph (-first +second):\n%s", diff)
				}
				seen := map[string]bool{}
				for _, f := range files {
					if seen[f.Name] {
						t.Errorf("two files named %s", f.Name)
					}
					seen[f.Name] = true
					checkFile(t, f, opt.Args)
				}
				for _, want := range []string{"model.go", "layers.go", "weights.go", "kernels_amd64.s", "rt_model.go", "rt_dispatch_amd64.go", "rt_dispatch_other.go"} {
					if !seen[want] {
						t.Errorf("no %s among the files", want)
					}
				}
			})
		}
	}
}

func checkFile(t *testing.T, f codegen.File, args string) {
	t.Helper()
	if args == "" {
		args = "compile"
	}
	if !strings.HasSuffix(f.Name, ".go") && !strings.HasSuffix(f.Name, ".s") {
		t.Errorf("%s: unexpected file type", f.Name)
		return
	}
	first, _, _ := bytes.Cut(f.Data, []byte("\n"))
	if want := "// Code generated by cnnc " + args + "; DO NOT EDIT."; string(first) != want || !generatedHeader.Match(first) {
		t.Errorf("%s: first line is %q, want %q", f.Name, first, want)
	}
	if !strings.HasSuffix(f.Name, ".go") {
		return
	}
	if src, err := format.Source(f.Data); err != nil {
		t.Errorf("%s: %v", f.Name, err)
	} else if !bytes.Equal(src, f.Data) {
		t.Errorf("%s is not gofmt-clean:\n%s", f.Name, cmp.Diff(string(src), string(f.Data)))
	}
	ast, err := parser.ParseFile(token.NewFileSet(), f.Name, f.Data, parser.ImportsOnly)
	if err != nil {
		t.Errorf("%s: %v", f.Name, err)
		return
	}
	for _, imp := range ast.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			t.Errorf("%s: import %s: %v", f.Name, imp.Path.Value, err)
			continue
		}
		first, _, _ := strings.Cut(p, "/")
		if strings.Contains(first, ".") && p != "golang.org/x/sys/cpu" {
			t.Errorf("%s imports %s: generated code may import only the standard library and golang.org/x/sys/cpu", f.Name, p)
		}
	}
}
