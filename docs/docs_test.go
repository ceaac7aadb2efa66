package docs_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The documents whose commands TestCommands runs.
var commandDocs = []string{"design.md", "spec.md", "api.md"}

// slowCommands are commands shown in the documents that go test does not
// run: they build and time or run whole networks (minutes on CI). Every
// entry must still appear in a document, so the list cannot go stale.
var slowCommands = []string{
	"cnnc bench spec/alexnet.yaml -threads 2",
}

const alexnetImport = "github.com/cnnc/cnnc/generated/alexnet"

var cnncBin string // built by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cnnc-docs-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cnncBin = filepath.Join(dir, "cnnc")
	if out, err := exec.Command("go", "build", "-o", cnncBin, "../cmd/cnnc").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building cnnc: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// block is a fenced code block of a Markdown file.
type block struct {
	file string
	info string // the fence's info string: "go", "go embed", "sh", "text", ...
	line int    // line of the first content line, 1-based
	text string
	next *block // the block right after this one, if only blank lines separate them
}

func (b *block) pos() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

func readBlocks(t *testing.T, file string) []*block {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	var blocks []*block
	var cur *block
	var body []string
	lastEnd := -10 // line index of the last closing fence
	var prev *block
	for i, l := range lines {
		if cur == nil {
			if info, ok := strings.CutPrefix(l, "```"); ok {
				cur = &block{file: file, info: strings.TrimSpace(info), line: i + 2}
				body = nil
				if prev != nil && strings.TrimSpace(strings.Join(lines[lastEnd+1:i], "")) == "" {
					prev.next = cur
				}
			}
			continue
		}
		if strings.HasPrefix(l, "```") && strings.TrimSpace(l) != "```" {
			t.Errorf("%s:%d: a fence with text after it inside a code block: %q", file, i+1, l)
		}
		if strings.TrimSpace(l) == "```" {
			cur.text = strings.Join(body, "\n") + "\n"
			blocks = append(blocks, cur)
			prev, cur, lastEnd = cur, nil, i
			continue
		}
		body = append(body, l)
	}
	if cur != nil {
		t.Fatalf("%s: unterminated code block", cur.pos())
	}
	return blocks
}

// knownImports are the packages a snippet may use without importing them.
var knownImports = map[string]string{
	"bytes": "bytes", "errors": "errors", "fmt": "fmt", "io": "io", "log": "log", "os": "os",
	"runtime": "runtime", "slices": "slices", "strings": "strings", "sync": "sync", "time": "time",
}

var selectorRE = regexp.MustCompile(`\b([a-z]+)\.[A-Z]`)

// program turns a Go snippet into a main package importing the generated
// package as alexnetPath. A snippet is a whole file (it starts with
// "package"), top-level declarations, or statements (put into a function).
// //line comments make the compiler's errors point into the document.
func program(b *block, alexnetPath string) string {
	lineDir := fmt.Sprintf("//line %s:%d\n", b.file, b.line)
	if strings.HasPrefix(b.text, "package ") {
		src := lineDir + b.text
		return strings.ReplaceAll(src, `"`+alexnetImport+`"`, `"`+alexnetPath+`"`)
	}
	var imports []string
	seen := map[string]bool{}
	for _, m := range selectorRE.FindAllStringSubmatch(b.text, -1) {
		p := knownImports[m[1]]
		if m[1] == "alexnet" {
			p = alexnetPath
		}
		if p != "" && !seen[p] {
			seen[p] = true
			imports = append(imports, fmt.Sprintf("\t%q\n", p))
		}
	}
	slices.Sort(imports)
	head := "package main\n\nimport (\n" + strings.Join(imports, "") + ")\n\nfunc main() {}\n\n"
	if _, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+b.text, 0); err == nil {
		return head + lineDir + b.text
	}
	return head + "func snippet() {\n" + lineDir + b.text + "}\n"
}

