package compiler_test

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/ref"
	"github.com/cnnc/cnnc/compiler/spec"
	"github.com/cnnc/cnnc/internal/golden"
	"github.com/cnnc/cnnc/internal/testenv"
)

func specFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../spec/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no specs: %v", err)
	}
	return files
}

func compileSrc(t *testing.T, src string, opt passes.Options) (*ir.Graph, error) {
	t.Helper()
	s, err := spec.Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatalf("spec does not parse: %v", err)
	}
	return compiler.CompileSpec(s, opt)
}

// TestGolden checks the shape table and the optimised IR of every spec in
// spec/ against golden/NAME.shapes and golden/NAME.ir; -update rewrites them.
func TestGolden(t *testing.T) {
	for _, path := range specFiles(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			g, err := compiler.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			opt, err := compiler.Compile(path, passes.Options{Verify: true})
			if err != nil {
				t.Fatal(err)
			}
			// Compiling twice must give the same text: no map order leaks.
			again, _ := compiler.Compile(path, passes.Options{Verify: true})
			if opt.Format() != again.Format() {
				t.Fatal("two compilations print differently")
			}
			golden.Check(t, "../golden/"+name+".shapes", []byte(compiler.ShapeTable(g, opt.Mem)))
			golden.Check(t, "../golden/"+name+".ir", []byte(opt.Format()))
		})
	}
}

