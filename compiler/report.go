package compiler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cnnc/cnnc/compiler/ir"
)

// ShapeTable renders the per-layer table `cnnc shapes` prints: each layer of
// the network as written with its op, output shape, parameters,
// multiply-adds and activation bytes per image, then totals and, if plan is
// not nil, the peak activation memory of plan's arena.
func ShapeTable(g *ir.Graph, plan *ir.MemPlan) string {
	var b strings.Builder
	in := g.Input().Shape
	fmt.Fprintf(&b, "%s: input %s, output %s %s\n", g.Name, in, g.Output.Name, g.Output.Shape)
	if g.Preprocess != nil {
		fmt.Fprintf(&b, "preprocess: x = (pixel·scale − mean[c]) / std[c], %s\n", g.Preprocess)
	}
	rows := [][]string{{"layer", "op", "output", "params", "MACs", "activations"}}
	var params, macs, act int64
	for _, n := range g.Nodes[1:] {
		p, m, a := ir.ParamCount(n), ir.MACs(n), int64(n.Shape.Elems())*4
		params += p
		macs += m
		act += a
		rows = append(rows, []string{n.Name, n.Op.String(), n.Shape.String(), Group(p), Group(m), ir.Bytes(a)})
	}
	rows = append(rows, []string{"total", "", "", Group(params), Group(macs), ir.Bytes(act)})
	WriteTable(&b, rows, 3)
	fmt.Fprintf(&b, "weights: %s as float32; %.3f GFLOP per image\n", ir.Bytes(params*4), float64(2*macs)/1e9)
	if plan != nil {
		arena := int64(plan.ArenaElems) * 4
		fmt.Fprintf(&b, "memory plan: %s of activations per image, %s without reuse (%.2fx less)\n",
			ir.Bytes(arena), ir.Bytes(int64(plan.NaiveElems)*4), float64(plan.NaiveElems)/float64(max(plan.ArenaElems, 1)))
	}
	return b.String()
}

// WriteTable writes rows in aligned columns, two spaces apart: the first
// nleft columns aligned left, the rest (numbers) right.
func WriteTable(b *strings.Builder, rows [][]string, nleft int) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-len(c))
			if i < nleft {
				line.WriteString(c + pad)
			} else {
				line.WriteString(pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}

// Group formats n with commas between groups of three digits.
func Group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