// goCmd runs the go tool in dir and fails the test with its output.
func goCmd(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestAPISnippets compiles (and vets) every go block of api.md: plain ones
// against the committed generated/alexnet, through an overlay so that
// nothing is written into the repository; "go embed" ones against a
// package compiled with -embed; and checks that blocks naming a file
// appear in that file verbatim.
func TestAPISnippets(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	overlay := map[string]string{}
	var pkgs []string
	var embedded []*block
	tmp := t.TempDir()
	n := 0
	for _, b := range readBlocks(t, "api.md") {
		fields := strings.Fields(b.info)
		if len(fields) == 0 || fields[0] != "go" {
			continue
		}
		n++
		switch {
		case len(fields) == 1:
			pkg := fmt.Sprintf("docs/snippets_overlay/s%02d", n)
			src := filepath.Join(tmp, fmt.Sprintf("s%02d.go", n))
			if err := os.WriteFile(src, []byte(program(b, alexnetImport)), 0o644); err != nil {
				t.Fatal(err)
			}
			overlay[filepath.Join(root, pkg, "main.go")] = src
			pkgs = append(pkgs, "./"+pkg)
		case fields[1] == "embed":
			embedded = append(embedded, b)
		default:
			// An excerpt: the block must appear in the named file as is.
			src, err := os.ReadFile(filepath.Join(root, fields[1]))
			if err != nil {
				t.Errorf("%s: %v", b.pos(), err)
			} else if !bytes.Contains(src, []byte(b.text)) {
				t.Errorf("%s: this excerpt is not in %s (regenerated since?):\n%s", b.pos(), fields[1], b.text)
			}
		}
	}
	if len(pkgs) < 5 || len(embedded) == 0 {
		t.Fatalf("found %d plain and %d embed go blocks in api.md; the parser is broken", len(pkgs), len(embedded))
	}
	ov, _ := json.Marshal(map[string]any{"Replace": overlay})
	ovPath := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovPath, ov, 0o644); err != nil {
		t.Fatal(err)
	}
	// go build, not vet: vet runs in each package's directory, which the
	// overlay does not create. Several packages: compiled, not linked.
	goCmd(t, root, nil, append([]string{"build", "-overlay", ovPath}, pkgs...)...)

	// The embed blocks, against lenet5 compiled as package alexnet with
	// -embed, in a module of its own that cnnc writes (offline).
	mod := filepath.Join(tmp, "alexnet")
	weights := filepath.Join(tmp, "w.safetensors")
	for _, args := range [][]string{
		{"weights", "init", "../spec/lenet5.yaml", "-o", weights},
		{"compile", "../spec/lenet5.yaml", "-pkg", "alexnet", "-embed", weights, "-o", mod},
	} {
		if out, err := exec.Command(cnncBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("cnnc %v: %v\n%s", args, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(mod, "go.mod")); err != nil {
		t.Fatalf("cnnc compile wrote no go.mod outside a module: %v", err)
	}
	var dirs []string
	for i, b := range embedded {
		dir := fmt.Sprintf("snippet%d", i)
		if err := os.MkdirAll(filepath.Join(mod, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mod, dir, "main.go"), []byte(program(b, "alexnet")), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, "./"+dir)
	}
	goCmd(t, mod, []string{"GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOSUMDB=off"}, append([]string{"vet"}, dirs...)...)
}

// exports lists the exported identifiers of the Go package in dir (test
// files excepted): top-level names, "Type.Method" and "Type.Field".
func exports(t *testing.T, dir string) (top, methods, fields map[string]bool) {
	t.Helper()
	top, methods, fields = map[string]bool{}, map[string]bool{}, map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					top[d.Name.Name] = true
					continue
				}
				typ := d.Recv.List[0].Type
				if s, ok := typ.(*ast.StarExpr); ok {
					typ = s.X
				}
				if recv := typ.(*ast.Ident); recv.IsExported() {
					methods[recv.Name+"."+d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						for _, id := range s.Names {
							if id.IsExported() {
								top[id.Name] = true
							}
						}
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						top[s.Name.Name] = true
						if st, ok := s.Type.(*ast.StructType); ok {
							for _, fl := range st.Fields.List {
								for _, id := range fl.Names {
									if id.IsExported() {
										fields[s.Name.Name+"."+id.Name] = true
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return top, methods, fields
}

// TestAPIComplete checks api.md against generated/alexnet both ways: every
// exported name of the package is documented, and every alexnet.X and
// Model.X the page names exists (NewEmbedded and WeightsSHA256 exist only
// with -embed; TestAPISnippets compiles the block that uses them).
func TestAPIComplete(t *testing.T) {
	src, err := os.ReadFile("api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	top, methods, fields := exports(t, "../generated/alexnet")
	if len(top) < 20 || len(methods) < 5 || len(fields) < 5 {
		t.Fatalf("found only %d names, %d methods, %d fields in generated/alexnet", len(top), len(methods), len(fields))
	}
	for name := range top {
		if !strings.Contains(doc, "alexnet."+name) {
			t.Errorf("api.md never names alexnet.%s", name)
		}
	}
	for m := range methods {
		if !strings.Contains(doc, "`"+m+"(") && !strings.Contains(doc, "`"+m+"`") {
			t.Errorf("api.md does not describe %s (write it as `%s(...)`)", m, m)
		}
	}
	for f := range fields {
		name := f[strings.Index(f, ".")+1:]
		if !strings.Contains(doc, "`"+name+"`") && !strings.Contains(doc, "`"+f+"`") {
			t.Errorf("api.md does not describe the field %s", f)
		}
	}
	embedOnly := map[string]bool{"NewEmbedded": true, "WeightsSHA256": true}
	for _, m := range regexp.MustCompile(`\balexnet\.([A-Z]\w*)`).FindAllStringSubmatch(doc, -1) {
		if !top[m[1]] && !embedOnly[m[1]] {
			t.Errorf("api.md names alexnet.%s, which generated/alexnet does not have", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`\bModel\.([A-Z]\w*)`).FindAllStringSubmatch(doc, -1) {
		if !methods["Model."+m[1]] {
			t.Errorf("api.md names Model.%s, which is not a method", m[1])
		}
	}
	for name := range embedOnly {
		if !strings.Contains(doc, name) {
			t.Errorf("api.md does not describe %s", name)
		}
	}
}

// command is one `cnnc ...` line of a ```sh block.
type command struct {
	b    *block
	line string
	want *block // a ```text block of expected output, if any
}

func commands(t *testing.T) []command {
	var out []command
	for _, file := range commandDocs {
		for _, b := range readBlocks(t, file) {
			if b.info != "sh" && b.info != "shell" && b.info != "console" {
				continue
			}
			var lines []string
			for _, l := range strings.Split(strings.ReplaceAll(b.text, "\\\n", " "), "\n") {
				l = strings.TrimPrefix(strings.TrimSpace(l), "$ ")
				if strings.HasPrefix(l, "cnnc ") {
					lines = append(lines, l)
				}
			}
			var want *block
			if b.next != nil && b.next.info == "text" {
				if len(lines) != 1 {
					t.Errorf("%s: an output block follows a block of %d cnnc commands; want one", b.pos(), len(lines))
				}
				want = b.next
			}
			for _, l := range lines {
				out = append(out, command{b, l, want})
			}
		}
	}
	return out
}

// matchOutput reports whether got matches want, where a want line "..."
// stands for any number of lines.
func matchOutput(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "..." {
		for i := 0; i <= len(got); i++ {
			if matchOutput(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && want[0] == got[0] && matchOutput(want[1:], got[1:])
}

// TestCommands runs every cnnc command shown in the documents, in a
// scratch directory that has the repository's spec/, with the cnnc built
// from this tree first on PATH. Each must exit 0 and, where a text block
// follows it, print exactly that (stdout and stderr together).
func TestCommands(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.Symlink(filepath.Join(root, "spec"), filepath.Join(work, "spec")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(work, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Dir(cnncBin) + string(os.PathListSeparator) + os.Getenv("PATH")
	cmds := commands(t)
	if len(cmds) < 3 {
		t.Fatalf("found %d commands; the parser is broken", len(cmds))
	}
	skipped := map[string]bool{}
	for _, c := range cmds {
		sub := strings.Fields(c.line)[1]
		if slices.Contains(slowCommands, c.line) {
			skipped[c.line] = true
			continue
		}
		if sub == "bench" || sub == "run" {
			t.Errorf("%s: %q: bench and run take minutes; list the command in slowCommands, or show a faster one", c.b.pos(), c.line)
			continue
		}
		t.Run(c.line, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", c.line)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "PATH="+path)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %s: %v\n%s", c.b.pos(), c.line, err, out)
			}
			if c.want == nil {
				return
			}
			want := strings.Split(strings.TrimSuffix(c.want.text, "\n"), "\n")
			got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if !matchOutput(want, got) {
				t.Errorf("%s: the output of %s differs from the document's.\ngot:\n%s\nwant (%s):\n%s", c.b.pos(), c.line, out, c.want.pos(), c.want.text)
			}
		})
	}
	for _, s := range slowCommands {
		if !skipped[s] {
			t.Errorf("slowCommands lists %q, which no document shows", s)
		}
	}
}

func TestMatchOutput(t *testing.T) {
	for _, tt := range []struct {
		want, got string
		ok        bool
	}{
		{"a\nb", "a\nb", true},
		{"a\nb", "a\nc", false},
		{"a\n...\nd", "a\nb\nc\nd", true},
		{"a\n...\nd", "a\nd", true},
		{"a\n...\nd", "a\nb\nc", false},
		{"...", "", true},
		{"a", "a\nb", false},
	} {
		if got := matchOutput(strings.Split(tt.want, "\n"), strings.Split(tt.got, "\n")); got != tt.ok {
			t.Errorf("matchOutput(%q, %q) = %v", tt.want, tt.got, got)
		}
	}
}
