// Package graphviz draws a network as a Graphviz DOT graph: one box per
// layer (after the passes, one box per fused layer, its fused ops written
// out), the tensor shape on every edge, each layer's parameters and
// multiply-adds, and the totals in a caption. `cnnc graph` renders it.
//
// DOT is a pure function of the graph: the same graph gives the same bytes
// (golden/graph holds some), so drawings can be diffed and checked in.
package graphviz

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
)

// Fill colours by kind of op; grouped convolutions get their own, and a
// double border.
const (
	colorIO      = "#ffffff"
	colorConv    = "#dbe8f6"
	colorGrouped = "#b9d3f0"
	colorDense   = "#fde3c8"
	colorPool    = "#d9f0d3"
	colorNorm    = "#e8dcf2"
	colorMerge   = "#fff2b3"
	colorOther   = "#eeeeee"
	colorDead    = "#f8f8f8"
)

// DOT returns g as a Graphviz digraph. A graph whose memory has been
// planned (g.Mem set) is described as optimised, with the arena's size in
// the caption; otherwise as written. Layers whose output never reaches the
// network's output (possible only as written) are drawn dashed.
func DOT(g *ir.Graph) []byte {
	var b strings.Builder
	live := liveNodes(g)
	stage := "as written"
	if g.Mem != nil {
		stage = "after cnnc's passes"
	}
	fmt.Fprintf(&b, "// %s: the network %s, drawn by cnnc graph.\n", g.Name, stage)
	fmt.Fprintf(&b, "digraph %s {\n", quote(g.Name))
	fmt.Fprintf(&b, "\tgraph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, labelloc=b, labeljust=c, nodesep=0.3, ranksep=0.35,\n\t\tlabel=%s];\n", quote(caption(g, stage, live)))
	b.WriteString("\tnode [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, penwidth=1];\n")
	b.WriteString("\tedge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.7];\n")

	id := nodeIDs(g)
	for _, n := range g.Nodes {
		var attrs []string
		attrs = append(attrs, "label="+quote(label(n)))
		switch {
		case n.Op == ir.OpInput:
			attrs = append(attrs, "shape=oval", "fillcolor=\""+colorIO+"\"")
		case !live[n]:
			attrs = append(attrs, "style=\"rounded,filled,dashed\"", "fillcolor=\""+colorDead+"\"", "fontcolor=\"#777777\"")
		default:
			attrs = append(attrs, "fillcolor=\""+fill(n)+"\"")
			if n.Op == ir.OpConv && n.Conv.Groups > 1 {
				attrs = append(attrs, "peripheries=2")
			}
		}
		fmt.Fprintf(&b, "\t%s [%s];\n", id[n], strings.Join(attrs, ", "))
	}
	b.WriteString("\toutput [label=\"output\", shape=oval, fillcolor=\"" + colorIO + "\"];\n")
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			attrs := []string{"label=" + quote(" "+in.Shape.String())}
			if n.Op == ir.OpConcat {
				// Operand order is channel order: say which is which.
				attrs = append(attrs, fmt.Sprintf("headlabel=%s, labelfontsize=8", quote(strconv.Itoa(i+1))))
			}
			if !live[n] {
				attrs = append(attrs, "style=dashed", "color=\"#999999\"")
			}
			fmt.Fprintf(&b, "\t%s -> %s [%s];\n", id[in], id[n], strings.Join(attrs, ", "))
		}
	}
	fmt.Fprintf(&b, "\t%s -> output [label=%s];\n", id[g.Output], quote(" "+g.Output.Shape.String()))
	b.WriteString("}\n")
	return []byte(b.String())
}

// nodeIDs names each node in the DOT source. Layer names are identifiers,
// but "output" (the network output's oval) and DOT keywords must not be
// taken, so every layer's ID is its name prefixed with "L_", except the input.
func nodeIDs(g *ir.Graph) map[*ir.Node]string {
	id := make(map[*ir.Node]string, len(g.Nodes))
	for _, n := range g.Nodes {
		if n.Op == ir.OpInput {
			id[n] = "input"
		} else {
			id[n] = "L_" + n.Name
		}
	}
	return id
}

// liveNodes marks the nodes whose value reaches the output.
func liveNodes(g *ir.Graph) map[*ir.Node]bool {
	live := map[*ir.Node]bool{g.Output: true}
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		if n := g.Nodes[i]; live[n] {
			for _, in := range n.Inputs {
				live[in] = true
			}
		}
	}
	return live
}

func caption(g *ir.Graph, stage string, live map[*ir.Node]bool) string {
	var params, macs int64
	layers := 0
	for _, n := range g.Nodes[1:] {
		if !live[n] {
			continue
		}
		layers++
		params += ir.ParamCount(n)
		macs += ir.MACs(n)
	}
	in := g.Input().Shape
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s: %s in, %s out, %d layers\n", g.Name, stage, in, g.Output.Shape, layers)
	fmt.Fprintf(&b, "%s parameters (%s as float32), %s multiply-adds (%.3f GFLOP) per image\n",
		compiler.Group(params), ir.Bytes(params*4), compiler.Group(macs), float64(2*macs)/1e9)
	if g.Mem != nil {
		fmt.Fprintf(&b, "activations: %s per image in one planned arena (%s without reuse)\n",
			ir.Bytes(int64(g.Mem.ArenaElems)*4), ir.Bytes(int64(g.Mem.NaiveElems)*4))
	}
	var legend []string
	for _, n := range g.Nodes[1:] {
		if n.Op == ir.OpConv && n.Conv.Groups > 1 && live[n] {
			legend = append(legend, "double border: grouped convolution")
			break
		}
	}
	if layers < len(g.Nodes)-1 {
		legend = append(legend, "dashed: output never used (removed by the passes)")
	}
	b.WriteString(strings.Join(legend, "; "))
	return strings.TrimSuffix(b.String(), "\n")
}

