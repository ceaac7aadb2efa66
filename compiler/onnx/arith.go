package onnx

// Elementwise arithmetic: Add, Sub, Mul and Div.
//
//   - On two constants it is shape arithmetic, evaluated at import time
//     (binaryConst, fold.go).
//   - On two activations it is the spec's add, sub, mul or div, with
//     NumPy's broadcasting over the per-image dimensions (a squeeze-and-
//     excitation scale [N, C, 1, 1] times [N, C, H, W]); x·Sigmoid(x) is
//     silu and x·HardSigmoid(x) (alpha 1/6, beta 1/2) hardswish.
//   - An activation and a constant: the spec has no constant operand, so
//     the constant must be one value per channel (or one value) and the
//     activation the output of a layer that ends in a per-channel affine
//     map, conv, dense, batchnorm or layernorm: the import makes a copy of
//     that layer with the constant folded into its weights and bias. The
//     original drops out of the spec if nothing else reads it (finish).

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// opBinary translates Add, Sub, Mul and Div.
func opBinary(n *node) error {
	if err := n.inputs(2, 2); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	a, b := n.in(0), n.in(1)
	if a == nil || b == nil {
		return fmt.Errorf("an input is missing")
	}
	switch {
	case a.c != nil && b.c != nil:
		return binaryConst(n, a.c, b.c)
	case a.c != nil:
		return foldConst(n, 1, 0)
	case b.c != nil:
		return foldConst(n, 0, 1)
	}
	x, err := n.chanAct(0)
	if err != nil {
		return err
	}
	y, err := n.chanAct(1)
	if err != nil {
		return err
	}
	if n.pb.GetOpType() == "Mul" {
		if gated(n, x, y) || gated(n, y, x) {
			return nil
		}
	}
	return binaryLayer(n, x, y)
}

var binaryOps = map[string]string{"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div"}

// binaryLayer makes the add, sub, mul or div of two activations in the
// same layout, broadcasting as ONNX does.
func binaryLayer(n *node, x, y *act) error {
	if x.nhwc != y.nhwc {
		nh := x
		if y.nhwc {
			nh = y
		}
		return fmt.Errorf("one operand is a channels-last view (made by Transpose %s) and the other is not; cnnc import combines activations in the same layout", nh.via)
	}
	if len(x.dims) != len(y.dims) {
		return fmt.Errorf("the operands have shapes %s and %s; cnnc import broadcasts activations of equal rank only", batchDims(x.dims), batchDims(y.dims))
	}
	dims := make([]int, len(x.dims))
	for k := range dims {
		switch {
		case x.dims[k] == y.dims[k] || y.dims[k] == 1:
			dims[k] = x.dims[k]
		case x.dims[k] == 1:
			dims[k] = y.dims[k]
		default:
			return fmt.Errorf("the operands' shapes %s and %s do not broadcast", batchDims(x.dims), batchDims(y.dims))
		}
	}
	shape := dims
	if x.nhwc {
		shape = []int{dims[2], dims[0], dims[1]}
	}
	l := n.newLayer(binaryOps[n.pb.GetOpType()], []*act{x, y}, shape, "")
	n.out(0, &value{a: &act{l: l, dims: dims, nhwc: x.nhwc, via: x.via}})
	return nil
}

// gated recognises x·g(x), where g is a sigmoid or a hardsigmoid layer
// that reads x: silu, or hardswish for hardsigmoid's alpha 1/6 and beta
// 1/2. The g layer stays, and drops out of the spec if nothing else reads
// it.
func gated(n *node, x, g *act) bool {
	gl := g.l
	if gl == nil || len(gl.ins) != 1 || gl.ins[0] != x.l || g.nhwc != x.nhwc || !slices.Equal(g.dims, x.dims) {
		return false
	}
	var op string
	switch gl.op {
	case "sigmoid":
		op = "silu"
	case "hardsigmoid":
		alpha, beta := float32(1.0/6), float32(0.5)
		if v, ok := gl.field("alpha").(f32); ok {
			alpha = float32(v)
		}
		if v, ok := gl.field("beta").(f32); ok {
			beta = float32(v)
		}
		if alpha != float32(1.0/6) || beta != 0.5 {
			return false
		}
		op = "hardswish"
	default:
		return false
	}
	l := n.newLayer(op, []*act{x}, x.shape(n.im), "")
	l.from = append(slices.Clone(gl.from), l.from...)
	n.out(0, &value{a: &act{l: l, dims: x.dims, nhwc: x.nhwc, via: x.via}})
	return true
}

