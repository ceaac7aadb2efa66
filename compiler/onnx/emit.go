package onnx

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	pb "github.com/cnnc/cnnc/compiler/onnx/onnxpb"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/spec"
	"github.com/cnnc/cnnc/compiler/tensor"
)

// finish keeps the layers the output needs, writes the spec and checks it
// with cnnc's own front end and passes.
func (im *importer) finish(out *layer, m *pb.ModelProto, opt Options) (*Result, error) {
	out.live = true
	for i := len(im.layers) - 1; i >= 0; i-- {
		if l := im.layers[i]; l.live {
			for _, in := range l.ins {
				if in != nil {
					in.live = true
				}
			}
		}
	}
	// Name the live layers: a short name if no other live layer's node
	// would take it.
	im.short = map[string]int{}
	counted := map[*pb.NodeProto]bool{}
	for _, l := range im.layers {
		if l.live && !counted[l.node] {
			counted[l.node] = true
			short, _ := nodeNames(l.node)
			im.short[short]++
		}
	}
	var layers []*layer
	for _, l := range im.layers {
		if l.live {
			l.name = im.layerNameFor(l.node, l.suffix)
			for _, t := range l.params {
				t.Name = l.name + "." + t.Name
			}
			layers = append(layers, l)
		}
	}
	name := opt.Name
	if name == "" {
		name = "model"
		if opt.Source != "" {
			name = specName(baseName(opt.Source))
		}
	} else if err := spec.CheckPackageName(name); err != nil {
		return nil, fmt.Errorf("-name: %v", err)
	}
	src := im.emit(layers, name, m, opt)

	// Check the result as `cnnc check` would, and that every layer has the
	// shape ONNX's rules gave it.
	s, err := spec.Parse(name+".yaml (imported)", src)
	if err != nil {
		return nil, fmt.Errorf("the imported spec is not valid (a bug in cnnc import, or a limit of cnnc):\n%v", err)
	}
	g, err := compiler.CompileSpec(s, passes.Options{Stop: "inferShapes"})
	if err != nil {
		return nil, fmt.Errorf("the imported spec is not valid:\n%v", err)
	}
	if _, err := compiler.CompileSpec(s, passes.Options{Verify: true}); err != nil {
		return nil, fmt.Errorf("the imported spec does not compile:\n%v", err)
	}
	byName := map[string]*layer{}
	for _, l := range layers {
		byName[l.name] = l
	}
	for _, nd := range g.Nodes[1:] {
		l := byName[nd.Name]
		if l == nil {
			return nil, fmt.Errorf("internal error: the spec has a layer %s that the importer did not make", nd.Name)
		}
		if !sameShape(nd.Shape, l.shape) {
			return nil, fmt.Errorf("internal error: cnnc infers %s for layer %s (from %s), ONNX %v", nd.Shape, nd.Name, strings.Join(l.from, ", "), l.shape)
		}
	}
	tensors := map[string]*tensor.Tensor{}
	for _, l := range layers {
		for _, t := range l.params {
			tensors[t.Name] = t
		}
	}
	wants := params.Wants(g)
	res := &Result{Name: name, Spec: src, Layers: len(layers), Opset: im.opset, Warnings: im.warns}
	copy(res.Inputs[:], im.input.dims)
	order := make([]string, 0, len(wants))
	for _, w := range wants {
		t := tensors[w.Name]
		if t == nil {
			return nil, fmt.Errorf("internal error: no tensor %s", w.Name)
		}
		res.Weights = append(res.Weights, t)
		order = append(order, w.Name)
	}
	if len(res.Weights) != len(tensors) {
		return nil, fmt.Errorf("internal error: %d tensors made, %d read", len(tensors), len(res.Weights))
	}
	f := &tensor.File{Tensors: tensors, Order: order}
	if _, _, err := params.Match(g, f); err != nil {
		return nil, fmt.Errorf("internal error: the weights do not fit the spec: %v", err)
	}
	// The names and shapes fit, so Bind can only object to NaN or ±Inf,
	// which the model's initializers hold as they are: the import writes
	// them, but says so.
	if _, _, err := params.Bind(g, f); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the weights are not all finite; cnnc run and the compiled package's Load refuse them:\n%v", err))
	}
	return res, nil
}

