package onnx

// Fusion: functions that exporters write out as several nodes, recognised
// on the ONNX graph before translation and replaced with one node of the
// operator that means the same, which the handler table translates:
//
//	0.5·x·(1 + Erf(x/√2))                           → Gelu (ONNX opset 20's)
//	0.5·x·(1 + Tanh(√(2/π)·(x + 0.044715·x³)))      → Gelu approximate=tanh
//	(x − mean(x)) / √(mean((x − mean(x))²) + eps) · w + b, means over
//	the last axis (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul,
//	Add: F.layer_norm before opset 17)              → LayerNormalization axis=-1
//
// The products and sums are matched as algebra, not as node sequences: the
// factors of a product may come in any order and grouping (Mul(Mul(x, a),
// 0.5) or Mul(x, Mul(0.5, a))), a Div by a constant is a factor, and so
// is each factor of a Pow to a constant integer power; constants must be
// the exact ones to float32 rounding (a relative 1e-6).
//
// The new node takes over the outputs of the pattern's last node. The
// nodes inside the pattern stay in the graph: liveNodes drops those that
// nothing else reads, and one that something else reads is still
// translated (or refused) on its own. x·Sigmoid(x) and x·HardSigmoid(x)
// are fused later, at translation (arith.go), since both factors are
// layers there.

import (
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "github.com/cnnc/cnnc/compiler/onnx/onnxpb"
)

// fusions is the table of patterns, tried in order at every node as the
// pattern's last node.
var fusions = []struct {
	name  string
	match func(g *fuseGraph, n *pb.NodeProto) *pb.NodeProto
}{
	{"gelu", matchGELU},
	{"layernorm", matchLayerNorm},
}

// patternOps are the operators that the importer takes only inside a
// pattern, with the patterns, for the message that refuses them elsewhere.
var patternOps = map[string]string{
	"Erf":  "GELU",
	"Pow":  "a layer norm or GELU",
	"Sqrt": "a layer norm",
}

// fuseGraph is the graph as fusion sees it.
type fuseGraph struct {
	im     *importer
	prod   map[string]*pb.NodeProto   // tensor → the node that makes it
	users  map[string][]*pb.NodeProto // tensor → the nodes that read it
	pos    map[*pb.NodeProto]int      // node → its place in the graph
	consts map[string]*constant       // konst's results
	used   []*pb.NodeProto            // the nodes of the match in progress
}

// fuse returns nodes with every match of a pattern replaced by one node.
func (im *importer) fuse(nodes []*pb.NodeProto) []*pb.NodeProto {
	g := &fuseGraph{im: im, prod: map[string]*pb.NodeProto{}, users: map[string][]*pb.NodeProto{}, pos: map[*pb.NodeProto]int{}, consts: map[string]*constant{}}
	for i, n := range nodes {
		g.pos[n] = i
		for _, o := range n.Output {
			g.prod[o] = n
		}
		for _, in := range n.Input {
			g.users[in] = append(g.users[in], n)
		}
	}
	// From the output back, so that a pattern is matched at its last node
	// first, with everything it can take (a layer norm's Div is a
	// pattern's last node too, without its weight and bias).
	out := slices.Clone(nodes)
	taken := map[*pb.NodeProto]bool{}
	for i := len(out) - 1; i >= 0; i-- {
		if taken[out[i]] {
			continue
		}
		for _, f := range fusions {
			g.used = nil
			if r := f.match(g, out[i]); r != nil {
				for _, u := range g.used {
					taken[u] = true
				}
				out[i] = r
				break
			}
		}
	}
	return out
}

// newNode makes the node that stands for the nodes of a match (g.used),
// named after the module they share: "/blk/blk.4/Div" and "/blk/blk.4/Erf"
// give "/blk/blk.4/<op>".
func (g *fuseGraph) newNode(op string, last *pb.NodeProto, inputs []string, attrs ...*pb.AttributeProto) *pb.NodeProto {
	src := slices.Clone(g.used)
	slices.SortStableFunc(src, func(a, b *pb.NodeProto) int { return g.pos[a] - g.pos[b] })
	src = slices.Compact(src)
	// The longest directory ("/a/b/") that every node's name starts with.
	dir := func(name string) string { return name[:strings.LastIndex(name, "/")+1] }
	prefix := dir(src[0].GetName())
	for _, s := range src[1:] {
		for !strings.HasPrefix(dir(s.GetName()), prefix) {
			prefix = dir(strings.TrimRight(prefix, "/"))
		}
	}
	r := &pb.NodeProto{
		OpType:    proto.String(op),
		Name:      proto.String(prefix + op),
		Input:     inputs,
		Output:    slices.Clone(last.Output),
		Attribute: attrs,
	}
	g.im.fused[r] = src
	return r
}

