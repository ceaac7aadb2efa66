package passes

import (
	"github.com/cnnc/cnnc/compiler/ir"
)

// removeDeadLayers drops every layer whose output cannot reach the network
// output, and warns about each: it is almost always a mistake in the spec.
func removeDeadLayers(g *ir.Graph) error {
	// Every node's inputs precede it, so one backward sweep marks all
	// ancestors of the output.
	live := map[*ir.Node]bool{g.Input(): true, g.Output: true}
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		if n := g.Nodes[i]; live[n] {
			for _, in := range n.Inputs {
				live[in] = true
			}
		}
	}
	dead := map[*ir.Node]bool{}
	for _, n := range g.Nodes {
		if !live[n] {
			dead[n] = true
			g.Warnings.Add(n.Pos, n.Name, "output is never used; layer removed")
		}
	}
	g.Remove(dead)
	return nil
}

// removeDropout replaces every dropout layer by its input.
func removeDropout(g *ir.Graph) error {
	dead := map[*ir.Node]bool{}
	for _, n := range g.Nodes {
		if n.Op == ir.OpDropout {
			g.Replace(n, n.Inputs[0])
			dead[n] = true
		}
	}
	g.Remove(dead)
	return nil
}

// foldBatchNorm folds each batchnorm whose input is a conv or dense layer
// read by nothing else into that layer. The graph records the fold; the
// weights are folded when they are loaded:
//
//	scale = gamma / sqrt(var + eps)
//	W'[o,...] = W[o,...] * scale[o]
//	b'[o] = (b[o] - mean[o]) * scale[o] + beta[o]
func foldBatchNorm(g *ir.Graph) error {
	users := g.Users()
	dead := map[*ir.Node]bool{}
	for _, bn := range g.Nodes {
		if bn.Op != ir.OpBatchNorm {
			continue
		}
		p := bn.Inputs[0]
		if (p.Op != ir.OpConv && p.Op != ir.OpDense) || len(users[p]) != 1 || p.Act.Kind != ir.ActNone || p.FoldBN != nil {
			continue
		}
		p.FoldBN = &ir.FoldedBN{Layer: bn.Name, Eps: bn.BN.Eps}
		p.Fused = append(p.Fused, bn.Name)
		g.Replace(bn, p)
		users[p] = users[bn]
		dead[bn] = true
	}
	g.Remove(dead)
	return nil
}

// takesEpilogue reports whether n's kernel can apply an activation to its
// output as it stores it.
func takesEpilogue(n *ir.Node) bool {
	return n.Op.Info().Epilogue && n.Act.Kind == ir.ActNone
}

// fuseActivations moves each activation into the epilogue of the layer it
// reads when nothing else reads that layer. Otherwise, when the activation's
// only reader is a max pooling and the activation is monotonic, it is sunk
// below the pooling: max(f(x)) = f(max(x)), and f then runs on the pooled,
// smaller tensor. hardswish, SiLU and GELU are not monotonic and stay.
func fuseActivations(g *ir.Graph) error {
	users := g.Users()
	dead := map[*ir.Node]bool{}
	for _, a := range g.Nodes {
		if !a.Op.IsActivation() {
			continue
		}
		x := a.Inputs[0]
		switch {
		case takesEpilogue(x) && len(users[x]) == 1:
			x.Act = ir.ActivationOf(a)
			x.Fused = append(x.Fused, a.Name)
			g.Replace(a, x)
			users[x] = users[a]
		case len(users[a]) == 1 && users[a][0].Op == ir.OpMaxPool && takesEpilogue(users[a][0]) && users[a][0].PreLRN == nil && a != g.Output &&
			ir.ActivationOf(a).Monotonic():
			p := users[a][0]
			p.Act = ir.ActivationOf(a)
			p.Fused = append([]string{a.Name}, p.Fused...)
			p.Inputs[0] = x
			users[x] = replaceUser(users[x], a, p)
		default:
			continue
		}
		dead[a] = true
	}
	g.Remove(dead)
	return nil
}