func sameShape(s ir.Shape, dims []int) bool {
	if len(dims) == 1 {
		return s.Flat && s.C == dims[0]
	}
	return len(dims) == 3 && !s.Flat && s.C == dims[0] && s.H == dims[1] && s.W == dims[2]
}

// emit writes the spec: a header comment, then one flow-style mapping per
// layer with a comment naming the ONNX nodes it came from.
func (im *importer) emit(layers []*layer, name string, m *pb.ModelProto, opt Options) []byte {
	var b strings.Builder
	source := "an ONNX model"
	if opt.Source != "" {
		source = baseOf(opt.Source)
	}
	producer := strings.TrimSpace(m.GetProducerName() + " " + m.GetProducerVersion())
	if producer == "" {
		producer = "an unnamed producer"
	}
	fmt.Fprintf(&b, "# Imported by cnnc import from %s: ONNX IR version %d, opset %d, written by %s.\n",
		comment(source), m.GetIrVersion(), im.opset, comment(producer))
	b.WriteString("# Layer names come from the ONNX node names; the comment after each layer\n")
	b.WriteString("# names the nodes it was made from. Weights: <layer>.weight, <layer>.bias, ...\n")
	fmt.Fprintf(&b, "name: %s\n", name)
	fmt.Fprintf(&b, "description: %s\n", yamlString("imported from "+source))
	fmt.Fprintf(&b, "input: [%d, %d, %d]\n", im.input.dims[0], im.input.dims[1], im.input.dims[2])
	b.WriteString("layers:\n")
	maps := make([]string, len(layers))
	width := 0
	for i, l := range layers {
		var prev *layer
		if i > 0 {
			prev = layers[i-1]
		}
		maps[i] = l.mapping(prev)
		width = max(width, min(len(maps[i]), 96))
	}
	for i, l := range layers {
		fmt.Fprintf(&b, "  - %-*s  # %s\n", width, maps[i], comment(strings.Join(l.from, ", ")))
	}
	return []byte(b.String())
}

// mapping is the layer as a YAML flow mapping. prev is the layer before it
// in the spec, which a layer reads unless it says otherwise.
func (l *layer) mapping(prev *layer) string {
	parts := []string{"name: " + l.name, "op: " + l.op}
	switch {
	case len(l.ins) > 1:
		names := make([]string, len(l.ins))
		for i, in := range l.ins {
			names[i] = layerName(in)
		}
		parts = append(parts, "inputs: ["+strings.Join(names, ", ")+"]")
	case l.ins[0] != prev:
		parts = append(parts, "input: "+layerName(l.ins[0]))
	}
	for _, f := range l.fields {
		parts = append(parts, f.key+": "+formatValue(f.val))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func formatValue(v any) string {
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v)
	case [2]int:
		return fmt.Sprintf("[%d, %d]", v[0], v[1])
	case f32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case bool:
		return strconv.FormatBool(v)
	case string:
		return v
	}
	panic(fmt.Sprintf("onnx: no format for %T", v))
}

// comment makes untrusted text (node names, the producer) safe inside a
// YAML comment: printable ASCII only, at most 200 characters.
func comment(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 200 {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

var plainYAML = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.+ -]*$`)

// yamlString writes s as a YAML scalar: plain if it is obviously safe,
// else double-quoted with escapes (Go's ASCII quoting is a subset of
// YAML's double-quoted escapes).
func yamlString(s string) string {
	if plainYAML.MatchString(s) && !strings.HasSuffix(s, " ") {
		return s
	}
	return strconv.QuoteToASCII(s)
}

func baseOf(path string) string {
	i := strings.LastIndexAny(path, `/\`)
	return path[i+1:]
}

// Tensors returns the result's weights as a map by name (for tests and
// tools).
func (r *Result) Tensors() map[string]*tensor.Tensor {
	m := make(map[string]*tensor.Tensor, len(r.Weights))
	for _, t := range r.Weights {
		m[t.Name] = t
	}
	return m
}
