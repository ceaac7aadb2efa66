package ir_test

import (
	"math"
	"testing"

	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/ref"
)

// TestOpTableRows checks that every row of the op table is complete: a
// unique name, a shape rule, a formula, an arity, and properties that agree
// with each other.
func TestOpTableRows(t *testing.T) {
	names := map[string]ir.Op{}
	for _, op := range ir.AllOps() {
		info := op.Info()
		if prev, dup := names[info.Name]; dup {
			t.Errorf("%v and %v are both spelled %q", prev, op, info.Name)
		}
		names[info.Name] = op
		if info.Shape == nil {
			t.Errorf("%s has no shape rule", op)
		}
		if info.Formula == "" {
			t.Errorf("%s has no formula", op)
		}
		if info.Arity == ir.Nullary {
			t.Errorf("%s reads no input", op)
		}
		if info.Act != ir.ActNone && !(info.Elementwise && info.InPlace && info.Arity == ir.Unary) {
			t.Errorf("%s is an activation but not a unary elementwise op that works in place", op)
		}
		if info.InPlace && !info.Elementwise {
			t.Errorf("%s works in place but is not elementwise", op)
		}
		if got, ok := ir.ParseOp(info.Name); !ok || got != op {
			t.Errorf("ParseOp(%q) = %v, %v", info.Name, got, ok)
		}
		seen := map[string]bool{}
		for _, f := range info.Fields {
			if seen[f.Name] {
				t.Errorf("%s lists field %q twice", op, f.Name)
			}
			seen[f.Name] = true
		}
	}
	if _, ok := ir.ParseOp("input"); ok {
		t.Errorf("ParseOp accepts input, which is not an op of the language")
	}
}

// TestMonotonic checks Activation.Monotonic, which decides whether the
// passes may move an activation below a max pooling, against the reference
// engine's formula: the function must be non-decreasing over [-10, 10]
// exactly when Monotonic says so. A new activation kind must say.
func TestMonotonic(t *testing.T) {
	var cases []ir.Activation
	for k := range ir.NumActKinds {
		cases = append(cases, ir.Activation{Kind: k})
		switch k {
		case ir.ActLeakyReLU, ir.ActHardSigmoid:
			cases = append(cases, ir.Activation{Kind: k, Alpha: -0.5, Beta: 0.5}, ir.Activation{Kind: k, Alpha: 0.2, Beta: 0.5})
		case ir.ActClip:
			cases = append(cases, ir.Activation{Kind: k, Alpha: -1, Beta: 6}, ir.Activation{Kind: k, Alpha: ir.NoMin, Beta: ir.NoMax})
		}
	}
	for _, a := range cases {
		f := ref.ActFunc(a)
		increasing := true
		prev := math.Inf(-1)
		for x := -10.0; x <= 10; x += 1.0 / 256 {
			y := f(x)
			if y < prev {
				increasing = false
				break
			}
			prev = y
		}
		if increasing != a.Monotonic() {
			t.Errorf("%v: non-decreasing on [-10, 10] is %v, but Monotonic() says %v", a, increasing, a.Monotonic())
		}
	}
}