func replaceUser(us []*ir.Node, old, new *ir.Node) []*ir.Node {
	for i, u := range us {
		if u == old {
			us[i] = new
		}
	}
	return us
}

// fuseLRNPool hands an LRN read only by a max pooling to that pooling, which
// normalises the rows its windows need as it goes. AlexNet's conv1 → LRN →
// pool then never stores the 96x55x55 normalised tensor.
func fuseLRNPool(g *ir.Graph) error {
	users := g.Users()
	dead := map[*ir.Node]bool{}
	for _, l := range g.Nodes {
		if l.Op != ir.OpLRN || l == g.Output || len(users[l]) != 1 {
			continue
		}
		p := users[l][0]
		if p.Op != ir.OpMaxPool || p.PreLRN != nil || l.Shape.Flat {
			continue
		}
		attrs := l.LRN
		p.PreLRN = &attrs
		p.Inputs[0] = l.Inputs[0]
		p.Fused = append([]string{l.Name}, p.Fused...)
		users[l.Inputs[0]] = replaceUser(users[l.Inputs[0]], l, p)
		dead[l] = true
	}
	g.Remove(dead)
	return nil
}

// poolBeforeConv moves an average pooling above the 1x1 convolution it
// reads when nothing else reads that convolution: both are linear maps of
// each position's channels, so they commute, and the convolution then
// runs on the pooled map. DenseNet's transitions (conv 1x1, then 2x2
// average pooling at stride 2) compute 4x fewer products. A convolution's
// bias and folded batchnorm are a constant per channel, which a pooling
// keeps when its window's weights sum to 1: always for global average
// pooling, and for average pooling unless padded zeros count in the
// divisor (CountPad) and there is padding; a convolution with such a
// constant stays below such a pooling. The pooling's fused activation,
// applied last, moves to the convolution, which is then last.
func poolBeforeConv(g *ir.Graph) error {
	users := g.Users()
	index := make(map[*ir.Node]int, len(g.Nodes))
	for i, n := range g.Nodes {
		index[n] = i
	}
	for _, p := range g.Nodes {
		if (p.Op != ir.OpAvgPool && p.Op != ir.OpGlobalAvgPool) || p.PreLRN != nil {
			continue
		}
		c := p.Inputs[0]
		a := &c.Conv
		if c.Op != ir.OpConv || c == g.Output || len(users[c]) != 1 || c.Act.Kind != ir.ActNone || c.Shape.Flat || p.Shape.Flat ||
			a.KH != 1 || a.KW != 1 || a.StrideH != 1 || a.StrideW != 1 || a.Pad != (ir.Pad{}) {
			continue
		}
		constant := a.Bias || c.FoldBN != nil
		if p.Op == ir.OpAvgPool && p.Pool.CountPad && p.Pool.Pad != (ir.Pad{}) && constant {
			continue
		}
		x := c.Inputs[0]
		// p now reads x and keeps its channels; c reads p and keeps its
		// filters, at p's size. They trade places in the node order: every
		// node between them read neither.
		pooled := p.Shape
		p.Inputs[0] = x
		p.Shape.C = x.Shape.C
		c.Shape.H, c.Shape.W = pooled.H, pooled.W
		c.Act, p.Act = p.Act, ir.Activation{}
		c.Fused, p.Fused = append(c.Fused, p.Fused...), nil // an average pooling's are its activation
		// p's readers and the output read c; Replace also pointed c at
		// itself.
		g.Replace(p, c)
		c.Inputs[0] = p
		users[x] = replaceUser(users[x], c, p)
		users[c], users[p] = users[p], []*ir.Node{c}
		i, j := index[c], index[p]
		g.Nodes[i], g.Nodes[j] = p, c
		index[p], index[c] = i, j
	}
	return nil
}
