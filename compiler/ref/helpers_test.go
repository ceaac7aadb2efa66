package ref

import (
	"math"
	"testing"

	"github.com/cnnc/cnnc/compiler/ir"
)

// params is a test Params: node -> (w, b).
type params map[*ir.Node][2][]float32

func (p params) Weights(n *ir.Node) (w, b []float32) { v := p[n]; return v[0], v[1] }

// ramp returns n values f(0), f(1), ...
func ramp(n int, f func(i int) float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = f(i)
	}
	return s
}

// closeTo reports whether got is within tol·(1+|want|) of want.
func closeTo(got, want float32, tol float64) bool {
	if math.IsNaN(float64(want)) {
		return math.IsNaN(float64(got))
	}
	return math.Abs(float64(got)-float64(want)) <= tol*(1+math.Abs(float64(want)))
}

// checkNear fails t if got and want differ in length or in any element by
// more than tol (relative, see closeTo).
func checkNear(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range got {
		if !closeTo(got[i], want[i], tol) {
			if bad < 10 {
				t.Errorf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values wrong", what, bad, len(got))
	}
}

// f32s converts float64 literals (handy for fractions like 1.0/3).
func f32s(xs ...float64) []float32 {
	s := make([]float32, len(xs))
	for i, x := range xs {
		s[i] = float32(x)
	}
	return s
}

func shape(c, h, w int) ir.Shape { return ir.Shape{C: c, H: h, W: w} }
func flat(c int) ir.Shape        { return ir.Shape{C: c, H: 1, W: 1, Flat: true} }

// graph builds a graph from nodes, the last one being the output.
func graph(nodes ...*ir.Node) *ir.Graph {
	return &ir.Graph{Name: "test", Nodes: nodes, Output: nodes[len(nodes)-1]}
}

func input(s ir.Shape) *ir.Node { return &ir.Node{Name: "in", Op: ir.OpInput, Shape: s} }

// mustRun runs g and fails the test on error.
func mustRun(t *testing.T, g *ir.Graph, p Params, x []float32, batch int) *Result {
	t.Helper()
	r, err := Run(g, p, x, batch)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, n := range g.Nodes {
		if got, want := len(r.Values[n]), batch*n.Shape.Elems(); got != want {
			t.Fatalf("node %s: %d values, want %d", n.Name, got, want)
		}
	}
	return r
}
