package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const good = `name: tiny
input: [3, 8, 8]
layers:
  - {name: c1, op: conv, filters: 4, kernel: [3, 1], stride: 2, padding: same}
  - {name: r1, op: leaky_relu}
  - {name: p1, op: maxpool, kernel: 2}
  - {name: p2, op: avgpool, kernel: 2, stride: 1, count_pad: false, input: c1}
  - {name: n1, op: lrn, size: 3}
`

func TestParseDefaults(t *testing.T) {
	s, err := Parse("tiny.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Name, Op, PadMode        string
		Inputs                   []string
		Kernel, Stride, Dilation Pair
		Groups                   int
		Bias, CountPad           bool
		Slope, Alpha, Beta, K    float64
	}
	var got []summary
	for _, l := range s.Layers {
		got = append(got, summary{l.Name, l.Op, l.PadMode, l.Inputs, l.Kernel, l.Stride, l.Dilation, l.Groups, l.Bias, l.CountPad, l.Slope, l.Alpha, l.Beta, l.K})
	}
	d := summary{Stride: Pair{1, 1}, Dilation: Pair{1, 1}, Groups: 1, Bias: true, CountPad: true, Slope: 0.01, Alpha: 1e-4, Beta: 0.75, K: 1}
	want := []summary{
		with(d, func(x *summary) {
			x.Name, x.Op, x.PadMode, x.Kernel, x.Stride = "c1", "conv", "same", Pair{3, 1}, Pair{2, 2}
		}),
		with(d, func(x *summary) { x.Name, x.Op = "r1", "leaky_relu" }),
		with(d, func(x *summary) { x.Name, x.Op, x.Kernel, x.Stride = "p1", "maxpool", Pair{2, 2}, Pair{2, 2} }),
		with(d, func(x *summary) {
			x.Name, x.Op, x.Kernel, x.Inputs, x.CountPad = "p2", "avgpool", Pair{2, 2}, []string{"c1"}, false
		}),
		with(d, func(x *summary) { x.Name, x.Op = "n1", "lrn" }),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layers mismatch (-want +got):\n%s", diff)
	}
	if s.Name != "tiny" || s.Input != [3]int{3, 8, 8} {
		t.Errorf("got name %q input %v", s.Name, s.Input)
	}
}

func with[T any](x T, f func(*T)) T { f(&x); return x }