func fill(n *ir.Node) string {
	switch n.Op {
	case ir.OpConv:
		if n.Conv.Groups > 1 {
			return colorGrouped
		}
		return colorConv
	case ir.OpDense:
		return colorDense
	case ir.OpMaxPool, ir.OpAvgPool, ir.OpGlobalAvgPool:
		if n.PreLRN != nil {
			return colorNorm
		}
		return colorPool
	case ir.OpLRN, ir.OpBatchNorm:
		return colorNorm
	case ir.OpAdd, ir.OpConcat:
		return colorMerge
	}
	return colorOther
}

// label is a node's text: "name · ops" with fused ops joined by " + " in
// the order they apply, then the cost line, then the layers fused in.
func label(n *ir.Node) string {
	if n.Op == ir.OpInput {
		return "input\n" + n.Shape.String()
	}
	var ops []string
	if n.PreLRN != nil {
		ops = append(ops, lrn(*n.PreLRN))
	}
	ops = append(ops, describe(n))
	if n.FoldBN != nil {
		ops = append(ops, fmt.Sprintf("batchnorm (folded, eps %g)", n.FoldBN.Eps))
	}
	if n.Act.Kind != ir.ActNone {
		ops = append(ops, n.Act.String())
	}
	lines := []string{n.Name + " · " + strings.Join(ops, " + ")}
	if p, m := ir.ParamCount(n), ir.MACs(n); p != 0 || m != 0 {
		lines = append(lines, fmt.Sprintf("%s params · %s MACs", compiler.Group(p), compiler.Group(m)))
	}
	if len(n.Fused) > 0 {
		lines = append(lines, "fused: "+strings.Join(n.Fused, ", "))
	}
	return strings.Join(lines, "\n")
}

// describe is the op with its attributes, compactly: "conv 11x11/4, 96",
// "maxpool 3x3/2", "dense 4096".
func describe(n *ir.Node) string {
	if n.Op.IsActivation() {
		return ir.ActivationOf(n).String()
	}
	switch n.Op {
	case ir.OpConv:
		a := &n.Conv
		s := "conv " + window(a.KH, a.KW, a.StrideH, a.StrideW) + ", " + strconv.Itoa(a.Filters)
		switch {
		case n.Same:
			s += ", pad same"
		case a.Pad != ir.Pad{}:
			s += ", pad " + a.Pad.String()
		}
		if a.DilH != 1 || a.DilW != 1 {
			s += ", dilation " + pair(a.DilH, a.DilW)
		}
		if a.Groups > 1 {
			s += fmt.Sprintf(", %d groups", a.Groups)
		}
		if !a.Bias {
			s += ", no bias"
		}
		return s
	case ir.OpDense:
		s := "dense " + strconv.Itoa(n.Dense.Units)
		if !n.Dense.Bias {
			s += ", no bias"
		}
		return s
	case ir.OpMaxPool, ir.OpAvgPool:
		a := &n.Pool
		s := n.Op.String() + " " + window(a.KH, a.KW, a.StrideH, a.StrideW)
		if a.Pad != (ir.Pad{}) {
			s += ", pad " + a.Pad.String()
		}
		if a.Ceil {
			s += ", ceil"
		}
		if n.Op == ir.OpAvgPool && !a.CountPad {
			s += ", count_pad false"
		}
		return s
	case ir.OpLRN:
		return lrn(n.LRN)
	case ir.OpBatchNorm:
		return fmt.Sprintf("batchnorm (eps %g)", n.BN.Eps)
	case ir.OpDropout:
		return fmt.Sprintf("dropout %g", n.Rate)
	case ir.OpLayerNorm:
		return fmt.Sprintf("layernorm (eps %g)", n.BN.Eps)
	case ir.OpSlice:
		return fmt.Sprintf("slice %d:%d", n.Slice.Start, n.Slice.End)
	case ir.OpChannelShuffle:
		return fmt.Sprintf("channel_shuffle %d", n.Groups)
	case ir.OpPReLU:
		if n.Shared {
			return "prelu (one slope)"
		}
	}
	return n.Op.String()
}

func lrn(a ir.LRNAttrs) string {
	return fmt.Sprintf("lrn %d (alpha %g, beta %g, k %g)", a.Size, a.Alpha, a.Beta, a.K)
}

// window is a kernel with its stride: "3x3/2", "3x5/2x1", "1x1".
func window(kh, kw, sh, sw int) string {
	s := fmt.Sprintf("%dx%d", kh, kw)
	if sh != 1 || sw != 1 {
		s += "/" + pair(sh, sw)
	}
	return s
}

func pair(a, b int) string {
	if a == b {
		return strconv.Itoa(a)
	}
	return fmt.Sprintf("%dx%d", a, b)
}

// quote writes s as a DOT string: backslashes and quotes escaped, newlines
// as DOT's centred line breaks.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
