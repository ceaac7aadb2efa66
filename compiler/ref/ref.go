// Package ref is cnnc's reference engine: a plain, deliberately simple Go
// evaluation of an ir.Graph, the oracle that generated kernels and compiler
// passes are tested against.
//
// Every op follows PyTorch's inference semantics exactly; data are float32
// and every sum, product chain and transcendental is evaluated in float64
// and rounded to float32 once. There is no fusion beyond what the graph
// itself records (Node.PreLRN, Node.Act), no concurrency and no SIMD. Each
// node gets its own output slice; the memory plan (Node.Buf, Node.Alias) is
// ignored, and so is Node.FoldBN, which the Params supplier applies.
//
// Run validates the graph as it goes and returns an error naming the node
// for anything malformed (unknown op, wrong number of inputs, shapes that
// disagree with the attributes, parameters of the wrong length); it does not
// panic. The per-op functions (Conv, Dense, MaxPool, ...) are exported for
// kernel tests; they assume valid arguments.
package ref

import (
	"fmt"

	"github.com/cnnc/cnnc/compiler/ir"
)

// Params supplies a node's effective parameters, with any batchnorm folding
// already applied by the caller:
//
//   - conv: w has layout [Filters, InC/Groups, KH, KW]; b has Filters
//     entries, or is nil for no bias (ConvAttrs.Bias is not consulted).
//   - dense: w is [Units, In], In being the flattened input (C, H, W
//     order); b has Units entries or is nil.
//   - batchnorm (not folded): w is the per-channel scale and b the
//     per-channel shift, y = x·scale[c] + shift[c]; b may be nil for zero.
//
// Weights is called once per such node per Run, and only for those ops.
type Params interface {
	Weights(n *ir.Node) (w, b []float32)
}

// Result holds every node's output of one Run.
type Result struct {
	Batch int
	// Values maps each node of the graph to its output, batch images laid
	// out [Batch, node.Shape...] (NCHW, or [Batch, C] for a flat shape).
	Values map[*ir.Node][]float32
}

// Output returns the value of g.Output.
func (r *Result) Output(g *ir.Graph) []float32 { return r.Values[g.Output] }

// Limits that keep index arithmetic far from overflow. Real networks are
// orders of magnitude below them.
const (
	maxDim   = 1 << 24 // a shape's C, H or W
	maxAttr  = 1 << 20 // kernel sizes, strides, dilations, paddings, groups, LRN size
	maxElems = 1 << 31 // elements of one node's output (whole batch) or weight tensor
)

// Run evaluates g on x, laid out [batch, C, H, W] of g.Input().Shape, and
// returns every node's output. Nodes are evaluated in the order of g.Nodes,
// which must be topological with g.Nodes[0] the input. For each node it
// (1) applies n.PreLRN to the input if set (LRN fused into a maxpool),
// (2) applies the op, and (3) applies n.Act elementwise to the result.
func Run(g *ir.Graph, p Params, x []float32, batch int) (res *Result, err error) {
	if g == nil || len(g.Nodes) == 0 {
		return nil, fmt.Errorf("ref: empty graph")
	}
	if batch < 1 {
		return nil, fmt.Errorf("ref: batch %d < 1", batch)
	}
	if g.Output == nil {
		return nil, fmt.Errorf("ref: graph has no output node")
	}
	in := g.Nodes[0]
	if in == nil || in.Op != ir.OpInput {
		return nil, fmt.Errorf("ref: first node is not the input")
	}
	r := &Result{Batch: batch, Values: make(map[*ir.Node][]float32, len(g.Nodes))}
	e := &evaluator{p: p, batch: batch, values: r.Values}

	// Validation should make the kernels panic-free; this turns any bug in
	// that into an error rather than a crash of the test binary.
	var cur *ir.Node
	defer func() {
		if v := recover(); v != nil {
			name := "?"
			if cur != nil {
				name = cur.Name
			}
			res, err = nil, fmt.Errorf("ref: internal error evaluating node %q: %v", name, v)
		}
	}()

	for i, n := range g.Nodes {
		if n == nil {
			return nil, fmt.Errorf("ref: node %d is nil", i)
		}
		cur = n
		if _, dup := r.Values[n]; dup {
			return nil, e.errorf(n, "appears more than once in the node list")
		}
		if n.Op == ir.OpInput && i != 0 {
			return nil, e.errorf(n, "input node is not the first node")
		}
		v, err := e.eval(n, x)
		if err != nil {
			return nil, err
		}
		r.Values[n] = v
	}
	if _, ok := r.Values[g.Output]; !ok {
		return nil, fmt.Errorf("ref: output node %q is not in the node list", g.Output.Name)
	}
	return r, nil
}