// TestShapeErrors checks that shapes that do not work are reported with
// the layer's name and the position of the field at fault.
func TestShapeErrors(t *testing.T) {
	const head = "name: m\ninput: [3, 8, 8]\nlayers:\n"
	tests := []struct{ name, layers, want string }{
		{"kernel too big", "  - {name: c, op: conv, filters: 2, kernel: 9}\n",
			"x.yaml:4:37: c: kernel 9 is larger than the padded input 8; kernel 9 is larger than the padded input 8"},
		{"dilated kernel too big", "  - {name: c, op: conv, filters: 2, kernel: [1, 3], dilation: 4}\n",
			"x.yaml:4:37: c: kernel 3 (dilated to 9) is larger than the padded input 8"},
		{"groups channels", "  - {name: c, op: conv, filters: 4, kernel: 1, groups: 2}\n",
			"x.yaml:4:48: c: groups 2 does not divide the 3 input channels"},
		{"groups filters", "  - {name: c, op: conv, filters: 4, kernel: 1, groups: 3}\n",
			"x.yaml:4:48: c: groups 3 does not divide the 4 filters"},
		{"pool too big", "  - {name: p, op: maxpool, kernel: [2, 9]}\n",
			"x.yaml:4:28: p: kernel 2x9 is larger than the padded input 8x8"},
		{"pool pad", "  - {name: p, op: avgpool, kernel: 2, padding: 2}\n",
			"x.yaml:4:39: p: padding 2 is more than half the kernel 2x2"},
		{"add mismatch", "  - {name: a, op: conv, filters: 2, kernel: 1}\n  - {name: b, op: conv, filters: 3, kernel: 1, input: input}\n  - {name: s, op: add, inputs: [a, b]}\n",
			"x.yaml:6:24: s: cannot add a (2x8x8): it does not broadcast to 3x8x8 (each of C, H, W must be 3x8x8's or 1)"},
		{"concat mismatch", "  - {name: a, op: maxpool, kernel: 2}\n  - {name: s, op: concat, inputs: [a, input]}\n",
			"x.yaml:5:27: s: cannot concatenate a (3x4x4) and input (3x8x8) along channels: height and width differ"},
		{"flat into conv", "  - {name: d, op: dense, units: 4}\n  - {name: c, op: conv, filters: 2, kernel: 1}\n",
			"x.yaml:5:5: c: conv needs a CxHxW input, but d produces a flat vector of 4"},
		{"unknown input", "  - {name: a, op: relu, input: nope}\n", `x.yaml:4:25: a: reads unknown layer "nope"`},
		{"later input", "  - {name: a, op: relu, input: b}\n  - {name: b, op: relu}\n",
			`x.yaml:4:25: a: reads "b", which is defined later (line 5): layers may only read earlier layers, so the graph cannot have cycles`},
		{"cycle", "  - {name: a, op: add, inputs: [input, a]}\n", "x.yaml:4:24: a: reads its own output: a cycle"},
		{"overflow", "  - {name: c, op: conv, filters: 1048576, kernel: 1, padding: 1048576}\n",
			"x.yaml:4:5: c: output 1048576x2097160x2097160 has 4611721202866585600 elements per image, more than the limit of 2147483647"},
		{"dense overflow", "  - {name: d, op: dense, units: 1048576}\n  - {name: e, op: dense, units: 1048576}\n",
			"x.yaml:5:26: e: 1099511627776 weights (1048576 units x 1048576 inputs), more than the limit of 2147483647"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileSrc(t, head+tt.layers, passes.Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestPassesPreserveMeaning runs the reference engine over each spec as
// written and after the pipeline (and after the pipeline with each
// optional pass disabled), and requires the same outputs.
func TestPassesPreserveMeaning(t *testing.T) {
	corners, err := filepath.Glob("testdata/corners/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range append(specFiles(t), corners...) {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			base, err := compiler.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if macs := graphMACs(base); !testenv.Long() && macs > parityShortMACs {
				t.Skipf("%.3g multiply-adds per image: the exhaustive suite (CNNC_LONG=1) runs it", float64(macs))
			}
			const batch = 2
			weights := params.Map(params.Init(base, 1))
			x := params.Input(base, batch, 2)
			want := run(t, base, weights, x, batch)
			variants := [][]string{nil}
			if !strings.HasPrefix(name, "alexnet") {
				for _, p := range passes.List() {
					if !p.Required {
						variants = append(variants, []string{p.Name})
					}
				}
			}
			for _, disable := range variants {
				g, err := compiler.Compile(path, passes.Options{Verify: true, Disable: disable})
				if err != nil {
					t.Fatal(err)
				}
				got := run(t, g, weights, x, batch)
				if err := close(want, got, 1e-5); err != nil {
					t.Errorf("disable %v: %v", disable, err)
				}
			}
		})
	}
}

func run(t *testing.T, g *ir.Graph, w map[string][]float32, x []float32, batch int) []float32 {
	t.Helper()
	res, err := ref.Run(g, params.Effective(g, w), x, batch)
	if err != nil {
		t.Fatal(err)
	}
	return res.Output(g)
}

// close reports whether got is within tol * max|want| of want everywhere.
func close(want, got []float32, tol float64) error {
	if len(want) != len(got) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	worst, at := 0.0, 0
	for i := range want {
		if d := math.Abs(float64(want[i]) - float64(got[i])); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if worst > tol*scale || math.IsNaN(worst) {
		return fmt.Errorf("element %d: got %g, want %g (error %g > %g * scale %g)", at, got[at], want[at], worst, tol, scale)
	}
	return nil
}

// TestMemoryPlan checks the plan on every spec: it fits, reuses memory and
// passes the verifier's independent overlap check.
func TestMemoryPlan(t *testing.T) {
	for _, path := range specFiles(t) {
		g, err := compiler.Compile(path, passes.Options{Verify: true})
		if err != nil {
			t.Fatal(err)
		}
		if g.Mem.ArenaElems >= g.Mem.NaiveElems {
			t.Errorf("%s: arena %d is no smaller than the naive %d", path, g.Mem.ArenaElems, g.Mem.NaiveElems)
		}
		// The largest pair of simultaneously needed tensors bounds the
		// arena from below: a layer's input and output.
		lower := 0
		for _, n := range g.Nodes[1:] {
			if n.Alias {
				continue
			}
			need := n.Shape.Elems()
			for _, in := range n.Inputs {
				if in.Op != ir.OpInput {
					need += in.Shape.Elems()
				}
			}
			lower = max(lower, need)
		}
		if g.Mem.ArenaElems < lower {
			t.Errorf("%s: arena %d below the lower bound %d", path, g.Mem.ArenaElems, lower)
		}
		t.Logf("%s: arena %d elements, naive %d, lower bound %d", filepath.Base(path), g.Mem.ArenaElems, g.Mem.NaiveElems, lower)
	}
}

// graphMACs is g's multiply-adds per image.
func graphMACs(g *ir.Graph) int64 {
	var m int64
	for _, n := range g.Nodes {
		m += ir.MACs(n)
	}
	return m
}

// TestSliceViews checks viewSlices and the memory plan's windows on a
// ShuffleNet block: both halves of the split are windows on the conv's
// storage, an activation that overwrites one in place inherits its window,
// the output is never one, and without the pass nothing is.
func TestSliceViews(t *testing.T) {
	const src = `
name: shuffle
input: [8, 6, 6]
layers:
  - {name: c0, op: conv, filters: 16, kernel: 1}
  - {name: a, op: slice, input: c0, start: 0, end: 8}
  - {name: b, op: slice, input: c0, start: 8, end: 16}
  - {name: r, op: relu, input: b}
  - {name: bc, op: conv, input: r, filters: 8, kernel: 3, padding: same}
  - {name: cat, op: concat, inputs: [a, bc]}
  - {name: sh, op: channel_shuffle, groups: 2}
  - {name: f, op: flatten}
  - {name: tail, op: slice, start: 4, end: 12}
`
	g, err := compileSrc(t, src, passes.Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	node := func(name string) *ir.Node {
		for _, n := range g.Nodes {
			if n.Name == name {
				return n
			}
		}
		t.Fatalf("no node %s", name)
		return nil
	}
	c0, img := node("c0"), 16*6*6
	for _, w := range []struct {
		name   string
		off    int
		viewed bool
	}{{"a", 0, true}, {"b", 8 * 36, true}, {"c0", 0, false}, {"cat", 0, false}, {"tail", 0, false},
		// c0 lives on in a: r cannot overwrite b's window in place.
		{"r", 0, false}} {
		n := node(w.name)
		if n.Strided() != w.viewed || w.viewed && (n.Buf != c0.Buf || n.Off != w.off || n.ImgLen != img) {
			t.Errorf("%s: Buf %d Off %d ImgLen %d (strided %v); want a window at %d of c0's images (@%d, %d elements): %v",
				n.Name, n.Buf, n.Off, n.ImgLen, n.Strided(), w.off, c0.Buf, img, w.viewed)
		}
	}
	if !strings.Contains(g.Format(), "(view)") {
		t.Errorf("the listing does not show the views:\n%s", g.Format())
	}
	// An elementwise op over a window whose storage dies with it works in
	// place, in the window.
	g2, err := compileSrc(t, `
name: inplace
input: [8, 6, 6]
layers:
  - {name: c0, op: conv, filters: 16, kernel: 1}
  - {name: m, op: slice, start: 4, end: 12}
  - {name: r, op: relu}
  - {name: out, op: conv, filters: 4, kernel: 1}
`, passes.Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := g2.Nodes[3]; r.Name != "r" || !r.Alias || r.Off != 4*36 || r.ImgLen != img {
		t.Errorf("%s: Alias %v Off %d ImgLen %d; want in place in m's window at %d of %d", r.Name, r.Alias, r.Off, r.ImgLen, 4*36, img)
	}
	g, err = compileSrc(t, src, passes.Options{Verify: true, Disable: []string{"viewSlices", "gatherConcats"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range g.Nodes {
		if n.Strided() || n.View {
			t.Errorf("%s is a view with viewSlices and gatherConcats disabled", n.Name)
		}
	}
}

// TestGatherConcats checks which concats gatherConcats gathers and where
// planMemory then puts their inputs: a fire module's expands and a
// DenseNet block's features (a family of prefix concats) are windows at
// their channel offsets in the longest concat's storage, the shorter
// concats windows at its start; concats whose inputs cannot be windows
// (the network input, a dense layer, a flatten, the output, an input read
// by an unrelated concat, a nested concat, an input listed twice) or that
// has an activation fused into it are copies, as are all with the pass
// disabled. Verify checks every plan.
func TestGatherConcats(t *testing.T) {
	const hw = 5 * 5
	for _, c := range []struct {
		name, src string
		gathered  []string       // the gathered concats
		at        map[string]int // a member's or gathered concat's offset, in channels
		long      string         // the storage's owner
	}{{
		name: "fire", src: `
input: [4, 5, 5]
layers:
  - {name: sq, op: conv, filters: 4, kernel: 1}
  - {name: sqr, op: relu}
  - {name: e1, op: conv, input: sqr, filters: 8, kernel: 1}
  - {name: e1r, op: relu}
  - {name: e3, op: conv, input: sqr, filters: 8, kernel: 3, padding: 1}
  - {name: e3r, op: relu}
  - {name: cat, op: concat, inputs: [e1r, e3r]}
  - {name: out, op: conv, filters: 2, kernel: 1}
`, gathered: []string{"cat"}, at: map[string]int{"e1": 0, "e3": 8}, long: "cat",
	}, {
		name: "densenet", src: `
input: [4, 5, 5]
layers:
  - {name: x0, op: conv, filters: 4, kernel: 1}
  - {name: x1, op: conv, input: x0, filters: 2, kernel: 3, padding: 1}
  - {name: c1, op: concat, inputs: [x0, x1]}
  - {name: b1, op: batchnorm, input: c1}
  - {name: r1, op: relu}
  - {name: x2, op: conv, filters: 2, kernel: 3, padding: 1}
  - {name: c2, op: concat, inputs: [x0, x1, x2]}
  - {name: b2, op: batchnorm, input: c2}
  - {name: x3, op: conv, input: b2, filters: 2, kernel: 3, padding: 1}
  - {name: c3, op: concat, inputs: [x0, x1, x2, x3]}
  - {name: out, op: avgpool, kernel: 2, stride: 2}
`, gathered: []string{"c1", "c2", "c3"}, at: map[string]int{"x0": 0, "x1": 4, "x2": 6, "x3": 8, "c1": 0, "c2": 0}, long: "c3",
	}, {
		name: "not prefixes", src: `
input: [4, 5, 5]
layers:
  - {name: x0, op: conv, filters: 4, kernel: 1}
  - {name: x1, op: conv, input: x0, filters: 2, kernel: 1}
  - {name: c1, op: concat, inputs: [x0, x1]}
  - {name: c2, op: concat, inputs: [x1, x0]}
  - {name: out, op: add, inputs: [c1, c2]}
`,
	}, {
		name: "network input", src: `
input: [4, 5, 5]
layers:
  - {name: x1, op: conv, filters: 2, kernel: 1}
  - {name: c1, op: concat, inputs: [input, x1]}
  - {name: out, op: conv, filters: 2, kernel: 1}
`,
	}, {
		name: "output and nesting", src: `
input: [4, 5, 5]
layers:
  - {name: x1, op: conv, filters: 2, kernel: 1}
  - {name: x2, op: conv, input: input, filters: 2, kernel: 1}
  - {name: c1, op: concat, inputs: [x1, x2]}
  - {name: x3, op: conv, input: input, filters: 2, kernel: 1}
  - {name: c2, op: concat, inputs: [c1, x3]}
`,
	}, {
		name: "activation", src: `
input: [4, 5, 5]
layers:
  - {name: x1, op: conv, filters: 2, kernel: 1}
  - {name: x2, op: conv, input: input, filters: 2, kernel: 1}
  - {name: c1, op: concat, inputs: [x1, x2]}
  - {name: r, op: relu}
  - {name: out, op: conv, filters: 2, kernel: 1}
`,
	}, {
		name: "twice", src: `
input: [4, 5, 5]
layers:
  - {name: x, op: conv, filters: 2, kernel: 1}
  - {name: c1, op: concat, inputs: [x, x]}
  - {name: out, op: conv, filters: 2, kernel: 1}
`,
	}, {
		name: "dense", src: `
input: [4, 1, 1]
layers:
  - {name: f, op: flatten}
  - {name: d, op: dense, units: 3}
  - {name: d2, op: dense, input: f, units: 4}
  - {name: c1, op: concat, inputs: [d, d2]}
  - {name: out, op: dense, units: 2}
`,
	}, {
		name: "flatten", src: `
input: [4, 1, 1]
layers:
  - {name: x, op: conv, filters: 2, kernel: 1}
  - {name: f, op: flatten}
  - {name: y, op: conv, input: input, filters: 2, kernel: 1}
  - {name: f2, op: flatten}
  - {name: c1, op: concat, inputs: [f, f2]}
  - {name: out, op: dense, units: 2}
`,
	}} {
		t.Run(c.name, func(t *testing.T) {
			for _, disable := range []bool{false, true} {
				opt := passes.Options{Verify: true}
				if disable {
					opt.Disable = []string{"gatherConcats"}
				}
				g, err := compileSrc(t, "name: g\n"+c.src, opt)
				if err != nil {
					t.Fatal(err)
				}
				nodes := map[string]*ir.Node{}
				for _, n := range g.Nodes {
					nodes[n.Name] = n
				}
				for _, n := range g.Nodes {
					want := slices.Contains(c.gathered, n.Name) && !disable
					if n.Op == ir.OpConcat && n.Gather != want {
						t.Errorf("disabled %v: %s gathered %v, want %v", disable, n.Name, n.Gather, want)
					}
					ch, member := c.at[n.Name]
					member = member && !disable
					if n.Op != ir.OpConcat && n.Member != member {
						t.Errorf("disabled %v: %s member %v, want %v", disable, n.Name, n.Member, member)
					}
					if !member {
						if n.Strided() {
							t.Errorf("disabled %v: %s is a window (@%d+%d of %d)", disable, n.Name, n.Buf, n.Off, n.ImgLen)
						}
						continue
					}
					l := nodes[c.long]
					if n.Buf != l.Buf || n.Off != ch*hw || n.ImgLen != l.Shape.Elems() {
						t.Errorf("%s: @%d+%d of %d, want @%d+%d of %d", n.Name, n.Buf, n.Off, n.ImgLen, l.Buf, ch*hw, l.Shape.Elems())
					}
				}
			}
		})
	}
}

// TestPoolBeforeConv checks which 1x1 convolutions of
// testdata/corners/pool_conv.yaml poolBeforeConv moves below their
// pooling (TestPassesPreserveMeaning checks that the outputs do not
// change): each moved conv reads its pooling, at the pooled size, and
// carries the pooling's activation.
func TestPoolBeforeConv(t *testing.T) {
	g, err := compiler.Compile("testdata/corners/pool_conv.yaml", passes.Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		conv, pool string
		moved      bool
		act        ir.ActKind
	}{
		{"t_conv", "t_pool", true, ir.ActNone},
		{"c_conv", "c_pool", false, ir.ActNone}, // bias, padded zeros counted
		{"n_conv", "n_pool", true, ir.ActNone},
		{"f_conv", "f_pool", true, ir.ActReLU},
		{"s_conv", "s_pool", false, ir.ActNone}, // two readers
		{"g_conv", "g_gap", true, ir.ActNone},
	} {
		c, p := g.Lookup(w.conv), g.Lookup(w.pool)
		moved := c.Inputs[0] == p
		if moved != w.moved || !moved && p.Inputs[0] != c {
			t.Errorf("%s reads %s, %s reads %s; want moved %v", c, c.Inputs[0], p, p.Inputs[0], w.moved)
			continue
		}
		if moved && (c.Shape.H != p.Shape.H || c.Shape.W != p.Shape.W || p.Shape.C != p.Inputs[0].Shape.C || c.Act.Kind != w.act || p.Act.Kind != ir.ActNone) {
			t.Errorf("%s %v act %v, %s %v act %v", c, c.Shape, c.Act.Kind, p, p.Shape, p.Act.Kind)
		}
	}
}
