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
