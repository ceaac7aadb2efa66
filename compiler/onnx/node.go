package onnx

import (
	"fmt"
	"slices"
	"strings"

	pb "github.com/cnnc/cnnc/compiler/onnx/onnxpb"
	"github.com/cnnc/cnnc/compiler/tensor"
)

// node is the view of an ONNX node a handler works with. Attribute getters
// record the first problem in err; handlers return it.
type node struct {
	im    *importer
	pb    *pb.NodeProto
	attrs map[string]*pb.AttributeProto
	err   error
}

// handler translates one node. It reads its inputs with in, sets its
// outputs with out, and returns an error to refuse the node.
type handler struct {
	attrs []string // the attributes it understands; any other is refused
	fn    func(n *node) error
}

func (n *node) failf(format string, args ...any) {
	if n.err == nil {
		n.err = fmt.Errorf(format, args...)
	}
}

// translate runs a node's handler and records its refusal. A node whose
// input was refused is not checked: it is counted, not reported.
func (im *importer) translate(p *pb.NodeProto) {
	n := &node{im: im, pb: p, attrs: map[string]*pb.AttributeProto{}}
	for _, in := range p.Input {
		if v := im.vals[in]; in != "" && v != nil && v.bad {
			n.err = errSilent
		}
	}
	switch {
	case !im.known(p):
		im.refused = append(im.refused, refusal{node: p})
		n.err = errSilent
	case n.err == nil:
		h := handlers[p.GetOpType()]
		var unknown []string
		for _, a := range p.Attribute {
			name := a.GetName()
			if _, dup := n.attrs[name]; dup {
				n.failf("attribute %s is given twice", name)
			}
			n.attrs[name] = a
			if !slices.Contains(h.attrs, name) {
				unknown = append(unknown, name)
			}
		}
		if len(unknown) > 0 {
			n.failf("attribute(s) %s are not supported for %s (supported: %s)", strings.Join(unknown, ", "), p.GetOpType(), strings.Join(h.attrs, ", "))
		}
		if n.err == nil {
			n.err = h.fn(n)
		}
		if n.err != nil {
			im.refused = append(im.refused, refusal{node: p, msg: n.err.Error()})
		}
	default:
		im.unread++
	}
	if n.err != nil {
		for _, o := range p.Output {
			if o != "" {
				im.vals[o] = &value{bad: true}
			}
		}
	}
}

var errSilent = fmt.Errorf("an input failed")

// in returns input i, or nil if the node has no such input (or it is "").
func (n *node) in(i int) *value {
	if i >= len(n.pb.Input) || n.pb.Input[i] == "" {
		return nil
	}
	return n.im.vals[n.pb.Input[i]]
}

func (n *node) inName(i int) string {
	if i >= len(n.pb.Input) {
		return ""
	}
	return n.pb.Input[i]
}

// nin is the number of inputs, counting empty (skipped) ones.
func (n *node) nin() int { return len(n.pb.Input) }

// out sets output i.
func (n *node) out(i int, v *value) {
	if i < len(n.pb.Output) && n.pb.Output[i] != "" {
		n.im.vals[n.pb.Output[i]] = v
	}
}

// outputs checks the node has between 1 and max outputs and that outputs
// beyond the first (masks, indices, training statistics) are unused.
func (n *node) outputs(max int) error {
	if len(n.pb.Output) == 0 || n.pb.Output[0] == "" {
		return fmt.Errorf("the node has no output")
	}
	if len(n.pb.Output) > max {
		return fmt.Errorf("%d outputs; %s has at most %d", len(n.pb.Output), n.pb.GetOpType(), max)
	}
	for _, o := range n.pb.Output[1:] {
		if o != "" && (len(n.im.users[o]) > 0 || o == n.im.outName) {
			return fmt.Errorf("output %q is used; cnnc import supports only the first output of %s", o, n.pb.GetOpType())
		}
	}
	return nil
}

// inputs checks the number of inputs, counting skipped optional ones.
func (n *node) inputs(min, max int) error {
	if k := n.nin(); k < min || k > max {
		if min == max {
			return fmt.Errorf("%d inputs; %s takes %d", k, n.pb.GetOpType(), min)
		}
		return fmt.Errorf("%d inputs; %s takes %d to %d", k, n.pb.GetOpType(), min, max)
	}
	if n.in(0) == nil {
		return fmt.Errorf("the first input is missing")
	}
	return nil
}