type evaluator struct {
	p      Params
	batch  int
	values map[*ir.Node][]float32
}

func (e *evaluator) errorf(n *ir.Node, format string, args ...any) error {
	return fmt.Errorf("ref: node %q (%s): %s", n.Name, n.Op, fmt.Sprintf(format, args...))
}

// eval validates and evaluates one node.
func (e *evaluator) eval(n *ir.Node, x []float32) ([]float32, error) {
	if err := checkShape(n.Shape); err != nil {
		return nil, e.errorf(n, "output shape %v: %v", n.Shape, err)
	}
	total, ok := mulLimit(maxElems, e.batch, n.Shape.Elems())
	if !ok {
		return nil, e.errorf(n, "output of %d images of %v is too large", e.batch, n.Shape)
	}
	if err := e.checkArity(n); err != nil {
		return nil, err
	}
	if n.Act.Kind >= ir.NumActKinds {
		return nil, e.errorf(n, "unknown fused activation %v", n.Act.Kind)
	}
	ins := make([][]float32, len(n.Inputs))
	for i, in := range n.Inputs {
		if in == nil {
			return nil, e.errorf(n, "input %d is nil", i)
		}
		v, ok := e.values[in]
		if !ok {
			return nil, e.errorf(n, "input %q is not evaluated before it (not in the node list, or the list is not topologically ordered)", in.Name)
		}
		ins[i] = v
	}

	// 1. LRN fused before the op.
	if n.PreLRN != nil {
		s := n.Inputs[0].Shape
		if err := checkLRN(n.PreLRN); err != nil {
			return nil, e.errorf(n, "fused LRN: %v", err)
		}
		y := make([]float32, len(ins[0]))
		LRN(y, ins[0], e.batch, s, n.PreLRN)
		ins[0] = y
	}

	// 2. The op.
	out := make([]float32, total)
	if err := e.apply(n, out, ins, x); err != nil {
		return nil, err
	}

	// 3. The fused activation.
	Activate(out, out, n.Act)
	return out, nil
}

// checkArity checks the number of inputs, and that PreLRN is only on a
// single-input node.
func (e *evaluator) checkArity(n *ir.Node) error {
	switch n.Op {
	case ir.OpInput:
		if len(n.Inputs) != 0 {
			return e.errorf(n, "input node has %d inputs", len(n.Inputs))
		}
	case ir.OpAdd, ir.OpConcat:
		if len(n.Inputs) == 0 {
			return e.errorf(n, "no inputs")
		}
	case ir.OpSub, ir.OpMul, ir.OpDiv:
		if len(n.Inputs) != 2 {
			return e.errorf(n, "%d inputs, want 2", len(n.Inputs))
		}
	default:
		if len(n.Inputs) != 1 {
			return e.errorf(n, "%d inputs, want 1", len(n.Inputs))
		}
	}
	if n.PreLRN != nil && len(n.Inputs) != 1 {
		return e.errorf(n, "fused LRN on a node with %d inputs", len(n.Inputs))
	}
	return nil
}