// node returns the node that makes tensor name if it is an ai.onnx op of
// the given type with the given number of inputs and one output.
func (g *fuseGraph) node(name, op string, nin int) *pb.NodeProto {
	n := g.prod[name]
	if n == nil || n.GetOpType() != op || (n.GetDomain() != "" && n.GetDomain() != "ai.onnx") || len(n.Input) != nin || len(n.Output) != 1 {
		return nil
	}
	return n
}

// interior reports whether tensor name is read only inside the pattern
// being matched: once, and not as the graph output.
func (g *fuseGraph) interior(name string) bool {
	return len(g.users[name]) == 1 && name != g.im.outName
}

// konst returns tensor name's value if it is a float constant: an
// initializer, or a Constant node's value, perhaps through Identity.
func (g *fuseGraph) konst(name string) *constant {
	c, ok := g.consts[name]
	if !ok {
		c = g.findConst(name)
		g.consts[name] = c
	}
	return c
}

func (g *fuseGraph) findConst(name string) *constant {
	for range 8 {
		if v := g.im.vals[name]; v != nil && v.c != nil && !v.c.isInt {
			return v.c
		}
		n := g.prod[name]
		switch {
		case n == nil:
			return nil
		case n.GetOpType() == "Identity" && len(n.Input) == 1:
			name = n.Input[0]
			continue
		case n.GetOpType() == "Constant" && len(n.Attribute) == 1 && n.Attribute[0].GetName() == "value" && n.Attribute[0].T != nil:
			c, err := decodeTensor(n.Attribute[0].T)
			if err != nil || c.isInt {
				return nil
			}
			return c
		}
		return nil
	}
	return nil
}

// scalar returns tensor name's value if it is a float constant with one
// element, of rank 4 at most (so that it does not broadcast an image
// tensor to a higher rank).
func (g *fuseGraph) scalar(name string) (float64, bool) {
	c := g.konst(name)
	if c == nil || len(c.f) != 1 || len(c.dims) > 4 {
		return 0, false
	}
	return float64(c.f[0]), true
}

// near reports whether a constant is v to float32 rounding.
func near(c, v float64) bool { return math.Abs(c-v) <= 1e-6*math.Abs(v) }

// ---------------------------------------------------------------- algebra

// A pattern is an expression in one variable x: px, a constant, a product,
// a sum, or a unary operator applied to a pattern.
type pattern interface{}

type (
	px    struct{}
	pk    float64   // a constant
	pprod []pattern // a product: its constants multiply to one coefficient
	psum  []pattern // a sum: its constants add to one term
	pfn   struct {  // a unary operator
		op  string
		arg pattern
	}
)

// binding is the tensor x stands for in a match ("" until bound).
type binding struct{ x string }

// match reports whether tensor name computes p; it binds x, and records
// the nodes it reads through in g.used.
func (g *fuseGraph) match(p pattern, name string, b *binding) bool {
	switch p := p.(type) {
	case px:
		if b.x == "" {
			if g.konst(name) != nil {
				return false
			}
			b.x = name
		}
		return b.x == name
	case pk:
		v, ok := g.scalar(name)
		return ok && near(v, float64(p))
	case pfn:
		n := g.node(name, p.op, 1)
		if n == nil {
			return false
		}
		g.used = append(g.used, n)
		return g.match(p.arg, n.Input[0], b)
	case pprod:
		coef, leaves := g.terms(name, "Mul", true)
		return g.matchTerms(p, coef, 1, leaves, b, func(x, y float64) float64 { return x * y })
	case psum:
		coef, leaves := g.terms(name, "Add", true)
		return g.matchTerms(p, coef, 0, leaves, b, func(x, y float64) float64 { return x + y })
	}
	return false
}

