package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/graphviz"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/internal/testenv"
)

// cnncPath runs the test binary as cnnc with PATH set to path.
func cnncPath(t *testing.T, path string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CNNC_BE_MAIN=1", "PATH="+path)
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

// fakeDot writes an executable named dot running script into a new
// directory and returns the directory.
func fakeDot(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dot"), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func lenetDOT(t *testing.T, optimised bool) string {
	t.Helper()
	opt := passes.Options{}
	if !optimised {
		opt.Stop = "inferShapes"
	}
	g, err := compiler.Compile(lenet, opt)
	if err != nil {
		t.Fatal(err)
	}
	return string(graphviz.DOT(g))
}

// TestGraphDOT: without -o the DOT source goes to stdout, with -o x.dot to
// the file, and -passes=false draws the graph as written. No Graphviz needed.
func TestGraphDOT(t *testing.T) {
	dir := t.TempDir()
	empty := t.TempDir() // a PATH without dot
	out, errOut, code := cnncPath(t, empty, "graph", lenet)
	if code != 0 || errOut != "" || out != lenetDOT(t, true) {
		t.Fatalf("graph to stdout: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	if !strings.Contains(out, `conv1 · conv 5x5, 6, pad 2 + tanh`) {
		t.Errorf("lenet5's conv1 not drawn with its fused tanh:\n%s", out)
	}
	out, _, code = cnncPath(t, empty, "graph", "-passes=false", lenet)
	if code != 0 || out != lenetDOT(t, false) || !strings.Contains(out, "tanh1 · tanh") {
		t.Errorf("graph -passes=false: exit %d, stdout:\n%s", code, out)
	}
	p := filepath.Join(dir, "net.gv")
	if _, e, code := cnncPath(t, empty, "graph", lenet, "-o", p); code != 0 {
		t.Fatalf("graph -o net.gv: exit %d: %s", code, e)
	}
	if b, _ := os.ReadFile(p); string(b) != lenetDOT(t, true) {
		t.Errorf("net.gv holds:\n%s", b)
	}
}

// TestGraphNoGraphviz: asked for an SVG with no dot on PATH, graph writes
// the DOT next to it, explains how to render it, and exits 0.
func TestGraphNoGraphviz(t *testing.T) {
	dir := t.TempDir()
	svg := filepath.Join(dir, "net.svg")
	out, errOut, code := cnncPath(t, t.TempDir(), "graph", lenet, "-o", svg)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, want 0; stdout %q; stderr %s", code, out, errOut)
	}
	dotPath := filepath.Join(dir, "net.dot")
	for _, want := range []string{"dot is not on PATH", "apt install graphviz", "dot -Tsvg " + dotPath + " -o " + svg} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if b, err := os.ReadFile(dotPath); err != nil || string(b) != lenetDOT(t, true) {
		t.Errorf("net.dot: %v\n%s", err, b)
	}
	if _, err := os.Stat(svg); !os.IsNotExist(err) {
		t.Errorf("net.svg exists: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want only net.dot", len(entries))
	}
}

// TestGraphErrors: bad command lines exit 2, bad specs and failing
// renderers 1, and nothing is left behind.
func TestGraphErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: m\ninput: [1, 4, 4]\nlayers:\n  - {name: c, op: conv, filters: 2, kernel: 9}\n"), 0o644)
	failing := fakeDot(t, `echo "Error: <stdin>: syntax error in line 3" >&2; exit 1`)
	silent := fakeDot(t, `cat >/dev/null; exit 0`)
	path := os.Getenv("PATH")
	tests := []struct {
		path string
		args []string
		code int
		err  string
	}{
		{path, []string{"graph"}, 2, "graph takes one argument"},
		{path, []string{"graph", lenet, lenet}, 2, "graph takes one argument"},
		{path, []string{"graph", lenet, "-o", filepath.Join(dir, "net.jpeg")}, 2, `unknown format ".jpeg" (want .svg, .png, .pdf, .dot or .gv)`},
		{path, []string{"graph", lenet, "-o", filepath.Join(dir, "net")}, 2, `unknown format ""`},
		{path, []string{"graph", lenet, "-passes=maybe"}, 2, "invalid boolean value"},
		{path, []string{"graph", filepath.Join(dir, "missing.yaml")}, 1, "no such file"},
		{path, []string{"graph", bad, "-o", filepath.Join(dir, "bad.svg")}, 1, bad + ":4:37: c: kernel 9 is larger than the padded input 4"},
		{path, []string{"graph", lenet, "-o", filepath.Join(dir, "nodir", "net.dot")}, 1, "no such file or directory"},
		{failing, []string{"graph", lenet, "-o", filepath.Join(dir, "net.svg")}, 1, "-Tsvg failed: Error: <stdin>: syntax error in line 3"},
		{silent, []string{"graph", lenet, "-o", filepath.Join(dir, "net.png")}, 1, "-Tpng wrote nothing"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := cnncPath(t, tt.path, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.err) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stderr containing %q", code, tt.code, out, errOut, tt.err)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("failed runs left files behind: %v", names)
	}
}

// TestRenderTimeout: a dot that hangs is killed after the timeout.
func TestRenderTimeout(t *testing.T) {
	hang := fakeDot(t, "exec sleep 30")
	start := time.Now()
	_, err := renderDOT(filepath.Join(hang, "dot"), "svg", []byte("digraph {}"), 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "gave no result in 200ms") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestGraphRender renders with the real Graphviz: an SVG naming every
// layer, and a PNG. CI installs Graphviz (.ci/run).
func TestGraphRender(t *testing.T) {
	testenv.LookPath(t, "dot", "apt-get install graphviz")
	dir := t.TempDir()
	svg, png := filepath.Join(dir, "a.svg"), filepath.Join(dir, "a.png")
	for _, p := range []string{svg, png} {
		if out, errOut, code := cnnc(t, "graph", "../../spec/alexnet.yaml", "-o", p); code != 0 || out != "" || errOut != "" {
			t.Fatalf("graph -o %s: exit %d\n%s%s", p, code, out, errOut)
		}
	}
	b, _ := os.ReadFile(svg)
	for _, want := range []string{"<svg", "conv1 · conv 11x11/4, 96 + relu", "conv2 · conv 5x5, 256, pad 2, 2 groups + relu", "pool1 · lrn 5", "60,965,224 parameters", "96x55x55"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
	if b, _ := os.ReadFile(png); !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("a.png is not a PNG: % x", b[:min(8, len(b))])
	}
}