// apply validates n's attributes and shapes and writes its op's output to out.
func (e *evaluator) apply(n *ir.Node, out []float32, ins [][]float32, x []float32) error {
	s := n.Shape
	var in ir.Shape
	if len(n.Inputs) > 0 {
		in = n.Inputs[0].Shape
	}
	if n.Op.IsActivation() {
		if err := e.sameDims(n, in, s); err != nil {
			return err
		}
		a := ir.ActivationOf(n)
		if a.Kind >= ir.NumActKinds {
			return e.errorf(n, "unknown activation %v", a.Kind)
		}
		Activate(out, ins[0], a)
		return nil
	}
	switch n.Op {
	case ir.OpInput:
		if len(x) != len(out) {
			return e.errorf(n, "len(x) = %d, want batch %d × %v = %d", len(x), e.batch, s, len(out))
		}
		copy(out, x)

	case ir.OpConv:
		a := &n.Conv
		if err := checkConv(a, in, s); err != nil {
			return e.errorf(n, "%v", err)
		}
		nw, ok := mulLimit(maxElems, a.Filters, in.C/a.Groups, a.KH, a.KW)
		if !ok {
			return e.errorf(n, "weight tensor too large")
		}
		w, b, err := e.weights(n, nw, a.Filters)
		if err != nil {
			return err
		}
		Conv(out, ins[0], e.batch, in, s, a, w, b)

	case ir.OpDense:
		units := n.Dense.Units
		if units < 1 || s.C != units || s.H != 1 || s.W != 1 {
			return e.errorf(n, "units %d, output shape %v", units, s)
		}
		nw, ok := mulLimit(maxElems, units, in.Elems())
		if !ok {
			return e.errorf(n, "weight tensor too large")
		}
		w, b, err := e.weights(n, nw, units)
		if err != nil {
			return err
		}
		Dense(out, ins[0], e.batch, in.Elems(), units, w, b)

	case ir.OpPReLU:
		if err := e.sameDims(n, in, s); err != nil {
			return err
		}
		w, _, err := e.weights(n, -1, 0)
		if err != nil {
			return err
		}
		if len(w) != 1 && len(w) != s.C {
			return e.errorf(n, "Params gave %d slopes, want 1 or %d", len(w), s.C)
		}
		PReLU(out, ins[0], e.batch, s, w)

	case ir.OpDropout:
		if err := e.sameDims(n, in, s); err != nil {
			return err
		}
		copy(out, ins[0])

	case ir.OpFlatten:
		if in.Elems() != s.Elems() {
			return e.errorf(n, "flattening %v into %v", in, s)
		}
		copy(out, ins[0])

	case ir.OpSoftmax:
		if err := e.sameDims(n, in, s); err != nil {
			return err
		}
		Softmax(out, ins[0], e.batch, s)

	case ir.OpMaxPool, ir.OpAvgPool:
		if err := checkPool(&n.Pool, in, s); err != nil {
			return e.errorf(n, "%v", err)
		}
		if n.Op == ir.OpMaxPool {
			MaxPool(out, ins[0], e.batch, in, s, &n.Pool)
		} else {
			AvgPool(out, ins[0], e.batch, in, s, &n.Pool)
		}

	case ir.OpGlobalAvgPool:
		if s.C != in.C || s.H != 1 || s.W != 1 {
			return e.errorf(n, "global pooling %v into %v", in, s)
		}
		GlobalAvgPool(out, ins[0], e.batch, in)

	case ir.OpLRN:
		if err := e.sameDims(n, in, s); err != nil {
			return err
		}
		if err := checkLRN(&n.LRN); err != nil {
			return e.errorf(n, "%v", err)
		}
		LRN(out, ins[0], e.batch, s, &n.LRN)

	case ir.OpBatchNorm:
		if err := e.sameDims(n, in, s); err != nil {
			return err
		}
		w, b, err := e.weights(n, s.C, s.C)
		if err != nil {
			return err
		}
		BatchNorm(out, ins[0], e.batch, s, w, b)

	case ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv:
		shapes := make([]ir.Shape, len(n.Inputs))
		for i, x := range n.Inputs {
			xs := x.Shape
			if (xs.C != s.C && xs.C != 1) || (xs.H != s.H && xs.H != 1) || (xs.W != s.W && xs.W != 1) || xs.Flat != s.Flat {
				return e.errorf(n, "input %s %v does not broadcast to %v", x.Name, xs, s)
			}
			shapes[i] = xs
		}
		Arith(n.Op, out, e.batch, s, ins, shapes)

	case ir.OpLayerNorm:
		if err := e.sameDims(n, in, s); err != nil {
			return err
		}
		w, b, err := e.weights(n, s.C, s.C)
		if err != nil {
			return err
		}
		LayerNorm(out, ins[0], e.batch, s, w, b, n.BN.Eps)

	case ir.OpSlice:
		a := n.Slice
		if a.Start < 0 || a.Start >= a.End || a.End > in.C || s.C != a.End-a.Start || s.H != in.H || s.W != in.W {
			return e.errorf(n, "slice [%d, %d) of %v into %v", a.Start, a.End, in, s)
		}
		Slice(out, ins[0], e.batch, in, a.Start, a.End)

	case ir.OpChannelShuffle:
		if err := e.sameDims(n, in, s); err != nil {
			return err
		}
		if n.Groups < 1 || s.C%n.Groups != 0 {
			return e.errorf(n, "groups %d do not divide %d channels", n.Groups, s.C)
		}
		ChannelShuffle(out, ins[0], e.batch, s, n.Groups)

	case ir.OpConcat:
		c := 0
		for _, x := range n.Inputs {
			if x.Shape.H != s.H || x.Shape.W != s.W {
				return e.errorf(n, "concatenating %v into %v: spatial sizes differ", x.Shape, s)
			}
			c += x.Shape.C
		}
		if c != s.C {
			return e.errorf(n, "inputs have %d channels in all, output %v", c, s)
		}
		Concat(out, e.batch, ins...)

	default:
		return e.errorf(n, "unsupported op")
	}
	return nil
}

