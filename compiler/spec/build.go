package spec

import (
	"github.com/cnnc/cnnc/compiler/diag"
	"github.com/cnnc/cnnc/compiler/ir"
)

// Build turns a decoded spec into a graph: one node per layer plus the input
// node, inputs resolved by name. Shapes are left to the inferShapes pass.
// A layer may only read the network input or layers defined before it, so
// the graph is acyclic by construction; a layer that reads itself or a later
// layer is reported as such.
func Build(s *Spec) (*ir.Graph, error) {
	var errs diag.List
	g := &ir.Graph{Name: s.Name, File: s.File}
	if p := s.Preprocess; p != nil {
		g.Preprocess = &ir.Preprocess{Channels: p.Channels, Scale: p.Scale, Mean: p.Mean, Std: p.Std}
	}
	in := &ir.Node{
		Name:  InputName,
		Op:    ir.OpInput,
		Pos:   s.Fields["input"],
		Shape: ir.Shape{C: s.Input[0], H: s.Input[1], W: s.Input[2]},
	}
	g.Nodes = append(g.Nodes, in)
	byName := map[string]*ir.Node{InputName: in}
	defined := map[string]*Layer{}
	for _, l := range s.Layers {
		defined[l.Name] = l
	}
	prev := in
	for _, l := range s.Layers {
		op, ok := ir.ParseOp(l.Op)
		if !ok {
			// The decoder rejects unknown ops; a Spec built by hand may
			// still hold one.
			errs.Add(l.FieldPos("op"), l.Name, "unknown op %q", l.Op)
			continue
		}
		n := &ir.Node{Name: l.Name, Op: op, Pos: l.Pos, Fields: l.Fields}
		setAttrs(n, l)
		if l.Inputs == nil {
			n.Inputs = []*ir.Node{prev}
		}
		for _, name := range l.Inputs {
			key := "input"
			if len(l.Inputs) > 1 || op.Info().Arity == ir.Variadic {
				key = "inputs"
			}
			pos := l.FieldPos(key)
			switch src, ok := byName[name]; {
			case ok:
				n.Inputs = append(n.Inputs, src)
			case name == l.Name:
				errs.Add(pos, l.Name, "reads its own output: a cycle")
			case defined[name] != nil:
				errs.Add(pos, l.Name, "reads %q, which is defined later (line %d): layers may only read earlier layers, so the graph cannot have cycles", name, defined[name].Pos.Line)
			default:
				errs.Add(pos, l.Name, "reads unknown layer %q", name)
			}
		}
		byName[l.Name] = n
		g.Nodes = append(g.Nodes, n)
		prev = n
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	g.Output = prev
	return g, nil
}

// setAttrs copies a layer's fields into the node's attributes.
func setAttrs(n *ir.Node, l *Layer) {
	switch n.Op {
	case ir.OpConv:
		n.Conv = ir.ConvAttrs{
			Filters: l.Filters,
			KH:      l.Kernel[0], KW: l.Kernel[1],
			StrideH: l.Stride[0], StrideW: l.Stride[1],
			DilH: l.Dilation[0], DilW: l.Dilation[1],
			Pad:    ir.Pad{Top: l.Padding[0], Bottom: l.Padding[0], Left: l.Padding[1], Right: l.Padding[1]},
			Groups: l.Groups,
			Bias:   l.Bias,
		}
		n.Same = l.PadMode == PadSame
	case ir.OpDense:
		n.Dense = ir.DenseAttrs{Units: l.Units, Bias: l.Bias}
	case ir.OpMaxPool, ir.OpAvgPool:
		n.Pool = ir.PoolAttrs{
			KH: l.Kernel[0], KW: l.Kernel[1],
			StrideH: l.Stride[0], StrideW: l.Stride[1],
			Pad:      ir.Pad{Top: l.Padding[0], Bottom: l.Padding[0], Left: l.Padding[1], Right: l.Padding[1]},
			Ceil:     l.Ceil,
			CountPad: l.CountPad,
		}
	case ir.OpLRN:
		n.LRN = ir.LRNAttrs{Size: l.Size, Alpha: l.Alpha, Beta: l.Beta, K: l.K}
	case ir.OpBatchNorm:
		n.BN = ir.BatchNormAttrs{Eps: l.Eps}
	case ir.OpDropout:
		n.Rate = l.Rate
	case ir.OpPReLU:
		n.Shared = l.Shared
	case ir.OpLayerNorm:
		n.BN = ir.BatchNormAttrs{Eps: l.Eps}
	case ir.OpSlice:
		n.Slice = ir.SliceAttrs{Start: l.Start, End: l.End}
	case ir.OpChannelShuffle:
		n.Groups = l.Groups
	}
	if kind := n.Op.Info().Act; kind != ir.ActNone {
		n.Fn = activation(n.Op, kind, l)
	}
}

// activation is the function of an activation layer, its constants
// included.
func activation(op ir.Op, kind ir.ActKind, l *Layer) ir.Activation {
	a := ir.Activation{Kind: kind}
	switch op {
	case ir.OpLeakyReLU:
		a.Alpha = float32(l.Slope)
	case ir.OpClip:
		a.Alpha, a.Beta = ir.NoMin, ir.NoMax
		if l.Min != nil {
			a.Alpha = float32(*l.Min)
		}
		if l.Max != nil {
			a.Beta = float32(*l.Max)
		}
	case ir.OpReLU6:
		a.Alpha, a.Beta = 0, 6
	case ir.OpHardSigmoid:
		a.Alpha, a.Beta = float32(l.Alpha), float32(l.Beta)
	case ir.OpGELU:
		if l.Approximate == GELUTanh {
			a.Kind = ir.ActGELUTanh
		}
	}
	return a
}
