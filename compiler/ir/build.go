package ir

import (
	"github.com/cnnc/cnnc/compiler/diag"
	"github.com/cnnc/cnnc/compiler/spec"
)

// Build turns a decoded spec into a graph: one node per layer plus the input
// node, inputs resolved by name. Shapes are left to the inferShapes pass.
// A layer may only read the network input or layers defined before it, so
// the graph is acyclic by construction; a layer that reads itself or a later
// layer is reported as such.
func Build(s *spec.Spec) (*Graph, error) {
	var errs diag.List
	g := &Graph{Name: s.Name, File: s.File}
	if p := s.Preprocess; p != nil {
		g.Preprocess = &Preprocess{Channels: p.Channels, Scale: p.Scale, Mean: p.Mean, Std: p.Std}
	}
	in := &Node{
		Name:  spec.InputName,
		Op:    OpInput,
		Pos:   s.Fields["input"],
		Shape: Shape{C: s.Input[0], H: s.Input[1], W: s.Input[2]},
	}
	g.Nodes = append(g.Nodes, in)
	byName := map[string]*Node{spec.InputName: in}
	defined := map[string]*spec.Layer{}
	for _, l := range s.Layers {
		defined[l.Name] = l
	}
	prev := in
	for _, l := range s.Layers {
		op, ok := ParseOp(l.Op)
		if !ok {
			continue // the front end reported it
		}
		n := &Node{Name: l.Name, Op: op, Pos: l.Pos, Fields: l.Fields}
		setAttrs(n, l)
		if l.Inputs == nil {
			n.Inputs = []*Node{prev}
		}
		for _, name := range l.Inputs {
			key := "input"
			if len(l.Inputs) > 1 || l.Op == "add" || l.Op == "concat" {
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

func setAttrs(n *Node, l *spec.Layer) {
	switch n.Op {
	case OpConv:
		n.Conv = ConvAttrs{
			Filters: l.Filters,
			KH:      l.Kernel[0], KW: l.Kernel[1],
			StrideH: l.Stride[0], StrideW: l.Stride[1],
			DilH: l.Dilation[0], DilW: l.Dilation[1],
			Pad:    Pad{Top: l.Padding[0], Bottom: l.Padding[0], Left: l.Padding[1], Right: l.Padding[1]},
			Groups: l.Groups,
			Bias:   l.Bias,
		}
		n.Same = l.PadMode == spec.PadSame
	case OpDense:
		n.Dense = DenseAttrs{Units: l.Units, Bias: l.Bias}
	case OpMaxPool, OpAvgPool:
		n.Pool = PoolAttrs{
			KH: l.Kernel[0], KW: l.Kernel[1],
			StrideH: l.Stride[0], StrideW: l.Stride[1],
			Pad:      Pad{Top: l.Padding[0], Bottom: l.Padding[0], Left: l.Padding[1], Right: l.Padding[1]},
			Ceil:     l.Ceil,
			CountPad: l.CountPad,
		}
	case OpLRN:
		n.LRN = LRNAttrs{Size: l.Size, Alpha: l.Alpha, Beta: l.Beta, K: l.K}
	case OpBatchNorm:
		n.BN = BatchNormAttrs{Eps: l.Eps}
	case OpLeakyReLU:
		n.Slope = float32(l.Slope)
	case OpDropout:
		n.Rate = l.Rate
	}
}