// weights fetches n's parameters and checks their lengths: w must have nw
// elements (any number if nw < 0), b nb or none.
func (e *evaluator) weights(n *ir.Node, nw, nb int) (w, b []float32, err error) {
	if e.p == nil {
		return nil, nil, e.errorf(n, "no Params to supply its weights")
	}
	w, b = e.p.Weights(n)
	what := [2]string{"weights", "bias"}
	if n.Op == ir.OpBatchNorm {
		what = [2]string{"scale", "shift"}
	}
	if nw >= 0 && len(w) != nw {
		return nil, nil, e.errorf(n, "Params gave %d %s, want %d", len(w), what[0], nw)
	}
	if len(b) == 0 {
		b = nil
	} else if len(b) != nb {
		return nil, nil, e.errorf(n, "Params gave %d %s values, want %d or none", len(b), what[1], nb)
	}
	return w, b, nil
}

// sameDims checks that an elementwise op's input and output shapes agree.
func (e *evaluator) sameDims(n *ir.Node, in, out ir.Shape) error {
	if in.C != out.C || in.H != out.H || in.W != out.W {
		return e.errorf(n, "input shape %v, output shape %v: want equal", in, out)
	}
	return nil
}

// checkShape checks that s is a sensible per-image shape.
func checkShape(s ir.Shape) error {
	if s.C < 1 || s.H < 1 || s.W < 1 || s.C > maxDim || s.H > maxDim || s.W > maxDim {
		return fmt.Errorf("dimensions out of range")
	}
	if s.Flat && (s.H != 1 || s.W != 1) {
		return fmt.Errorf("flat shape with H, W ≠ 1")
	}
	if _, ok := mulLimit(maxElems, s.C, s.H, s.W); !ok {
		return fmt.Errorf("too many elements")
	}
	return nil
}

// inRange reports whether every v is in [lo, maxAttr].
func inRange(lo int, vs ...int) bool {
	for _, v := range vs {
		if v < lo || v > maxAttr {
			return false
		}
	}
	return true
}

