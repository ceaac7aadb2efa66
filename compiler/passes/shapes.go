package passes

import (
	"github.com/cnnc/cnnc/compiler/diag"
	"github.com/cnnc/cnnc/compiler/ir"
)

// inferShapes resolves "same" padding and computes every node's shape. It
// reports every layer whose shape does not work; a layer reading a broken
// one is skipped rather than reported again.
func inferShapes(g *ir.Graph) error {
	var errs diag.List
	broken := map[*ir.Node]bool{}
	for _, n := range g.Nodes {
		if anyBroken(n.Inputs, broken) {
			broken[n] = true
			continue
		}
		if n.Op == ir.OpConv && n.Same {
			in := n.Inputs[0].Shape
			a := &n.Conv
			a.Pad.Top, a.Pad.Bottom = ir.SamePad(in.H, a.KH, a.StrideH, a.DilH)
			a.Pad.Left, a.Pad.Right = ir.SamePad(in.W, a.KW, a.StrideW, a.DilW)
		}
		s, err := ir.InferShape(n)
		if err != nil {
			errs = append(errs, err.(*diag.Error))
			broken[n] = true
			continue
		}
		n.Shape = s
	}
	return errs.Err()
}

func anyBroken(ns []*ir.Node, broken map[*ir.Node]bool) bool {
	for _, n := range ns {
		if broken[n] {
			return true
		}
	}
	return false
}