// terms flattens the product (op Mul) or sum (op Add) that tensor name
// computes into its constant part and its other operands, descending into
// the Mul or Add nodes that only it reads. A product also takes Div by a
// constant (a factor 1/k) and Pow to a constant integer power (that many
// factors).
func (g *fuseGraph) terms(name, op string, root bool) (float64, []string) {
	unit := 1.0
	if op == "Add" {
		unit = 0
	}
	if v, ok := g.scalar(name); ok {
		return v, nil
	}
	if !root && !g.interior(name) {
		return unit, []string{name}
	}
	if n := g.node(name, op, 2); n != nil {
		g.used = append(g.used, n)
		c1, l1 := g.terms(n.Input[0], op, false)
		c2, l2 := g.terms(n.Input[1], op, false)
		if op == "Add" {
			return c1 + c2, append(l1, l2...)
		}
		return c1 * c2, append(l1, l2...)
	}
	if op == "Mul" {
		if n := g.node(name, "Div", 2); n != nil {
			if k, ok := g.scalar(n.Input[1]); ok && k != 0 {
				g.used = append(g.used, n)
				c, l := g.terms(n.Input[0], op, false)
				return c / k, l
			}
		}
		if n := g.node(name, "Pow", 2); n != nil {
			if k, ok := g.scalar(n.Input[1]); ok && k == math.Trunc(k) && k >= 1 && k <= 4 {
				g.used = append(g.used, n)
				var l []string
				for range int(k) {
					l = append(l, n.Input[0])
				}
				return 1, l
			}
		}
	}
	if root {
		return unit, nil // not a product or sum at all
	}
	return unit, []string{name}
}

// matchTerms matches the flattened operands (coef and leaves) against the
// pattern's terms p: its constants must combine (with op, from unit) to
// coef, and its other terms must match the leaves in some order.
func (g *fuseGraph) matchTerms(p []pattern, coef, unit float64, leaves []string, b *binding, op func(x, y float64) float64) bool {
	want := unit
	var rest []pattern
	for _, t := range p {
		if k, ok := t.(pk); ok {
			want = op(want, float64(k))
		} else {
			rest = append(rest, t)
		}
	}
	if len(leaves) != len(rest) || len(leaves) == 0 || !(near(coef, want) || coef == want) {
		return false
	}
	// Try every assignment of leaves to terms (there are at most four).
	used := make([]bool, len(leaves))
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(rest) {
			return true
		}
		for j, leaf := range leaves {
			if used[j] {
				continue
			}
			saved, nused := *b, len(g.used)
			if g.match(rest[i], leaf, b) {
				used[j] = true
				if try(i + 1) {
					return true
				}
				used[j] = false
			}
			*b, g.used = saved, g.used[:nused]
		}
		return false
	}
	return try(0)
}

// ---------------------------------------------------------------- the patterns

var (
	geluErf = pprod{pk(0.5), px{}, psum{pk(1), pfn{"Erf", pprod{px{}, pk(1 / math.Sqrt2)}}}}
	// torch writes x·x·x, others Pow(x, 3): both are three factors x.
	geluTanh = pprod{pk(0.5), px{}, psum{pk(1), pfn{"Tanh",
		pprod{pk(math.Sqrt(2 / math.Pi)), psum{px{}, pprod{pk(0.044715), px{}, px{}, px{}}}}}}}
)

// matchGELU matches the two forms of GELU at a Mul node.
func matchGELU(g *fuseGraph, n *pb.NodeProto) *pb.NodeProto {
	if n.GetOpType() != "Mul" || len(n.Output) != 1 || g.node(n.Output[0], "Mul", 2) != n {
		return nil
	}
	for _, f := range []struct {
		p      pattern
		approx string
	}{{geluErf, ""}, {geluTanh, "tanh"}} {
		var b binding
		g.used = nil
		if g.match(f.p, n.Output[0], &b) {
			var attrs []*pb.AttributeProto
			if f.approx != "" {
				attrs = append(attrs, &pb.AttributeProto{Name: proto.String("approximate"), Type: pb.AttributeProto_STRING.Enum(), S: []byte(f.approx)})
			}
			return g.newNode("Gelu", n, []string{b.x}, attrs...)
		}
	}
	return nil
}

