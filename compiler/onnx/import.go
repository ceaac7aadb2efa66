package onnx

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
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
	short   map[string]int  // how many live nodes would take each short name
	users   map[string][]*pb.NodeProto
	skip    map[*pb.NodeProto]bool // nodes already folded into another
	input   *act
	errs    []string
	warns   []string
	outName string
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
type act struct {
	l    *layer // nil: the network input
	dims []int  // per image, without the batch dimension
}

// padded is an activation with a pending Pad: [top, bottom, left, right]
// zeros (or value) around H and W.
type padded struct {
	src   *act
	pads  [4]int
	value float64
	node  string
}

// layer is one layer of the spec being built.
type layer struct {
	name   string
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
	im.skip = map[*pb.NodeProto]bool{}

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
	if err := im.unsupported(live); err != nil {
		return nil, err
	}
	im.users = map[string][]*pb.NodeProto{}
	im.short = map[string]int{}
	for _, n := range live {
		for _, in := range n.Input {
			if in != "" {
				im.users[in] = append(im.users[in], n)
			}
		}
		short, _ := nodeNames(n)
		im.short[short]++
	}
	for _, n := range live {
		if im.skip[n] {
			continue
		}
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

// unsupported returns one error listing every live node whose operator the
// importer does not know.
func (im *importer) unsupported(nodes []*pb.NodeProto) error {
	var bad, ops []string
	for _, n := range nodes {
		d := n.GetDomain()
		if _, ok := handlers[n.GetOpType()]; ok && (d == "" || d == "ai.onnx") {
			continue
		}
		bad = append(bad, describe(n))
		op := n.GetOpType()
		if d != "" && d != "ai.onnx" {
			op = d + "." + op
		}
		if !slices.Contains(ops, op) {
			ops = append(ops, op)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(ops)
	return &Error{File: im.file, Problems: []string{fmt.Sprintf(
		"%d node(s) use operators that cnnc import does not support (%s):\n    %s\n  supported: %s",
		len(bad), strings.Join(ops, ", "), strings.Join(bad, "\n    "), strings.Join(Supported(), ", "))}}
}

// describe names a node for messages: its name and operator.
func describe(n *pb.NodeProto) string {
	op := n.GetOpType()
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		op = d + "." + op
	}
	name := n.GetName()
	if name == "" {
		name = "(unnamed, output " + strings.Join(n.Output, ", ") + ")"
	}
	return fmt.Sprintf("%q (%s)", name, op)
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