func (n *node) attr(name string, typ pb.AttributeProto_AttributeType) *pb.AttributeProto {
	a := n.attrs[name]
	if a == nil {
		return nil
	}
	if t := a.GetType(); t != typ && t != pb.AttributeProto_UNDEFINED {
		n.failf("attribute %s has type %s; want %s", name, t, typ)
		return nil
	}
	return a
}

func (n *node) attrInt(name string, def int64) int64 {
	if a := n.attr(name, pb.AttributeProto_INT); a != nil {
		return a.GetI()
	}
	return def
}

func (n *node) attrFloat(name string, def float32) float32 {
	if a := n.attr(name, pb.AttributeProto_FLOAT); a != nil {
		return a.GetF()
	}
	return def
}

func (n *node) attrString(name, def string) string {
	if a := n.attr(name, pb.AttributeProto_STRING); a != nil {
		return string(a.GetS())
	}
	return def
}

// attrInts returns a list attribute and whether it was given.
func (n *node) attrInts(name string) ([]int64, bool) {
	if a := n.attr(name, pb.AttributeProto_INTS); a != nil {
		return a.Ints, true
	}
	return nil, false
}

// act returns input i as an activation (not a constant, not an unfolded
// Pad, not a channels-last view).
func (n *node) act(i int) (*act, error) {
	a, err := n.anyAct(i)
	if err != nil {
		return nil, err
	}
	if a.nhwc {
		return nil, n.permuted(i, a)
	}
	return a, nil
}

// anyAct returns input i as an activation in either layout: the handlers
// of channel-wise operators read channels-last views with it.
func (n *node) anyAct(i int) (*act, error) {
	v := n.in(i)
	switch {
	case v == nil:
		return nil, fmt.Errorf("input %d is missing", i)
	case v.pad != nil:
		return nil, fmt.Errorf("input %q comes from Pad %s, which cnnc folds only into a following Conv, MaxPool or AveragePool (cnnc has no padding layer)", n.inName(i), v.pad.node)
	case v.c != nil:
		return nil, fmt.Errorf("input %q is a constant; cnnc import supports %s only on activations", n.inName(i), n.pb.GetOpType())
	}
	return v.a, nil
}

// permuted is the refusal of an operator that is not channel-wise on a
// channels-last view.
func (n *node) permuted(i int, a *act) error {
	return fmt.Errorf("input %q is a channels-last view %s of %s (made by Transpose %s); on such a view cnnc import accepts only channel-wise operators: elementwise activations, LayerNormalization over the last axis, MatMul by a constant [C, D], Add, Sub, Mul and Div, Softmax over the last axis, and Transpose back to NCHW (perm [0, 3, 1, 2])",
		n.inName(i), batchDims(a.dims), a.srcName(), a.via)
}

// srcName names the layer an act reads, for messages (the layer's name is
// given when the spec is written: the nodes it comes from stand for it).
func (a *act) srcName() string {
	if a.l == nil {
		return "the input"
	}
	return "the layer from " + strings.Join(a.l.from, ", ")
}

// spatial returns input i as an activation that is a C×H×W tensor.
func (n *node) spatial(i int) (*act, error) {
	a, err := n.act(i)
	if err != nil {
		return nil, err
	}
	if len(a.dims) != 3 || !slices.Equal(a.dims, a.shape(n.im)) {
		return nil, fmt.Errorf("input %q has shape %s; %s needs [N, C, H, W]%s", n.inName(i), batchDims(a.dims), n.pb.GetOpType(), unflattenHint(n.im, a))
	}
	return a, nil
}

func unflattenHint(im *importer, a *act) string {
	if len(a.dims) == 3 && len(a.shape(im)) == 1 {
		return " (cnnc cannot turn a flat vector back into a C×H×W tensor)"
	}
	return ""
}

// materialized returns input i as an activation whose ONNX shape is the
// shape of a cnnc layer: [N, C, H, W] or [N, F].
func (n *node) materialized(i int) (*act, error) {
	a, err := n.act(i)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(a.dims, a.shape(n.im)) {
		return nil, fmt.Errorf("input %q has shape %s; cnnc import supports %s on [N, C, H, W] and [N, F] tensors%s", n.inName(i), batchDims(a.dims), n.pb.GetOpType(), unflattenHint(n.im, a))
	}
	return a, nil
}

