package codegen_test

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/tensor"
)

// TestLoadNonFinite checks that a generated package's Load refuses the
// weights params.Bind refuses, NaN and ±Inf in the file or made by folding
// a batchnorm, with exactly Bind's message, and loads the ones it accepts.
func TestLoadNonFinite(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is not on PATH (%v): generated packages cannot be built", err)
	}
	dir := t.TempDir()
	writeModule(t, dir)
	// b1 is folded into c1; b2, after a ReLU, is a layer of its own.
	spec := `name: nonfinite
input: [3, 6, 6]
layers:
  - {name: c1, op: conv, filters: 4, kernel: 3}
  - {name: b1, op: batchnorm}
  - {name: r1, op: relu}
  - {name: b2, op: batchnorm}
  - {name: f, op: flatten}
  - {name: d, op: dense, units: 5}
`
	g, err := compiler.Compile(writeSpec(t, dir, "nonfinite", spec), passes.Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	var folded, alone bool
	for _, n := range g.Nodes {
		folded = folded || n.Name == "c1" && n.FoldBN != nil && n.FoldBN.Layer == "b1"
		alone = alone || n.Name == "b2" && n.Op == ir.OpBatchNorm
	}
	if !folded || !alone {
		t.Fatalf("want b1 folded into c1 (%v) and b2 a layer (%v):\n%s", folded, alone, g.Format())
	}
	files, err := codegen.Generate(g, codegen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pkgDir := filepath.Join(dir, "nonfinite")
	if err := os.MkdirAll(filepath.Join(pkgDir, "testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	type set map[string]map[int]float32 // tensor -> index -> value
	cases := []struct {
		name  string
		set   set
		shape map[string][]int // tensors written with another shape
		want  string           // Bind's error; "" for none
		load  string           // New's error, if not want
	}{
		{name: "finite"},
		{name: "in_file", set: set{"c1.weight": {5: nan, 17: -inf}, "d.bias": {4: inf}},
			want: `tensor "c1.weight": 2 of 108 values are not finite; the first, at [0 0 1 2], is NaN
tensor "d.bias": 1 of 5 values is not finite: at 4, +Inf`},
		{name: "folded", set: set{"b1.running_var": {2: -1}},
			want: `layer c1's weights with batchnorm b1 folded in: 27 of 108 values are not finite; the first, at [2 0 0 0], is NaN
layer c1's bias with batchnorm b1 folded in: 1 of 4 values is not finite: at 2, NaN`},
		{name: "batchnorm", set: set{"b2.running_var": {1: -1}, "b1.weight": {0: 3e38}, "b1.running_var": {0: 0}},
			want: `layer c1's weights with batchnorm b1 folded in: 27 of 108 values are not finite; the first, at [0 0 0 0], is +Inf
layer c1's bias with batchnorm b1 folded in: 1 of 4 values is not finite: at 0, NaN
batchnorm b2's scale weight/sqrt(running_var + eps): 1 of 4 values is not finite: at 1, NaN
batchnorm b2's shift bias − running_mean·scale: 1 of 4 values is not finite: at 1, NaN`},
		// A misfit is reported alone, as by Bind, but in the package's words.
		{name: "shape_first", set: set{"c1.weight": {0: nan}}, shape: map[string][]int{"d.weight": {5, 3}},
			want: `tensor "d.weight" has shape [5 3]; layer d needs [5 64]`, load: `tensor "d.weight" has shape [5 3], want [5 64]`},
	}
	var names []string
	for _, c := range cases {
		ts := params.Init(g, 1)
		for _, x := range ts {
			for i, v := range c.set[x.Name] {
				x.Data[i] = v
			}
			if s := c.shape[x.Name]; s != nil {
				x.Shape, x.Data = s, make([]float32, s[0]*s[1])
			}
		}
		data := tensorBytes(t, ts)
		f, err := tensor.ReadSafetensors(data)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		if _, _, err := params.Bind(g, f); err != nil {
			want = err.Error()
		}
		if want != c.want {
			t.Fatalf("%s: Bind says %q, want %q", c.name, want, c.want)
		}
		if c.load != "" {
			want = c.load
		}
		files = append(files,
			codegen.File{Name: "testdata/" + c.name + ".safetensors", Data: data},
			codegen.File{Name: "testdata/" + c.name + ".want", Data: []byte(want)})
		names = append(names, c.name)
	}
	test := strings.Replace(nonFiniteTest, "CASES", `{"`+strings.Join(names, `", "`)+`"}`, 1)
	files = append(files, codegen.File{Name: "nonfinite_test.go", Data: []byte(test)})
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(pkgDir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := goRun(t, goTool, dir, nil, "test", "-count=1", "-v", "-run", "^TestLoadNonFinite$", "./nonfinite")
	if !t.Failed() && !bytes.Contains(out, []byte("--- PASS: TestLoadNonFinite ")) {
		t.Errorf("the generated package's test did not pass:\n%s", out)
	}
}

// nonFiniteTest reads each testdata/CASE.safetensors with New and wants the
// error in testdata/CASE.want, or none if that is empty.
const nonFiniteTest = `package nonfinite

import (
	"bytes"
	"os"
	"testing"
)

func TestLoadNonFinite(t *testing.T) {
	for _, name := range []stringCASES {
		want, err := os.ReadFile("testdata/" + name + ".want")
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile("testdata/" + name + ".safetensors")
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(bytes.NewReader(data))
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			m.Close()
		}
		if got != string(want) {
			t.Errorf("%s: New says\n%s\nwant\n%s", name, got, want)
		}
	}
}
`