// matchLayerNorm matches F.layer_norm over the last axis as torch writes it
// before opset 17, at its last node: the Div, or the Mul by the weight, or
// the Add of the bias. The fused node is a LayerNormalization with the
// weight and bias as its scale and bias (a missing one is 1 or 0).
func matchLayerNorm(g *fuseGraph, n *pb.NodeProto) *pb.NodeProto {
	out := n.GetOutput()
	if len(out) != 1 {
		return nil
	}
	name := out[0]
	var scale, bias string
	// Peel the bias and the weight, each only if what it applies to is read
	// only here.
	if a := g.node(name, "Add", 2); a != nil {
		for i := range 2 {
			if g.konst(a.Input[1-i]) != nil && g.interior(a.Input[i]) {
				g.used = append(g.used, a)
				bias, name = a.Input[1-i], a.Input[i]
				break
			}
		}
	}
	if m := g.node(name, "Mul", 2); m != nil {
		for i := range 2 {
			if g.konst(m.Input[1-i]) != nil && g.interior(m.Input[i]) {
				g.used = append(g.used, m)
				scale, name = m.Input[1-i], m.Input[i]
				break
			}
		}
	}
	div := g.node(name, "Div", 2)
	if div == nil {
		return nil
	}
	d, s := div.Input[0], div.Input[1]
	sub := g.node(d, "Sub", 2)
	sqrt := g.node(s, "Sqrt", 1)
	if sub == nil || sqrt == nil || !g.interior(s) || d == g.im.outName {
		return nil
	}
	x, m1 := sub.Input[0], sub.Input[1]
	mean1 := g.node(m1, "ReduceMean", 1)
	if mean1 == nil || !g.interior(m1) || mean1.Input[0] != x || !lastAxisMean(mean1) {
		return nil
	}
	add := g.node(sqrt.Input[0], "Add", 2)
	if add == nil || !g.interior(sqrt.Input[0]) {
		return nil
	}
	var eps float64
	var v string
	for i := range 2 {
		if e, ok := g.scalar(add.Input[1-i]); ok {
			eps, v = e, add.Input[i]
		}
	}
	mean2 := g.node(v, "ReduceMean", 1)
	if mean2 == nil || !g.interior(v) || !lastAxisMean(mean2) || !g.interior(mean2.Input[0]) {
		return nil
	}
	pow := g.node(mean2.Input[0], "Pow", 2)
	mul := g.node(mean2.Input[0], "Mul", 2)
	switch {
	case pow != nil:
		if k, ok := g.scalar(pow.Input[1]); !ok || k != 2 || pow.Input[0] != d {
			return nil
		}
		g.used = append(g.used, pow)
	case mul != nil && mul.Input[0] == d && mul.Input[1] == d:
		g.used = append(g.used, mul)
	default:
		return nil
	}
	if !(eps > 0) || eps > 1 {
		return nil
	}
	for _, u := range g.users[d] {
		if u != div && u != pow && u != mul {
			return nil // the centred x is read elsewhere
		}
	}
	g.used = append(g.used, div, sub, sqrt, mean1, add, mean2)
	ins := []string{x, scale, bias} // a missing scale is 1, a missing bias 0
	if bias == "" {
		ins = ins[:2]
	}
	return g.newNode("LayerNormalization", n, ins,
		&pb.AttributeProto{Name: proto.String("axis"), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(-1)},
		&pb.AttributeProto{Name: proto.String("epsilon"), Type: pb.AttributeProto_FLOAT.Enum(), F: proto.Float32(float32(eps))})
}

// lastAxisMean reports whether a ReduceMean averages over the last axis
// only, keeping it (axes [-1] as an attribute, as torch writes it at
// opsets 13 to 17).
func lastAxisMean(n *pb.NodeProto) bool {
	keep := int64(1)
	var axes []int64
	for _, a := range n.Attribute {
		switch a.GetName() {
		case "keepdims":
			keep = a.GetI()
		case "axes":
			axes = a.Ints
		default:
			return false
		}
	}
	return keep == 1 && slices.Equal(axes, []int64{-1})
}