// chanAct returns input i as an activation whose ONNX shape is a cnnc
// layer's in either layout: [N, C, H, W], [N, F], or a channels-last view
// [N, H, W, C] of a C×H×W layer. Channel-wise operators read it.
func (n *node) chanAct(i int) (*act, error) {
	a, err := n.anyAct(i)
	if err != nil {
		return nil, err
	}
	if !a.whole(n.im) {
		return nil, fmt.Errorf("input %q has shape %s; cnnc import supports %s on [N, C, H, W], [N, F] and channels-last [N, H, W, C] tensors%s", n.inName(i), batchDims(a.dims), n.pb.GetOpType(), unflattenHint(n.im, a))
	}
	return a, nil
}

// flat returns input i as an [N, F] activation.
func (n *node) flat(i int) (*act, error) {
	a, err := n.materialized(i)
	if err != nil {
		return nil, err
	}
	if len(a.dims) != 1 {
		return nil, fmt.Errorf("input %q has shape %s; %s needs a matrix [N, F] (flatten it first)", n.inName(i), batchDims(a.dims), n.pb.GetOpType())
	}
	return a, nil
}

// konst returns input i as a constant, or an error naming what it is for.
func (n *node) konst(i int, what string) (*constant, error) {
	v := n.in(i)
	if v == nil || v.c == nil {
		return nil, fmt.Errorf("%s (input %d, %q) must be a constant (an initializer or computed from Constant and Shape)", what, i, n.inName(i))
	}
	return v.c, nil
}

// floatConst returns input i as a float constant with the given dims.
func (n *node) floatConst(i int, what string) (*constant, error) {
	c, err := n.konst(i, what)
	if err != nil {
		return nil, err
	}
	if c.isInt {
		return nil, fmt.Errorf("%s %q is an integer tensor; want floating point", what, n.inName(i))
	}
	return c, nil
}

// intList returns a constant input as a list of plain integers (no batch
// markers).
func (n *node) intList(i int, what string) ([]int64, error) {
	c, err := n.konst(i, what)
	if err != nil {
		return nil, err
	}
	if !c.isInt || len(c.dims) > 1 {
		return nil, fmt.Errorf("%s %q must be a 1-D integer tensor", what, n.inName(i))
	}
	if slices.Contains(c.batch, true) {
		return nil, fmt.Errorf("%s %q depends on the batch size", what, n.inName(i))
	}
	return c.i, nil
}

// newLayer adds a layer made from this node, reading ins, with the given
// per-image shape and fields. suffix distinguishes a second layer made from
// the same node. The layer is named when the spec is written, if it is
// live then (finish).
func (n *node) newLayer(op string, ins []*act, shape []int, suffix string, fields ...field) *layer {
	im := n.im
	l := &layer{
		node:   n.pb,
		suffix: suffix,
		op:     op,
		shape:  shape,
		fields: fields,
		from:   im.sources(n.pb),
	}
	for _, a := range ins {
		l.ins = append(l.ins, a.l)
	}
	im.layers = append(im.layers, l)
	return l
}

// param adds a parameter tensor to l, named by its suffix (weight, bias,
// ...) until the layer is named.
func (l *layer) param(suffix string, shape []int, data []float32) *tensor.Tensor {
	t := &tensor.Tensor{Name: suffix, Shape: shape, Data: data}
	l.params = append(l.params, t)
	return t
}

// tensor returns l's parameter with the given suffix, or nil.
func (l *layer) tensor(suffix string) *tensor.Tensor {
	for _, t := range l.params {
		if t.Name == suffix {
			return t
		}
	}
	return nil
}

// field returns the value of l's field key, or nil.
func (l *layer) field(key string) any {
	for _, f := range l.fields {
		if f.key == key {
			return f.val
		}
	}
	return nil
}

// view returns a with new per-image dims (a reshape that keeps the batch
// dimension first and the data in place). A view that makes a C×H×W layer
// a vector adds a flatten layer, named after the node; other views that
// match no layer shape stay pending until a later reshape resolves them.
func (n *node) view(a *act, dims []int) *act {
	sh := a.shape(n.im)
	if len(dims) == 1 && len(sh) == 3 {
		l := n.newLayer("flatten", []*act{a}, []int{dims[0]}, "")
		return &act{l: l, dims: dims}
	}
	return &act{l: a.l, dims: slices.Clone(dims)}
}

func prod(d []int) int {
	p := 1
	for _, x := range d {
		p *= x
	}
	return p
}