// checkConv checks a convolution's attributes against its input and output shapes.
func checkConv(a *ir.ConvAttrs, in, out ir.Shape) error {
	if !inRange(1, a.Filters, a.KH, a.KW, a.StrideH, a.StrideW, a.DilH, a.DilW, a.Groups) ||
		!inRange(0, a.Pad.Top, a.Pad.Bottom, a.Pad.Left, a.Pad.Right) {
		return fmt.Errorf("attributes out of range: %+v", *a)
	}
	if in.C%a.Groups != 0 || a.Filters%a.Groups != 0 {
		return fmt.Errorf("%d groups do not divide %d input channels and %d filters", a.Groups, in.C, a.Filters)
	}
	oh, okH := convOut(in.H, a.KH, a.StrideH, a.DilH, a.Pad.Top, a.Pad.Bottom)
	ow, okW := convOut(in.W, a.KW, a.StrideW, a.DilW, a.Pad.Left, a.Pad.Right)
	if !okH || !okW {
		return fmt.Errorf("dilated kernel larger than the padded input %v", in)
	}
	if out.C != a.Filters || out.H != oh || out.W != ow {
		return fmt.Errorf("output shape %v, but %d filters on %v give %dx%dx%d", out, a.Filters, in, a.Filters, oh, ow)
	}
	return nil
}

// convOut is PyTorch's convolution output size along one axis.
func convOut(size, k, stride, dil, padBefore, padAfter int) (int, bool) {
	span := size + padBefore + padAfter - dil*(k-1) - 1
	if span < 0 {
		return 0, false
	}
	return span/stride + 1, true
}

// poolOut is PyTorch's pooling output size along one axis, with the padding
// generalised to be asymmetric: in ceil mode the last window is dropped if it
// would start in the bottom/right padding.
func poolOut(size, k, stride, padBefore, padAfter int, ceil bool) (int, bool) {
	span := size + padBefore + padAfter - k
	if span < 0 {
		return 0, false
	}
	if !ceil {
		return span/stride + 1, true
	}
	o := (span+stride-1)/stride + 1
	if (o-1)*stride >= size+padBefore {
		o--
	}
	return o, true
}

// checkPool checks pooling attributes against the input and output shapes:
// the output size must be PyTorch's, and so every window overlaps the input.
func checkPool(a *ir.PoolAttrs, in, out ir.Shape) error {
	if !inRange(1, a.KH, a.KW, a.StrideH, a.StrideW) ||
		!inRange(0, a.Pad.Top, a.Pad.Bottom, a.Pad.Left, a.Pad.Right) {
		return fmt.Errorf("attributes out of range: %+v", *a)
	}
	if out.C != in.C {
		return fmt.Errorf("pooling %v into %v changes the channel count", in, out)
	}
	oh, okH := poolOut(in.H, a.KH, a.StrideH, a.Pad.Top, a.Pad.Bottom, a.Ceil)
	ow, okW := poolOut(in.W, a.KW, a.StrideW, a.Pad.Left, a.Pad.Right, a.Ceil)
	if !okH || !okW {
		return fmt.Errorf("window larger than the padded input %v", in)
	}
	if out.H != oh || out.W != ow {
		return fmt.Errorf("output shape %v, but pooling %v gives %dx%dx%d", out, in, in.C, oh, ow)
	}
	// Every window must contain a real element: the first must end after
	// row 0 and the last must start before the end (likewise for columns).
	if a.KH <= a.Pad.Top || a.KW <= a.Pad.Left ||
		(oh-1)*a.StrideH-a.Pad.Top >= in.H || (ow-1)*a.StrideW-a.Pad.Left >= in.W {
		return fmt.Errorf("a pooling window lies entirely in the padding (padding %v, kernel %dx%d)", a.Pad, a.KH, a.KW)
	}
	return nil
}

// checkLRN checks LRN attributes.
func checkLRN(a *ir.LRNAttrs) error {
	if !inRange(1, a.Size) {
		return fmt.Errorf("size %d out of range", a.Size)
	}
	return nil
}

// mulLimit returns the product of xs (all ≥ 0) and whether it is at most limit.
func mulLimit(limit int, xs ...int) (int, bool) {
	p := 1
	for _, x := range xs {
		if x < 0 {
			return 0, false
		}
		if x != 0 && p > limit/x {
			return 0, false
		}
		p *= x
	}
	return p, true
}
