package onnx

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "github.com/cnnc/cnnc/compiler/onnx/onnxpb"
	"github.com/cnnc/cnnc/compiler/spec"
	"github.com/cnnc/cnnc/compiler/tensor"
)

// Options control an import.
type Options struct {
	// Source is the model's file name, used in messages and in the header
	// comment of the spec (only its base name goes into the spec).
	Source string
	// Name is the spec's name (the generated package's name). Empty means
	// the base name of Source, made an identifier.
	Name string
}

// Result is an imported model.
type Result struct {
	Name string // the spec's name
	// Spec is the spec, YAML, one flow-style mapping per layer.
	Spec []byte
	// Weights are the tensors the spec reads, in the order cnnc's
	// params.Wants lists them.
	Weights []*tensor.Tensor
	Layers  int    // layers in the spec
	Opset   int64  // the model's ai.onnx opset
	Inputs  [3]int // C, H, W
	// Warnings are things worth telling the user that do not stop the
	// import (nodes that do not reach the output, dropped outputs, NaN or
	// ±Inf in the weights).
	Warnings []string
}

// Error is an import failure: every problem found, each naming the ONNX
// node it is about.
type Error struct {
	File     string
	Problems []string
}

func (e *Error) Error() string {
	prefix := ""
	if e.File != "" {
		prefix = e.File + ": "
	}
	if len(e.Problems) == 1 {
		return prefix + e.Problems[0]
	}
	return fmt.Sprintf("%s%d problems:\n  %s", prefix, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// Supported lists the ONNX operators (domain ai.onnx) the importer handles,
// some only in the patterns the package documentation describes.
func Supported() []string {
	ops := make([]string, 0, len(handlers))
	for op := range handlers {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}

// Import translates the serialized ONNX model data into a spec and its
// weights. It returns an *Error listing every problem when the model cannot
// be expressed exactly.
func Import(data []byte, opt Options) (*Result, error) {
	m := new(pb.ModelProto)
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, &Error{File: opt.Source, Problems: []string{fmt.Sprintf("not an ONNX model: %v", err)}}
	}
	im := &importer{file: opt.Source}
	res, err := im.run(m, opt)
	if err != nil {
		var ie *Error
		if errors.As(err, &ie) {
			return nil, err
		}
		return nil, &Error{File: opt.Source, Problems: []string{err.Error()}}
	}
	return res, nil
}

// importer holds the state of one import.
type importer struct {
	file    string
	opset   int64
	batch   int64 // the input's batch dimension if the model fixes it, else 0
	vals    map[string]*value
	layers  []*layer
	used    map[string]bool // layer names taken
	short   map[string]int  // how many live layers' nodes would take each short name
	users   map[string][]*pb.NodeProto
	input   *act
	errs    []string
	refused []refusal // nodes that cannot be taken
	unread  int       // nodes not checked because an input was refused
	warns   []string
	outName string
	// fused maps the nodes that fuse.go made to the nodes they stand for.
	fused map[*pb.NodeProto][]*pb.NodeProto
}

// refusal is a node the importer cannot take, and why; msg is empty for an
// operator it does not know.
type refusal struct {
	node *pb.NodeProto
	msg  string
}

// value is what an ONNX tensor name stands for during the import.
type value struct {
	c   *constant // known at import time
	a   *act      // computed by the network
	pad *padded   // an activation with a Pad node still to fold
	bad bool      // its producer failed; consumers stay silent
}

// act is an activation: the output of a spec layer (or the network input)
// seen with ONNX's per-image dimensions. dims usually equal the layer's
// shape; Reshape, Flatten, Squeeze and Unsqueeze change dims only, and a
// change to one dimension ([N, F]) of a C×H×W layer adds a flatten layer.
// A Transpose NCHW→NHWC makes a channels-last view (nhwc): dims are the
// layer's C×H×W as H×W×C, and only channel-wise operators read it.
type act struct {
	l    *layer // nil: the network input
	dims []int  // per image, without the batch dimension
	nhwc bool   // a channels-last view of l
	via  string // for a channels-last view: the Transpose that made it
}

// layoutDims is shape ([C, H, W] or [F]) as a view in the given layout.
func layoutDims(shape []int, nhwc bool) []int {
	if nhwc && len(shape) == 3 {
		return []int{shape[1], shape[2], shape[0]}
	}
	return shape
}

// whole reports whether a is its layer's whole tensor in its layout:
// [C, H, W] or [F], or [H, W, C] for a channels-last view.
func (a *act) whole(im *importer) bool {
	return slices.Equal(a.dims, layoutDims(a.shape(im), a.nhwc))
}

// chanAxis is the index of the channel axis in a's dims (with the batch
// dimension in front, add one).
func (a *act) chanAxis() int {
	if a.nhwc {
		return len(a.dims) - 1
	}
	return 0
}

// padded is an activation with a pending Pad: [top, bottom, left, right]
// zeros (or value) around H and W.
type padded struct {
	src   *act
	pads  [4]int
	value float64
	node  string
}

// layer is one layer of the spec being built. It is named (name, and its
// tensors <name>.<suffix>) when the spec is written, after the layers that
// do not reach the output are left out, from node and suffix.
type layer struct {
	name   string
	node   *pb.NodeProto // the node it is named after
	suffix string        // appended to the node's name (a second layer from one node)
	op     string
	fields []field
	ins    []*layer // nil entries: the network input
	shape  []int    // cnnc's per-image shape: [C, H, W], or [F] for a flat vector
	params []*tensor.Tensor
	from   []string // the ONNX nodes it comes from
	live   bool
}

// field is one key: value of a layer's mapping; val is an int, a [2]int
// pair, a float32 (printed as the shortest float32), a bool or a string.
type field struct {
	key string
	val any
}

func (a *act) shape(im *importer) []int {
	if a.l == nil {
		return im.input.dims
	}
	return a.l.shape
}

// name returns the spec name of the layer an act reads.
func layerName(l *layer) string {
	if l == nil {
		return spec.InputName
	}
	return l.name
}

func (im *importer) errorf(format string, args ...any) {
	im.errs = append(im.errs, fmt.Sprintf(format, args...))
}

func (im *importer) fail() error {
	if len(im.refused) > 0 {
		im.errs = append(im.errs, im.refusals())
		im.refused = nil
	}
	if len(im.errs) == 0 {
		return nil
	}
	return &Error{File: im.file, Problems: im.errs}
}

func (im *importer) run(m *pb.ModelProto, opt Options) (*Result, error) {
	g := m.Graph
	if g == nil {
		return nil, fmt.Errorf("the model has no graph")
	}
	for _, o := range m.OpsetImport {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			im.opset = o.GetVersion()
		}
	}
	if im.opset <= 0 {
		return nil, fmt.Errorf("the model imports no ai.onnx opset")
	}
	im.vals = map[string]*value{}
	im.used = map[string]bool{}
	for _, r := range reservedNames {
		im.used[nameKey(r)] = true
	}
	im.fused = map[*pb.NodeProto][]*pb.NodeProto{}

	// Initializers are constants.
	for _, t := range g.Initializer {
		name := t.GetName()
		if name == "" {
			im.errorf("an initializer has no name")
			continue
		}
		if _, dup := im.vals[name]; dup {
			im.errorf("initializer %q is defined twice", name)
			continue
		}
		c, err := decodeTensor(t)
		if err != nil {
			im.errorf("%v", err)
			im.vals[name] = &value{bad: true}
			continue
		}
		im.vals[name] = &value{c: c}
	}
	if len(g.SparseInitializer) > 0 {
		im.errorf("the graph has sparse initializers, which cnnc import does not read")
	}
	im.graphInput(g)
	if len(g.Output) != 1 {
		im.errorf("the graph has %d outputs; a cnnc network has exactly one", len(g.Output))
	} else {
		im.outName = g.Output[0].GetName()
	}
	if err := im.fail(); err != nil {
		return nil, err
	}

	nodes, err := im.order(g)
	if err != nil {
		return nil, err
	}
	live := im.liveNodes(nodes)
	if dead := len(nodes) - len(live); dead > 0 {
		im.warns = append(im.warns, fmt.Sprintf("%d node(s) do not contribute to the output and were ignored", dead))
	}
	// Fusion replaces written-out functions with one node each; the nodes
	// they leave unused drop out here.
	live = im.liveNodes(im.fuse(live))
	im.users = map[string][]*pb.NodeProto{}
	for _, n := range live {
		for _, in := range n.Input {
			if in != "" {
				im.users[in] = append(im.users[in], n)
			}
		}
	}
	for _, n := range live {
		im.translate(n)
	}
	if err := im.fail(); err != nil {
		return nil, err
	}
	out := im.vals[im.outName]
	var outAct *act
	switch {
	case out == nil || out.bad:
		return nil, fmt.Errorf("the graph output %q is not computed", im.outName)
	case out.a == nil:
		return nil, fmt.Errorf("the graph output %q is a constant or an unfolded Pad; cnnc needs a network", im.outName)
	case out.a.l == nil:
		return nil, fmt.Errorf("the graph output %q is the input itself; the network has no layers", im.outName)
	default:
		outAct = out.a
	}
	if !slices.Equal(outAct.dims, outAct.shape(im)) {
		return nil, fmt.Errorf("the graph output %q has shape %s, which no cnnc layer produces", im.outName, batchDims(outAct.dims))
	}
	return im.finish(outAct.l, m, opt)
}

// graphInput finds the one graph input that is not an initializer and
// checks that it is a float NCHW tensor with fixed C, H and W.
func (im *importer) graphInput(g *pb.GraphProto) {
	var ins []*pb.ValueInfoProto
	for _, in := range g.Input {
		if _, isInit := im.vals[in.GetName()]; !isInit {
			ins = append(ins, in)
		}
	}
	if len(ins) != 1 {
		names := make([]string, len(ins))
		for i, in := range ins {
			names[i] = in.GetName()
		}
		im.errorf("the graph has %d inputs %q; a cnnc network has exactly one, an image batch [N, C, H, W]", len(ins), names)
		return
	}
	in := ins[0]
	tt := in.GetType().GetTensorType()
	if tt == nil || tt.Shape == nil {
		im.errorf("input %q has no tensor type or no shape; cnnc needs [N, C, H, W] with fixed C, H and W", in.GetName())
		return
	}
	if et := tt.GetElemType(); et != int32(pb.TensorProto_FLOAT) {
		im.errorf("input %q has type %s; cnnc networks take FLOAT input", in.GetName(), dataTypeName(et))
		return
	}
	dims := tt.Shape.Dim
	if len(dims) != 4 {
		im.errorf("input %q has %d dimensions; cnnc needs an image batch [N, C, H, W]", in.GetName(), len(dims))
		return
	}
	if v, ok := dims[0].Value.(*pb.TensorShapeProto_Dimension_DimValue); ok {
		im.batch = v.DimValue
		if im.batch < 1 {
			im.errorf("input %q has batch dimension %d", in.GetName(), im.batch)
		}
	}
	chw := make([]int, 3)
	for i, d := range dims[1:] {
		v, ok := d.Value.(*pb.TensorShapeProto_Dimension_DimValue)
		if !ok {
			im.errorf("input %q: dimension %d (%s) is not fixed; cnnc compiles for fixed C, H and W: export the model with a fixed input size", in.GetName(), i+1, "CHW"[i:i+1])
			return
		}
		if v.DimValue < 1 || v.DimValue > spec.MaxDim {
			im.errorf("input %q: dimension %d is %d, outside [1, %d]", in.GetName(), i+1, v.DimValue, spec.MaxDim)
			return
		}
		chw[i] = int(v.DimValue)
	}
	im.input = &act{dims: chw}
	im.vals[in.GetName()] = &value{a: im.input}
}

// order returns the nodes in a topological order (ONNX requires one, but
// the importer does not rely on it), or an error naming an undefined input
// or a cycle.
func (im *importer) order(g *pb.GraphProto) ([]*pb.NodeProto, error) {
	producer := map[string]int{}
	for i, n := range g.Node {
		for _, o := range n.Output {
			if o == "" {
				continue
			}
			if _, dup := producer[o]; dup {
				im.errorf("tensor %q is produced by two nodes", o)
				continue
			}
			if _, isVal := im.vals[o]; isVal {
				im.errorf("node %s overwrites %q, an initializer or the input", describe(n), o)
				continue
			}
			producer[o] = i
		}
	}
	deps := make([][]int, len(g.Node)) // deps[i]: nodes that read node i's outputs
	pending := make([]int, len(g.Node))
	for i, n := range g.Node {
		for _, in := range n.Input {
			if in == "" {
				continue
			}
			if p, ok := producer[in]; ok {
				deps[p] = append(deps[p], i)
				pending[i]++
			} else if _, ok := im.vals[in]; !ok {
				im.errorf("node %s reads %q, which nothing defines", describe(n), in)
			}
		}
	}
	if err := im.fail(); err != nil {
		return nil, err
	}
	var ready []int
	for i := range g.Node {
		if pending[i] == 0 {
			ready = append(ready, i)
		}
	}
	out := make([]*pb.NodeProto, 0, len(g.Node))
	for len(ready) > 0 {
		// Take the earliest ready node, so that a sorted graph keeps its order.
		k := slices.Index(ready, slices.Min(ready))
		i := ready[k]
		ready = slices.Delete(ready, k, k+1)
		out = append(out, g.Node[i])
		for _, d := range deps[i] {
			if pending[d]--; pending[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	if len(out) != len(g.Node) {
		return nil, fmt.Errorf("the graph has a cycle")
	}
	if _, ok := producer[im.outName]; !ok {
		if _, ok := im.vals[im.outName]; !ok {
			return nil, fmt.Errorf("the graph output %q is not produced by any node", im.outName)
		}
	}
	return out, nil
}

// liveNodes returns the nodes the graph output depends on, in order.
func (im *importer) liveNodes(nodes []*pb.NodeProto) []*pb.NodeProto {
	need := map[string]bool{im.outName: true}
	keep := make([]bool, len(nodes))
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		if !slices.ContainsFunc(n.Output, func(o string) bool { return need[o] }) {
			continue
		}
		keep[i] = true
		for _, in := range n.Input {
			need[in] = true
		}
	}
	var live []*pb.NodeProto
	for i, n := range nodes {
		if keep[i] {
			live = append(live, n)
		}
	}
	return live
}

// known reports whether the importer has a handler for n.
func (im *importer) known(n *pb.NodeProto) bool {
	d := n.GetDomain()
	_, ok := handlers[n.GetOpType()]
	return ok && (d == "" || d == "ai.onnx")
}

// maxListed bounds the node names a refusal lists for one reason.
const maxListed = 8

// refusals describes every refused node in one message, grouped by
// operator and, within an operator, by reason.
func (im *importer) refusals() string {
	type group struct {
		op      string
		reasons []string // in order of first appearance
		nodes   map[string][]string
		count   int
	}
	groups := map[string]*group{}
	var ops []string
	unknown := 0
	for _, r := range im.refused {
		op := opName(r.node)
		g := groups[op]
		if g == nil {
			g = &group{op: op, nodes: map[string][]string{}}
			groups[op] = g
			ops = append(ops, op)
		}
		msg := r.msg
		if msg == "" {
			msg = "cnnc import has no such operator"
			if p, ok := patternOps[op]; ok {
				msg = fmt.Sprintf("cnnc import takes %s only as part of %s, written as docs/import.md shows", op, p)
			}
			unknown++
		}
		if _, seen := g.nodes[msg]; !seen {
			g.reasons = append(g.reasons, msg)
		}
		g.nodes[msg] = append(g.nodes[msg], im.describeName(r.node))
		g.count++
	}
	slices.Sort(ops)
	list := func(names []string) string {
		s := strings.Join(names[:min(len(names), maxListed)], ", ")
		if len(names) > maxListed {
			s += fmt.Sprintf(" and %d more", len(names)-maxListed)
		}
		return s
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cannot import %d node(s)", len(im.refused))
	if im.unread > 0 {
		fmt.Fprintf(&b, " (%d more read their outputs and were not checked)", im.unread)
	}
	b.WriteString(":")
	for _, op := range ops {
		g := groups[op]
		if len(g.reasons) == 1 && g.count > 1 {
			fmt.Fprintf(&b, "\n    %s ×%d: %s\n      %s", op, g.count, g.reasons[0], list(g.nodes[g.reasons[0]]))
			continue
		}
		fmt.Fprintf(&b, "\n    %s ×%d:", op, g.count)
		for _, msg := range g.reasons {
			if names := g.nodes[msg]; len(names) == 1 {
				fmt.Fprintf(&b, "\n      %s: %s", names[0], msg)
			} else {
				fmt.Fprintf(&b, "\n      %s:\n        %s", msg, list(names))
			}
		}
	}
	if unknown > 0 {
		fmt.Fprintf(&b, "\n  supported operators: %s", strings.Join(Supported(), ", "))
	}
	return b.String()
}

// opName is a node's operator for messages, with its domain if not ai.onnx.
func opName(n *pb.NodeProto) string {
	op := n.GetOpType()
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		op = d + "." + op
	}
	return op
}

// describeName is a node's name for messages, quoted; for a node that
// fuse.go made, the nodes it stands for follow.
func (im *importer) describeName(n *pb.NodeProto) string {
	name := n.GetName()
	if name == "" {
		name = "(unnamed, output " + strings.Join(n.Output, ", ") + ")"
	}
	name = strconv.Quote(name)
	if src, ok := im.fused[n]; ok {
		var ops []string
		for _, s := range src {
			ops = append(ops, s.GetOpType())
		}
		name += " (fused from " + strings.Join(ops, ", ") + ")"
	}
	return name
}

// sources names the ONNX nodes a node stands for: itself, or the nodes it
// was fused from.
func (im *importer) sources(n *pb.NodeProto) []string {
	src, ok := im.fused[n]
	if !ok {
		return []string{n.GetName()}
	}
	// The fused node is named <the module the nodes share>/<op>: list the
	// nodes' names after that prefix, "/blk/{Div, Erf, Add, Mul, Mul_1}".
	prefix := n.GetName()[:strings.LastIndex(n.GetName(), "/")+1]
	var names []string
	for _, s := range src {
		names = append(names, strings.TrimPrefix(s.GetName(), prefix))
	}
	return []string{prefix + "{" + strings.Join(names, ", ") + "}"}
}

// describe names a node for messages: its name and operator.
func describe(n *pb.NodeProto) string {
	name := n.GetName()
	if name == "" {
		name = "(unnamed, output " + strings.Join(n.Output, ", ") + ")"
	}
	return fmt.Sprintf("%q (%s)", name, opName(n))
}

// batchDims prints per-image dims with the batch dimension in front.
func batchDims(dims []int) string {
	s := make([]string, 0, len(dims)+1)
	s = append(s, "N")
	for _, d := range dims {
		s = append(s, fmt.Sprint(d))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// baseName is the spec name derived from a file name.
func baseName(path string) string {
	b := filepath.Base(path)
	if ext := filepath.Ext(b); ext != "" {
		b = strings.TrimSuffix(b, ext)
	}
	return b
}