// TestErrors checks that each kind of mistake is reported at the right
// position, naming the layer, and that every problem is reported at once.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // full lines of the error, in order
	}{
		{"unknown key", "name: m\ninput: [1, 4, 4]\nlayers:\n  - {name: a, op: relu, slope: 1}\n",
			[]string{`x.yaml:4:25: a: unknown field "slope": relu takes no parameters`}},
		{"unknown top key", "name: m\ninput: [1, 4, 4]\nlayer: []\n",
			[]string{`x.yaml:1:1: missing required field "layers"`, `x.yaml:3:1: unknown field "layer" (want name, description, input, preprocess, layers)`}},
		{"bad name", "name: 9lives\ninput: [1, 4, 4]\nlayers: [{name: a-b, op: relu}]\n",
			[]string{`x.yaml:1:7: name: "9lives" is not a valid identifier (letters, digits, underscore; not starting with a digit)`,
				`x.yaml:3:17: name: "a-b" is not a valid layer name (letters, digits, underscore; not starting with a digit)`}},
		{"keyword name", "name: func\ninput: [1, 4, 4]\nlayers: [{name: a, op: relu}]\n",
			[]string{`x.yaml:1:7: name: "func" is a Go keyword and cannot name a package`}},
		{"main package", "name: main\ninput: [1, 4, 4]\nlayers: [{name: a, op: relu}]\n",
			[]string{`x.yaml:1:7: name: "main" would make the generated package a command, which needs a func main; choose another name`}},
		{"blank package", "input: [1, 4, 4]\nname: _\nlayers: [{name: a, op: relu}]\n",
			[]string{`x.yaml:2:7: name: "_" is the blank identifier and cannot name a package`}},
		{"non-ASCII name", "name: réseau\ninput: [1, 4, 4]\nlayers: [{name: a, op: relu}]\n",
			[]string{`x.yaml:1:7: name: "réseau" is not a valid identifier (letters, digits, underscore; not starting with a digit)`}},
		{"reserved input", "name: m\ninput: [1, 4, 4]\nlayers: [{name: input, op: relu}]\n",
			[]string{`x.yaml:3:17: name: "input" is reserved for the network input`}},
		{"missing fields", "name: m\ninput: [1, 4, 4]\nlayers:\n  - {name: c, op: conv}\n  - {name: d, op: add}\n",
			[]string{`x.yaml:4:5: c: conv needs "filters"`, `x.yaml:4:5: c: conv needs "kernel"`, "x.yaml:5:5: d: add needs `inputs: [a, b, ...]`"}},
		{"wrong types", "name: m\ninput: [1, 4, 4]\nlayers:\n  - {name: c, op: conv, filters: 2.5, kernel: [1, 2, 3], bias: yes please}\n",
			[]string{`x.yaml:4:34: c: filters: want an integer, got a number`,
				`x.yaml:4:47: c: kernel: want an integer or a list [height, width], got a list of 3`,
				`x.yaml:4:64: c: bias: want true or false, got the string "yes please"`}},
		{"ranges", "name: m\ninput: [1, 4, 4]\nlayers:\n  - {name: c, op: conv, filters: 0, kernel: 99999999999, stride: -1}\n  - {name: d, op: dropout, rate: 1}\n",
			[]string{`x.yaml:4:34: c: filters: 0 is out of range [1, 1048576]`,
				`x.yaml:4:45: c: kernel: 99999999999 is out of range [1, 1048576]`,
				`x.yaml:4:66: c: stride: -1 is out of range [1, 1048576]`,
				`x.yaml:5:34: d: rate: 1 is outside [0, 1)`}},
		{"padding word", "name: m\ninput: [1, 4, 4]\nlayers:\n  - {name: p, op: maxpool, kernel: 2, padding: same}\n",
			[]string{`x.yaml:4:48: p: padding: want an integer or [height, width]; got "same"`}},
		{"input misuse", "name: m\ninput: [1, 4, 4]\nlayers:\n  - {name: a, op: add, input: x}\n  - {name: b, op: relu, inputs: [x, y]}\n",
			[]string{"x.yaml:4:5: a: add needs `inputs: [a, b, ...]`", "x.yaml:4:24: a: add takes its operands as `inputs: [a, b, ...]`, not `input`",
				"x.yaml:5:25: b: relu reads one tensor: use `input: <layer>`"}},
		{"duplicate", "name: m\ninput: [1, 4, 4]\nlayers:\n  - {name: a, op: relu}\n  - {name: a, op: relu, name: b}\n",
			[]string{`x.yaml:5:6: a: duplicate layer name (first defined at 4:5)`, `x.yaml:5:25: duplicate key "name"`}},
		{"input shape", "name: m\ninput: [1, 4]\nlayers: [{name: a, op: relu}]\n",
			[]string{`x.yaml:2:8: input: want [channels, height, width], got a list`}},
		{"empty layers", "name: m\ninput: [1, 4, 4]\nlayers: []\n",
			[]string{`x.yaml:3:9: layers: a network needs at least one layer`}},
		{"yaml syntax", "name: m\ninput: [1, 4, 4\nlayers: []\n",
			[]string{`x.yaml:2:1: invalid YAML: did not find expected ',' or ']'`}},
		{"empty", "", []string{`x.yaml:1:1: empty spec`}},
		{"two docs", "name: m\ninput: [1, 4, 4]\nlayers: [{name: a, op: relu}]\n---\nname: n\n",
			[]string{`x.yaml:4:1: a spec is a single YAML document; found a second one`}},
		{"not a mapping", "- a\n- b\n", []string{`x.yaml:1:1: a spec must be a mapping, not a list`, `x.yaml:1:1: missing required field "input"`,
			`x.yaml:1:1: missing required field "layers"`, `x.yaml:1:1: missing required field "name"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeKeys(t *testing.T) {
	src := `name: m
input: [3, 9, 9]
defaults: &c3 {op: conv, kernel: 3, padding: 1}
layers:
  - {<<: *c3, name: a, filters: 4}
  - {<<: *c3, name: b, filters: 8, padding: 0}
`
	_, err := Parse("x.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), `unknown field "defaults"`) {
		t.Fatalf("want unknown field error for defaults, got %v", err)
	}
	src = strings.Replace(src, "defaults: &c3 {op: conv, kernel: 3, padding: 1}\nlayers:\n", "layers:\n  - &c3 {name: a0, op: conv, kernel: 3, padding: 1, filters: 2}\n", 1)
	s, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if l := s.Layers[2]; l.Name != "b" || l.Kernel != (Pair{3, 3}) || l.Padding != (Pair{0, 0}) || l.Filters != 8 {
		t.Errorf("merged layer b = %+v", l)
	}
}

// TestAliasBomb checks that a billion-laughs spec is refused quickly
// instead of being expanded.
func TestAliasBomb(t *testing.T) {
	// Each layer merges ten copies of the one before: expanding layer k
	// visits 10^k mappings.
	var b strings.Builder
	b.WriteString("name: m\ninput: [1, 4, 4]\nlayers:\n  - &l0 {name: l0, op: relu}\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&b, "  - &l%d {name: l%d, <<: [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]}\n")
	}
	start := time.Now()
	_, err := Parse("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "alias bomb") {
		t.Fatalf("want an alias-bomb error, got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("refusing the bomb took %v", d)
	}
}

func TestSpecsParse(t *testing.T) {
	files, _ := filepath.Glob("../../spec/*.yaml")
	if len(files) == 0 {
		t.Fatal("no specs found")
	}
	for _, f := range files {
		if _, err := ParseFile(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../spec/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(good))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("name: m\ninput: [1, 1, 1]\nlayers: [{<<: [*x], name: a}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("fuzz.yaml", src)
		if err == nil && s == nil {
			t.Fatal("nil spec without error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml:") {
			t.Fatalf("error without position: %v", err)
		}
	})
}
