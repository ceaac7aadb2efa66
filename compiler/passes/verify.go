package passes

import (
	"fmt"

	"github.com/cnnc/cnnc/compiler/diag"
	"github.com/cnnc/cnnc/compiler/ir"
)

// Verify checks the graph's invariants: one input node first, unique names,
// inputs defined before use, shapes consistent with attributes, fused
// epilogues only where a kernel can apply them, and a memory plan in which
// no two simultaneously live buffers overlap.
func Verify(g *ir.Graph) error {
	var errs diag.List
	bad := func(n *ir.Node, format string, args ...any) {
		errs.Add(n.Pos, n.Name, "verify: "+format, args...)
	}
	if len(g.Nodes) == 0 || g.Nodes[0].Op != ir.OpInput {
		return fmt.Errorf("verify: graph does not start with its input node")
	}
	seen := map[*ir.Node]int{}
	names := map[string]bool{}
	shaped := g.Nodes[len(g.Nodes)-1].Shape.C > 0
	for i, n := range g.Nodes {
		if i > 0 && n.Op == ir.OpInput {
			bad(n, "second input node")
		}
		if names[n.Name] {
			bad(n, "duplicate name")
		}
		names[n.Name] = true
		for _, in := range n.Inputs {
			if _, ok := seen[in]; !ok {
				bad(n, "reads %s, which is not defined before it", in.Name)
			}
		}
		want := 1
		switch n.Op.Info().Arity {
		case ir.Nullary:
			want = 0
		case ir.Binary:
			want = 2
		case ir.Variadic:
			want = -1
		}
		if want >= 0 && len(n.Inputs) != want || want < 0 && len(n.Inputs) < 2 {
			bad(n, "%s has %d inputs", n.Op, len(n.Inputs))
		}
		if shaped && len(errs) == 0 {
			if s, err := ir.InferShape(n); err != nil {
				bad(n, "%v", err)
			} else if s != n.Shape {
				bad(n, "shape is %s but its inputs and attributes give %s", n.Shape, s)
			}
		}
		if n.Act.Kind != ir.ActNone && !n.Op.Info().Epilogue {
			bad(n, "%s cannot carry a fused %s", n.Op, n.Act)
		}
		if n.FoldBN != nil && n.Op != ir.OpConv && n.Op != ir.OpDense {
			bad(n, "%s cannot carry a folded batchnorm", n.Op)
		}
		if n.PreLRN != nil && n.Op != ir.OpMaxPool {
			bad(n, "%s cannot carry a fused LRN", n.Op)
		}
		seen[n] = i
	}
	if _, ok := seen[g.Output]; !ok {
		errs.Add(diag.Pos{File: g.File}, "", "verify: output node is not in the graph")
	}
	if g.Mem != nil && len(errs) == 0 {
		verifyMemory(g, seen, &errs)
	}
	return errs.Err()
}

// verifyMemory checks, independently of how planMemory works, that a node's
// output is never overwritten while some later node still reads it.
func verifyMemory(g *ir.Graph, idx map[*ir.Node]int, errs *diag.List) {
	last := map[*ir.Node]int{g.Output: len(g.Nodes)}
	for i, n := range g.Nodes {
		last[n] = max(last[n], i)
		for _, in := range n.Inputs {
			last[in] = max(last[in], i)
		}
	}
	for _, n := range g.Nodes {
		if n.Op == ir.OpInput {
			continue
		}
		if n.Off < 0 || n.Off+n.Shape.Elems() > n.ImgLen || n.Strided() && !n.Alias && !n.Gather && !n.Member || n == g.Output && n.Strided() {
			errs.Add(n.Pos, n.Name, "verify: window [%d,%d) of images of %d elements is not inside them, or not an alias or a gathered concat's, or the output's", n.Off, n.Off+n.Shape.Elems(), n.ImgLen)
			continue
		}
		if n.Buf < 0 || n.Buf%bufAlign != 0 || n.Buf+n.ImgLen > g.Mem.ArenaElems {
			if !(n.Buf == -1 && n.Alias) {
				errs.Add(n.Pos, n.Name, "verify: buffer at %d of %d elements is misaligned or outside the arena of %d", n.Buf, n.ImgLen, g.Mem.ArenaElems)
			}
			continue
		}
		// No node written after n and up to n's last reader may overlap n,
		// except the in-place op that is that last reader. Flatten and
		// dropout aliases, viewed slices and gathered concats write
		// nothing.
		for _, m := range g.Nodes[idx[n]+1:] {
			if idx[m] > last[n] {
				break
			}
			if m.Buf < 0 || m.Op == ir.OpFlatten || m.Op == ir.OpDropout || m.View || m.Gather {
				continue
			}
			if m.Alias && m.Inputs[m.AliasIn] == n && idx[m] == last[n] {
				continue
			}
			if m.Overlaps(n) {
				errs.Add(m.Pos, m.Name, "verify: output [%d,%d) overwrites %s [%d,%d) while %s is still read", m.Buf+m.Off, m.Buf+m.Off+m.Shape.Elems(), n.Name, n.Buf+n.Off, n.Buf+n.Off+n.Shape.Elems(), n.Name)
			}
		}
	}
}
