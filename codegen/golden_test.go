package codegen_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/internal/golden"
	"github.com/cnnc/cnnc/internal/testenv"
)

// goldenPackages are compiled, file by file, into golden/compiled/<name>:
// what Generate writes for each network is reviewed as text, like
// stringer's output. The goldens keep what is specific to the network; the
// rest is listed in omitted.golden (see omitted).
var goldenPackages = []struct {
	name, path string
	batch      int
	asm        bool // keep the assembly's text, not only its SHA-256
}{
	{"lenet5", "../spec/lenet5.yaml", 1, true},
	{"spatial_softmax", "../compiler/testdata/corners/spatial_softmax.yaml", 2, false},
}

// TestCompiledGolden compares Generate's files with golden/compiled/<name>/<file>.golden
// (names the go tool ignores); go test ./codegen -update rewrites them.
func TestCompiledGolden(t *testing.T) {
	for _, p := range goldenPackages {
		t.Run(p.name, func(t *testing.T) {
			files := generate(t, p.path, codegen.Options{Batch: p.batch})
			want := map[string][]byte{"omitted.golden": omitted(files, p.asm)}
			for _, f := range files {
				if !isRuntimeCopy(f.Name) && (p.asm || !strings.HasSuffix(f.Name, ".s")) {
					want[f.Name+".golden"] = f.Data
				}
			}
			golden.CheckDir(t, filepath.Join("..", "golden", "compiled", p.name), want)
		})
	}
}

// omitted lists the files of a golden package that are not kept as text:
//   - the copies of codegen/rt (rt_X.go), whose text is codegen/rt/X.go's,
//     checked by TestGeneratedFiles for every spec; only which of them the
//     network gets is its own;
//   - without asm, the assembly, by SHA-256 and line count: a change still
//     fails the test and shows in review as a changed line, but thousands
//     of lines of generated AVX code are not read there. One network's
//     assembly is kept as text (lenet5's: both GEMM and vector kernels) to
//     show what the generator writes; asmgen/gemm and asmgen/vec test the
//     kernels against their references, and the end-to-end tests run them.
func omitted(files []codegen.File, asm bool) []byte {
	var b strings.Builder
	b.WriteString("# Files Generate writes for this network that are not kept here as text.\n")
	b.WriteString("# rt_X.go: codegen/rt/X.go with the package renamed (TestGeneratedFiles checks it).\n")
	if !asm {
		b.WriteString("# Assembly: its SHA-256 and line count; lenet5's golden keeps assembly as text.\n")
	}
	for _, f := range files {
		switch {
		case isRuntimeCopy(f.Name):
			fmt.Fprintf(&b, "%s\tcodegen/rt/%s\n", f.Name, strings.TrimPrefix(f.Name, "rt_"))
		case !asm && strings.HasSuffix(f.Name, ".s"):
			fmt.Fprintf(&b, "%s\tsha256 %x, %d lines\n", f.Name, sha256.Sum256(f.Data), bytes.Count(f.Data, []byte("\n")))
		}
	}
	return []byte(b.String())
}

// isRuntimeCopy reports whether a generated file is a copy of a codegen/rt file.
func isRuntimeCopy(name string) bool {
	return strings.HasPrefix(name, "rt_") && strings.HasSuffix(name, ".go")
}

// checkRuntimeCopy checks that a generated rt_X.go is codegen/rt/X.go as
// runtime.go copies it, and nothing else: the generated-code header
// (header) in place of any generator notice of the source, then the source
// with its package clause renamed to pkg. It is written out again here,
// rather than calling runtime.go, so that a change to the copying fails.
func checkRuntimeCopy(t *testing.T, f codegen.File, header, pkg string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("rt", strings.TrimPrefix(f.Name, "rt_")))
	if err != nil {
		t.Errorf("%s is no copy of a codegen/rt file: %v", f.Name, err)
		return
	}
	if bytes.HasPrefix(src, []byte("// Code generated")) {
		_, src, _ = bytes.Cut(src, []byte("\n"))
	}
	before, after, ok := bytes.Cut(src, []byte("package rt\n"))
	if !ok {
		t.Errorf("codegen/rt/%s has no package clause", strings.TrimPrefix(f.Name, "rt_"))
		return
	}
	want := header + "\n\n" + strings.TrimLeft(string(before), "\n") + "package " + pkg + "\n" + string(after)
	if want != string(f.Data) {
		t.Errorf("%s differs from codegen/rt/%s (-want +got):\n%s", f.Name, strings.TrimPrefix(f.Name, "rt_"), golden.Diff([]byte(want), f.Data))
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
					if isRuntimeCopy(f.Name) {
						pkg, args := opt.Package, opt.Args
						if pkg == "" {
							pkg = g.Name
						}
						if args == "" {
							args = "compile"
						}
						checkRuntimeCopy(t, f, "// Code generated by cnnc "+args+"; DO NOT EDIT.", pkg)
					}
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