// foldConst translates an arithmetic node on the activation input ai and
// the constant input ci by folding the constant into the layer that
// computes the activation.
func foldConst(n *node, ai, ci int) error {
	op := n.pb.GetOpType()
	x, err := n.chanAct(ai)
	if err != nil {
		return err
	}
	c, err := n.floatConst(ci, "the constant operand")
	if err != nil {
		return err
	}
	k, ok := perChannel(c, x, n.im)
	if !ok {
		return fmt.Errorf("%s of %s and the constant %q of shape %v: cnnc import folds a constant operand only when it is one value per channel (or one value)", op, batchDims(x.dims), n.inName(ci), c.dims)
	}
	ch := len(k)
	scale, shift := make([]float32, ch), make([]float32, ch)
	for i, v := range k {
		switch {
		case op == "Add":
			scale[i], shift[i] = 1, v
		case op == "Sub" && ai == 0:
			scale[i], shift[i] = 1, -v
		case op == "Sub":
			scale[i], shift[i] = -1, v
		case op == "Mul":
			scale[i] = v
		case op == "Div" && ai == 0:
			if v == 0 || !finite(1/v) {
				return fmt.Errorf("Div by the constant %q, which holds %v", n.inName(ci), v)
			}
			scale[i] = 1 / v
		default: // k / x
			return fmt.Errorf("Div of the constant %q by an activation: cnnc has no reciprocal", n.inName(ci))
		}
	}
	out, err := n.foldAffine(x, scale, shift)
	if err != nil {
		return fmt.Errorf("%s of an activation and the constant %q: %v", op, n.inName(ci), err)
	}
	n.out(0, &value{a: out})
	return nil
}

// perChannel returns the constant c as one value per channel of a, when c
// broadcasts to a's shape without enlarging it and varies along a's
// channel axis only. A single value is repeated.
func perChannel(c *constant, a *act, im *importer) ([]float32, bool) {
	if c.isInt || !a.whole(im) {
		return nil, false
	}
	r := len(a.dims) + 1
	if len(c.dims) > r {
		return nil, false
	}
	cd := append(slices.Repeat([]int{1}, r-len(c.dims)), c.dims...)
	ch := 1 + a.chanAxis()
	nc := a.dims[a.chanAxis()]
	for k, d := range cd {
		if d != 1 && (k != ch || d != nc) {
			return nil, false
		}
	}
	if cd[ch] == nc && nc != 1 {
		return slices.Clone(c.f), true
	}
	return slices.Repeat([]float32{c.f[0]}, nc), true
}

// affineOps are the layers whose output channel c is scale[c]·(…) +
// bias[c] for learned per-channel weights: a per-channel affine map after
// them folds into them.
var affineOps = []string{"conv", "dense", "batchnorm", "layernorm"}

// foldAffine returns the activation scale[c]·x + shift[c], computed by a
// copy of x's layer with the map folded into its weights and bias.
func (n *node) foldAffine(x *act, scale, shift []float32) (*act, error) {
	identity := true
	for i := range scale {
		if !finite(scale[i]) || !finite(shift[i]) {
			return nil, fmt.Errorf("the folded constants are not finite")
		}
		identity = identity && scale[i] == 1 && shift[i] == 0
	}
	if identity {
		return x, nil
	}
	l := x.l
	if l == nil || !slices.Contains(affineOps, l.op) {
		what := "the network input"
		if l != nil {
			what = fmt.Sprintf("a %s layer (from %s)", l.op, strings.Join(l.from, ", "))
		}
		return nil, fmt.Errorf("the activation is %s; cnnc has no layer with a constant operand and folds a per-channel constant only into the Conv, Gemm, MatMul, BatchNormalization or LayerNormalization whose output it reads", what)
	}
	c := l.shape[0]
	nl := &layer{node: l.node, suffix: l.suffix, op: l.op, fields: slices.Clone(l.fields), ins: l.ins, shape: l.shape,
		from: append(slices.Clone(l.from), n.im.sources(n.pb)...)}
	for _, t := range l.params {
		nl.param(t.Name, slices.Clone(t.Shape), slices.Clone(t.Data))
	}
	if w := nl.tensor("weight"); w != nil {
		row := len(w.Data) / c
		for f := range c {
			for i := range row {
				w.Data[f*row+i] *= scale[f]
			}
		}
	}
	b := nl.tensor("bias")
	if b != nil {
		for f := range c {
			b.Data[f] = b.Data[f]*scale[f] + shift[f]
		}
	} else if slices.ContainsFunc(shift, func(v float32) bool { return v != 0 }) {
		nl.param("bias", []int{c}, slices.Clone(shift))
		nl.fields = slices.DeleteFunc(nl.fields, func(f field) bool { return f.key == "bias" })
	}
	for _, t := range nl.params {
		if orig := l.tensor(t.Name); !allFinite(t.Data) && (orig == nil || allFinite(orig.Data)) {
			return nil, fmt.Errorf("folding it into the weights overflows float32")
		}
	}
	n.im.layers = append(n.im.layers, nl)
	return &act{l: nl, dims: x.dims, nhwc: x.nhwc, via: x.via}, nil
}

func allFinite(x []float32) bool {
	return !slices.ContainsFunc(x, func(v float32) bool { return math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) })
}
