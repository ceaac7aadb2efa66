package ir

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Attrs describes a node's attributes in one line, as the IR listing shows them.
func (n *Node) Attrs() string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	switch n.Op {
	case OpConv:
		a := &n.Conv
		add("filters=%d", a.Filters)
		add("kernel=%dx%d", a.KH, a.KW)
		add("stride=%dx%d", a.StrideH, a.StrideW)
		if n.Same {
			add("pad=same(%s)", a.Pad)
		} else {
			add("pad=%s", a.Pad)
		}
		if a.DilH != 1 || a.DilW != 1 {
			add("dilation=%dx%d", a.DilH, a.DilW)
		}
		if a.Groups != 1 {
			add("groups=%d", a.Groups)
		}
		if !a.Bias {
			add("nobias")
		}
	case OpDense:
		add("units=%d", n.Dense.Units)
		if !n.Dense.Bias {
			add("nobias")
		}
	case OpMaxPool, OpAvgPool:
		a := &n.Pool
		add("kernel=%dx%d", a.KH, a.KW)
		add("stride=%dx%d", a.StrideH, a.StrideW)
		add("pad=%s", a.Pad)
		if a.Ceil {
			add("ceil")
		}
		if n.Op == OpAvgPool && !a.CountPad {
			add("nocountpad")
		}
	case OpLRN:
		add("%s", n.LRN)
	case OpBatchNorm, OpLayerNorm:
		add("eps=%g", n.BN.Eps)
	case OpSlice:
		add("start=%d end=%d", n.Slice.Start, n.Slice.End)
	case OpChannelShuffle:
		add("groups=%d", n.Groups)
	case OpLeakyReLU:
		add("slope=%g", n.Fn.Alpha)
	case OpClip:
		add("min=%s max=%s", bound(n.Fn.Alpha), bound(n.Fn.Beta))
	case OpHardSigmoid:
		add("alpha=%g beta=%g", n.Fn.Alpha, n.Fn.Beta)
	case OpPReLU:
		if n.Shared {
			add("shared")
		}
	case OpGELU:
		if n.Fn.Kind == ActGELUTanh {
			add("approximate=tanh")
		}
	case OpDropout:
		add("rate=%g", n.Rate)
	}
	if n.PreLRN != nil {
		add("prelrn(%s)", *n.PreLRN)
	}
	if n.FoldBN != nil {
		add("foldbn(eps=%g)", n.FoldBN.Eps)
	}
	if n.Act.Kind != ActNone {
		add("act=%s", n.Act)
	}
	return strings.Join(parts, " ")
}

func (a LRNAttrs) String() string {
	return fmt.Sprintf("size=%d alpha=%g beta=%g k=%g", a.Size, a.Alpha, a.Beta, a.K)
}

// Format lists the graph one node a line: name, op, inputs, output shape,
// attributes, the layers fused into it and, once memory is planned, its
// place in the arena. The listing is deterministic: golden files hold it.
func (g *Graph) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph %s: %d nodes, output %s\n", g.Name, len(g.Nodes), g.Output.Name)
	if g.Preprocess != nil {
		fmt.Fprintf(&b, "preprocess: %s\n", g.Preprocess)
	}
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	header := "name\top\tinputs\tshape\tattributes\tfused"
	if g.Mem != nil {
		header += "\tbuffer"
	}
	fmt.Fprintln(tw, header)
	for _, n := range g.Nodes {
		var ins []string
		for _, in := range n.Inputs {
			ins = append(ins, in.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s", n.Name, n.Op, dash(strings.Join(ins, ",")),
			n.Shape, dash(n.Attrs()), dash(strings.Join(n.Fused, ",")))
		if g.Mem != nil {
			switch {
			case n.Buf < 0:
				fmt.Fprintf(tw, "\tcaller")
			case n.Strided() && (n.Member || n.Gather):
				fmt.Fprintf(tw, "\t@%d+%d of %d (in concat)", n.Buf, n.Off, n.ImgLen)
			case n.Strided():
				fmt.Fprintf(tw, "\t@%d+%d of %d (view)", n.Buf, n.Off, n.ImgLen)
			case n.Alias:
				fmt.Fprintf(tw, "\t@%d (shared)", n.Buf)
			default:
				fmt.Fprintf(tw, "\t@%d", n.Buf)
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if g.Mem != nil {
		fmt.Fprintf(&b, "arena: %d elements (%s) per image; without reuse %d (%s)\n",
			g.Mem.ArenaElems, Bytes(int64(g.Mem.ArenaElems)*4), g.Mem.NaiveElems, Bytes(int64(g.Mem.NaiveElems)*4))
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Bytes formats a byte count with a binary unit.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
