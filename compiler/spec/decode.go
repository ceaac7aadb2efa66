package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cnnc/cnnc/compiler/diag"
	"github.com/cnnc/cnnc/compiler/ir"
)

// ParseFile reads and parses the spec at path.
func ParseFile(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// Parse decodes the spec in src; file names it in error messages. Every
// problem found is reported, as a diag.List, never by panicking.
func Parse(file string, src []byte) (s *Spec, err error) {
	d := &decoder{file: file}
	if len(src) > MaxFileBytes {
		d.errs.Add(diag.Pos{File: file, Line: 1, Col: 1}, "", "spec is larger than %d bytes", MaxFileBytes)
		return nil, d.errs.Err()
	}
	defer func() {
		// The YAML library has panicked on malformed input before; a spec
		// must never crash cnnc.
		if r := recover(); r != nil {
			s, err = nil, &diag.Error{Pos: diag.Pos{File: file, Line: 1, Col: 1}, Msg: fmt.Sprintf("malformed YAML (%v)", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errs.Add(diag.Pos{File: file, Line: 1, Col: 1}, "", "empty spec")
			return nil, d.errs.Err()
		}
		return nil, d.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errs.Add(d.pos(&extra), "", "a spec is a single YAML document; found a second one")
	} else if !errors.Is(err, io.EOF) {
		return nil, d.yamlError(err)
	}
	s = d.spec(&doc)
	if err := d.errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns the YAML library's "yaml: line N: msg" into a positioned error.
func (d *decoder) yamlError(err error) error {
	msg := err.Error()
	pos := diag.Pos{File: d.file, Line: 1, Col: 1}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
		// yaml.v3 reports parser errors at the 0-based line of their
		// context (the opening bracket), scanner errors 1-based.
		if strings.HasPrefix(msg, "did not find expected") {
			pos.Line++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &diag.Error{Pos: pos, Msg: "invalid YAML: " + msg}
}

type decoder struct {
	file   string
	errs   diag.List
	budget int // YAML nodes visited; bounded so alias bombs cannot blow up
	over   bool
	cur    string // layer being decoded, for error messages
}

func (d *decoder) pos(n *yaml.Node) diag.Pos {
	return diag.Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs.Add(d.pos(n), d.cur, format, args...)
}

// visit charges one node against the budget and follows aliases. It returns
// nil once the budget is spent (after reporting it once).
func (d *decoder) visit(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 {
			d.errorf(n, "alias chain too deep")
			return nil
		}
		n = n.Alias
	}
	if n == nil || d.over {
		return nil
	}
	d.budget++
	if d.budget > maxNodes {
		d.over = true
		d.errs.Add(d.pos(n), "", "spec expands to more than %d YAML nodes (alias bomb?)", maxNodes)
		return nil
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return d.visit(n.Content[0])
	}
	return n
}

type entry struct {
	key     string
	keyNode *yaml.Node
	valNode *yaml.Node
}

// mapping returns the entries of a mapping node in order, with YAML merge
// keys (<<: *anchor) expanded; explicit keys win over merged ones.
func (d *decoder) mapping(n *yaml.Node, what string) []entry {
	n = d.visit(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping, not %s", what, kindName(n))
		return nil
	}
	var out, merged []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s keys must be plain strings", what)
			continue
		}
		if k.Value == "<<" && k.Tag == "!!merge" {
			merged = append(merged, d.merge(v, what)...)
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		out = append(out, entry{k.Value, k, v})
	}
	for _, e := range merged {
		if !seen[e.key] {
			seen[e.key] = true
			out = append(out, e)
		}
	}
	return out
}

func (d *decoder) merge(v *yaml.Node, what string) []entry {
	v = d.visit(v)
	if v == nil {
		return nil
	}
	if v.Kind == yaml.SequenceNode {
		var out []entry
		for _, m := range v.Content {
			out = append(out, d.mapping(m, what)...)
		}
		return out
	}
	return d.mapping(v, what)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "an unknown YAML node"
}

// Scalar decoders. Each reports its own error and returns ok=false.

func (d *decoder) str(n *yaml.Node, key string) (string, bool) {
	n = d.visit(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.errorf(n, "%s: want a string, got %s", key, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) integer(n *yaml.Node, key string, min int) (int, bool) {
	n = d.visit(n)
	if n == nil {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(n, "%s: want an integer, got %s", key, kindName(n))
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil {
		d.errorf(n, "%s: %q is out of range", key, n.Value)
		return 0, false
	}
	if v < int64(min) || v > MaxDim {
		d.errorf(n, "%s: %d is out of range [%d, %d]", key, v, min, MaxDim)
		return 0, false
	}
	return int(v), true
}

func (d *decoder) number(n *yaml.Node, key string) (float64, bool) {
	n = d.visit(n)
	if n == nil {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		d.errorf(n, "%s: want a number, got %s", key, kindName(n))
		return 0, false
	}
	var v float64
	if err := n.Decode(&v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		d.errorf(n, "%s: %q is not a finite number", key, n.Value)
		return 0, false
	}
	return v, true
}

func (d *decoder) boolean(n *yaml.Node, key string) (bool, bool) {
	n = d.visit(n)
	if n == nil {
		return false, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.errorf(n, "%s: want true or false, got %s", key, kindName(n))
		return false, false
	}
	var v bool
	if err := n.Decode(&v); err != nil {
		d.errorf(n, "%s: %q is not a boolean", key, n.Value)
		return false, false
	}
	return v, true
}

// pair decodes an int or an [h, w] list of ints.
func (d *decoder) pair(n *yaml.Node, key string, min int) (Pair, bool) {
	n = d.visit(n)
	if n == nil {
		return Pair{}, false
	}
	if n.Kind == yaml.SequenceNode {
		if len(n.Content) != 2 {
			d.errorf(n, "%s: want an integer or a list [height, width], got a list of %d", key, len(n.Content))
			return Pair{}, false
		}
		h, ok1 := d.integer(n.Content[0], key, min)
		w, ok2 := d.integer(n.Content[1], key, min)
		return Pair{h, w}, ok1 && ok2
	}
	v, ok := d.integer(n, key, min)
	return Pair{v, v}, ok
}

func (d *decoder) spec(doc *yaml.Node) *Spec {
	s := &Spec{File: d.file, Pos: diag.Pos{File: d.file, Line: 1, Col: 1}, Fields: map[string]diag.Pos{}}
	root := d.visit(doc)
	if root == nil {
		if !d.over {
			d.errs.Add(s.Pos, "", "empty spec")
		}
		return s
	}
	s.Pos = d.pos(root)
	var layers *yaml.Node
	var perChan [2]perChannel
	for _, e := range d.mapping(root, "a spec") {
		s.Fields[e.key] = d.pos(e.keyNode)
		switch e.key {
		case "name":
			if v, ok := d.str(e.valNode, "name"); ok {
				s.Name = v
				checkModelName(&d.errs, d.pos(e.valNode), v)
			}
		case "description":
			s.Description, _ = d.str(e.valNode, "description")
		case "input":
			s.Input = d.input(e.valNode)
		case "preprocess":
			s.Preprocess, perChan = d.preprocess(e.valNode)
		case "layers":
			layers = e.valNode
		default:
			d.errorf(e.keyNode, "unknown field %q (want name, description, input, preprocess, layers)", e.key)
		}
	}
	if s.Preprocess != nil {
		d.finishPreprocess(s.Preprocess, perChan, s.Input[0])
	}
	for _, k := range []string{"name", "input", "layers"} {
		if _, ok := s.Fields[k]; !ok {
			d.errs.Add(s.Pos, "", "missing required field %q", k)
		}
	}
	if layers != nil {
		s.Layers = d.layers(layers)
	}
	return s
}

func (d *decoder) input(n *yaml.Node) [3]int {
	n = d.visit(n)
	if n == nil {
		return [3]int{}
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) != 3 {
		d.errorf(n, "input: want [channels, height, width], got %s", kindName(n))
		return [3]int{}
	}
	var v [3]int
	for i, c := range n.Content {
		v[i], _ = d.integer(c, "input", 1)
	}
	return v
}

func (d *decoder) layers(n *yaml.Node) []*Layer {
	n = d.visit(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "layers: want a list of layers, got %s", kindName(n))
		return nil
	}
	if len(n.Content) == 0 {
		d.errorf(n, "layers: a network needs at least one layer")
		return nil
	}
	if len(n.Content) > MaxLayers {
		d.errorf(n, "layers: %d layers is more than the limit of %d", len(n.Content), MaxLayers)
		return nil
	}
	var out []*Layer
	names := map[string]*Layer{}
	for _, ln := range n.Content {
		l := d.layer(ln)
		if l == nil {
			continue
		}
		if l.Name != "" {
			if prev, dup := names[l.Name]; dup {
				d.errs.Add(l.FieldPos("name"), l.Name, "duplicate layer name (first defined at %d:%d)", prev.Pos.Line, prev.Pos.Col)
			}
			names[l.Name] = l
		}
		out = append(out, l)
		if d.over {
			break
		}
	}
	return out
}

// FieldPos returns where field key is written, or the layer's position.
func (l *Layer) FieldPos(key string) diag.Pos {
	if p, ok := l.Fields[key]; ok {
		return p
	}
	return l.Pos
}

// OpNames lists the ops of the spec language (the rows of ir's op
// table), sorted.
func OpNames() []string {
	var ops []string
	for _, op := range ir.AllOps() {
		ops = append(ops, op.String())
	}
	slices.Sort(ops)
	return ops
}

// fieldNames lists the fields op accepts, in the op table's order.
func fieldNames(op ir.Op) []string {
	var out []string
	for _, f := range op.Info().Fields {
		out = append(out, f.Name)
	}
	return out
}

// inputsSyntax is how a multi-input op names its operands.
func inputsSyntax(op ir.Op) string {
	if op.Info().Arity == ir.Binary {
		return "inputs: [a, b]"
	}
	return "inputs: [a, b, ...]"
}

func multiInput(op ir.Op) bool { a := op.Info().Arity; return a == ir.Variadic || a == ir.Binary }

func (d *decoder) layer(n *yaml.Node) *Layer {
	d.cur = ""
	defer func() { d.cur = "" }()
	node := d.visit(n)
	if node == nil {
		return nil
	}
	entries := d.mapping(node, "a layer")
	if entries == nil {
		return nil
	}
	l := &Layer{Pos: d.pos(node), Fields: map[string]diag.Pos{}}
	byKey := map[string]entry{}
	for _, e := range entries {
		byKey[e.key] = e
		l.Fields[e.key] = d.pos(e.keyNode)
	}
	if e, ok := byKey["name"]; ok {
		if v, ok := d.str(e.valNode, "name"); ok {
			l.Name = v
			if !IsIdent(v) {
				d.errorf(e.valNode, "name: %q is not a valid layer name (letters, digits, underscore; not starting with a digit)", v)
			} else if v == InputName {
				d.errorf(e.valNode, "name: %q is reserved for the network input", v)
			}
		}
	} else {
		d.errorf(node, "layer is missing its name")
	}
	d.cur = l.Name
	e, ok := byKey["op"]
	if !ok {
		d.errorf(node, "missing op (one of %s)", strings.Join(OpNames(), ", "))
		return l
	}
	op, ok := d.str(e.valNode, "op")
	if !ok {
		return l
	}
	irOp, known := ir.ParseOp(op)
	if !known {
		d.errorf(e.valNode, "unknown op %q (want one of %s)", op, strings.Join(OpNames(), ", "))
		return l
	}
	allowed := fieldNames(irOp)
	l.Op = op
	l.setDefaults(irOp)
	for _, e := range entries {
		switch e.key {
		case "name", "op":
			continue
		case "input":
			if multiInput(irOp) {
				d.errorf(e.keyNode, "%s takes its operands as `%s`, not `input`", op, inputsSyntax(irOp))
				continue
			}
			if v, ok := d.str(e.valNode, "input"); ok {
				l.Inputs = []string{v}
			}
			continue
		case "inputs":
			if !multiInput(irOp) {
				d.errorf(e.keyNode, "%s reads one tensor: use `input: <layer>`", op)
				continue
			}
			l.Inputs = d.names(e.valNode)
			continue
		}
		if !slices.Contains(allowed, e.key) {
			if len(allowed) == 0 {
				d.errorf(e.keyNode, "unknown field %q: %s takes no parameters", e.key, op)
			} else {
				d.errorf(e.keyNode, "unknown field %q for %s (want %s)", e.key, op, strings.Join(allowed, ", "))
			}
			continue
		}
		d.field(l, e)
	}
	for _, f := range irOp.Info().Fields {
		if _, ok := byKey[f.Name]; f.Required && !ok {
			d.errorf(node, "%s needs %q", op, f.Name)
		}
	}
	if l.Min != nil && l.Max != nil && *l.Min > *l.Max {
		d.errorf(byKey["min"].valNode, "min %g is greater than max %g", *l.Min, *l.Max)
	}
	if multiInput(irOp) {
		if _, ok := byKey["inputs"]; !ok {
			d.errorf(node, "%s needs `%s`", op, inputsSyntax(irOp))
		} else if irOp.Info().Arity == ir.Binary && len(l.Inputs) > 2 {
			d.errorf(byKey["inputs"].valNode, "%s takes two inputs, not %d", op, len(l.Inputs))
		}
	}
	if (op == "maxpool" || op == "avgpool") && byKey["stride"].keyNode == nil {
		l.Stride = l.Kernel
	}
	return l
}

func (d *decoder) names(n *yaml.Node) []string {
	n = d.visit(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "inputs: want a list of layer names, got %s", kindName(n))
		return nil
	}
	if len(n.Content) < 2 {
		d.errorf(n, "inputs: want at least two layers, got %d", len(n.Content))
	}
	var out []string
	for _, c := range n.Content {
		if v, ok := d.str(c, "inputs"); ok {
			out = append(out, v)
		}
	}
	return out
}

// setDefaults applies the language's defaults, then op's own (the op
// table's Field.Default).
func (l *Layer) setDefaults(op ir.Op) {
	l.Stride = Pair{1, 1}
	l.Dilation = Pair{1, 1}
	l.Groups = 1
	l.Bias = true
	l.CountPad = true
	l.Slope = 0.01
	l.Rate = 0.5
	l.Eps = 1e-5
	// PyTorch's LocalResponseNorm defaults.
	l.Alpha, l.Beta, l.K = 1e-4, 0.75, 1
	l.Approximate = GELUExact
	for _, f := range op.Info().Fields {
		if v, ok := f.Default.(float64); ok {
			*l.number(f.Name) = v
		}
	}
}

// number returns the address of the number field key.
func (l *Layer) number(key string) *float64 {
	switch key {
	case "alpha":
		return &l.Alpha
	case "beta":
		return &l.Beta
	case "k":
		return &l.K
	case "slope":
		return &l.Slope
	case "rate":
		return &l.Rate
	case "eps":
		return &l.Eps
	case "min":
		l.Min = new(float64)
		return l.Min
	case "max":
		l.Max = new(float64)
		return l.Max
	}
	return nil
}

func (d *decoder) field(l *Layer, e entry) {
	v := e.valNode
	switch e.key {
	case "filters":
		l.Filters, _ = d.integer(v, e.key, 1)
	case "units":
		l.Units, _ = d.integer(v, e.key, 1)
	case "groups":
		l.Groups, _ = d.integer(v, e.key, 1)
	case "start":
		l.Start, _ = d.integer(v, e.key, 0)
	case "end":
		l.End, _ = d.integer(v, e.key, 1)
	case "size":
		l.Size, _ = d.integer(v, e.key, 1)
	case "kernel":
		l.Kernel, _ = d.pair(v, e.key, 1)
	case "stride":
		l.Stride, _ = d.pair(v, e.key, 1)
	case "dilation":
		l.Dilation, _ = d.pair(v, e.key, 1)
	case "padding":
		if vv := d.visit(v); vv != nil && vv.Kind == yaml.ScalarNode && vv.Tag == "!!str" {
			switch {
			case l.Op == "conv" && (vv.Value == PadValid || vv.Value == PadSame):
				l.PadMode = vv.Value
			case l.Op == "conv":
				d.errorf(vv, "padding: want an integer, [height, width], %q or %q; got %q", PadValid, PadSame, vv.Value)
			default:
				d.errorf(vv, "padding: want an integer or [height, width]; got %q", vv.Value)
			}
			return
		}
		l.Padding, _ = d.pair(v, e.key, 0)
	case "bias":
		l.Bias, _ = d.boolean(v, e.key)
	case "ceil":
		l.Ceil, _ = d.boolean(v, e.key)
	case "count_pad":
		l.CountPad, _ = d.boolean(v, e.key)
	case "shared":
		l.Shared, _ = d.boolean(v, e.key)
	case "approximate":
		if v, ok := d.str(v, e.key); ok {
			if v != GELUExact && v != GELUTanh {
				d.errorf(e.valNode, "approximate: want %q or %q, got %q", GELUExact, GELUTanh, v)
				return
			}
			l.Approximate = v
		}
	case "alpha", "beta", "k", "slope", "rate", "eps", "min", "max":
		f, ok := d.number(v, e.key)
		if !ok {
			return
		}
		switch e.key {
		case "rate":
			if f < 0 || f >= 1 {
				d.errorf(v, "rate: %g is outside [0, 1)", f)
			}
		case "eps":
			if f <= 0 {
				d.errorf(v, "eps: must be positive, got %g", f)
			}
		}
		if math.Abs(f) > math.MaxFloat32 {
			d.errorf(v, "%s: %g does not fit a float32", e.key, f)
		}
		*l.number(e.key) = f
	default:
		panic("spec: no decoder for field " + e.key) // opFields and this switch disagree
	}
}
