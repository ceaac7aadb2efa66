package passes

import (
	"cmp"
	"slices"

	"github.com/cnnc/cnnc/compiler/ir"
)

// bufAlign is the alignment of every buffer in the arena, in elements: 16
// float32s, one cache line and one AVX-512 vector.
const bufAlign = 16

// inPlace reports whether n may write its output over its input: it is
// elementwise (the op table's InPlace), so element i of the output depends
// on element i of the input only.
func inPlace(n *ir.Node) bool {
	return n.Op.Info().InPlace && n.PreLRN == nil
}

// viewSlices marks the channel slices that the memory plan makes windows
// on their input's storage (Node.View): every slice but the network's
// output, which Infer copies out whole. A slice of channels [a, b) of an
// image is elements [a·H·W, b·H·W) of it, so the window needs no copy;
// across a batch, its images are then strided (Node.Off, Node.ImgLen),
// which every reader must honour. codegen's does; codegen/cuda's do not,
// so CUDA compiles with this pass disabled.
func viewSlices(g *ir.Graph) error {
	for _, n := range g.Nodes {
		n.View = n.Op == ir.OpSlice && n != g.Output && n.Act.Kind == ir.ActNone
	}
	return nil
}

// gatherConcats marks the concats whose inputs can be computed straight
// into their storage (Node.Gather, Node.Member), so that no concat copies
// anything: an Inception block's branches, a SqueezeNet fire module's two
// expands, a DenseNet block's features. Concats that share inputs form a
// family; it is gathered when the longest concat's inputs list every
// other's as a prefix (DenseNet's concat k lists its block's input and
// the first k-1 layers' outputs), the longest owns the storage, and each
// input lies in it once at its channel offset, a shorter concat being a
// window at its start. Every input must be a tensor of its own that is
// written image by image: not the network input or output, not a flatten,
// dropout, viewed slice or concat (no nesting), not a dense layer (its
// kernels write the batch as one matrix), and read by no concat outside
// the family; and no concat of the family may be read by a concat or
// have an activation fused into it, and none but the longest may be the
// output.
// planMemory then places the inputs as windows on the longest concat's
// storage (Node.Off, Node.ImgLen), which their writers and readers
// honour.
func gatherConcats(g *ir.Graph) error {
	for _, n := range g.Nodes {
		n.Gather, n.Member = false, false
	}
	// Families: concats joined by shared inputs (union-find over the
	// concats, in node order).
	var concats []*ir.Node
	parent := map[*ir.Node]*ir.Node{}
	var find func(*ir.Node) *ir.Node
	find = func(n *ir.Node) *ir.Node {
		if parent[n] != n {
			parent[n] = find(parent[n])
		}
		return parent[n]
	}
	readBy := map[*ir.Node]*ir.Node{} // an input's first concat
	inConcat := map[*ir.Node]bool{}   // read by a concat
	for _, n := range g.Nodes {
		if n.Op != ir.OpConcat {
			continue
		}
		concats = append(concats, n)
		parent[n] = n
		for _, x := range n.Inputs {
			inConcat[x] = true
			if c, ok := readBy[x]; ok {
				parent[find(c)] = find(n)
			} else {
				readBy[x] = n
			}
		}
	}
	family := map[*ir.Node][]*ir.Node{}
	var roots []*ir.Node
	for _, c := range concats {
		r := find(c)
		if family[r] == nil {
			roots = append(roots, r)
		}
		family[r] = append(family[r], c)
	}
	for _, r := range roots {
		fam := family[r]
		long := fam[0]
		for _, c := range fam {
			if len(c.Inputs) > len(long.Inputs) {
				long = c
			}
		}
		ok := !inConcat[long]
		for _, c := range fam {
			ok = ok && len(c.Inputs) > 0 && slices.Equal(c.Inputs, long.Inputs[:len(c.Inputs)]) &&
				(c == long || c != g.Output && !inConcat[c]) && c.Act.Kind == ir.ActNone
		}
		for i, x := range long.Inputs {
			switch {
			case slices.Index(long.Inputs, x) != i, x == g.Output, x.View,
				x.Op == ir.OpInput, x.Op == ir.OpConcat, x.Op == ir.OpDense, x.Op == ir.OpFlatten, x.Op == ir.OpDropout:
				ok = false
			}
		}
		if !ok {
			continue
		}
		for _, c := range fam {
			c.Gather = true
		}
		for _, x := range long.Inputs {
			x.Member = true
		}
	}
	return nil
}

// planMemory gives every node's output an offset in one arena (Node.Buf, in
// elements per image; the arena for a batch of B holds B images of each
// buffer contiguously, so offsets scale by B). The network input is the
// caller's and has Buf -1.
//
// Flatten and dropout alias their input, and a viewed slice (viewSlices)
// is a window on it (Node.Off, Node.ImgLen). Elementwise ops write in place
// when their input dies with them. The output is never strided: where it
// would alias a view, it gets storage of its own. The remaining buffers are placed greedily,
// largest first, at the lowest offset that overlaps no buffer live at the
// same time: the greedy-by-size heuristic of TFLite's arena planner, which
// is near the lower bound (the largest set of simultaneously live buffers)
// on feed-forward CNNs.
func planMemory(g *ir.Graph) error {
	idx := make(map[*ir.Node]int, len(g.Nodes))
	for i, n := range g.Nodes {
		idx[n] = i
	}
	last := make(map[*ir.Node]int, len(g.Nodes))
	for i, n := range g.Nodes {
		last[n] = i
		for _, in := range n.Inputs {
			last[in] = max(last[in], i)
		}
	}
	last[g.Output] = len(g.Nodes) // the output outlives every node

	// Resolve aliases: root[n] is the node that owns n's storage.
	root := make(map[*ir.Node]*ir.Node, len(g.Nodes))
	end := map[*ir.Node]int{} // end of each root's lifetime, aliases included
	// A gathered concat family (gatherConcats) lives in its longest
	// concat's storage, from its first input's computation to the last
	// read of any of its tensors, which end holds from the start so that
	// no op is put in place over the family while part of it is read.
	within := map[*ir.Node]*ir.Node{} // a family's tensors: the longest concat
	off := map[*ir.Node]int{}         // a member's offset in it
	// A family's concats all list its first input first (they are
	// prefixes of the longest), so that input's gathered readers are
	// the family.
	family := map[*ir.Node][]*ir.Node{}
	for _, n := range g.Nodes {
		if n.Gather {
			family[n.Inputs[0]] = append(family[n.Inputs[0]], n)
		}
	}
	for _, fam := range family {
		long := slices.MaxFunc(fam, func(a, b *ir.Node) int { return cmp.Compare(len(a.Inputs), len(b.Inputs)) })
		for _, c := range fam {
			within[c] = long
			end[long] = max(end[long], last[c])
		}
		o := 0
		for _, x := range long.Inputs {
			within[x], off[x] = long, o
			o += x.Shape.Elems()
			end[long] = max(end[long], last[x])
		}
	}
	for _, n := range g.Nodes {
		n.Alias, n.AliasIn = false, 0
		n.Off, n.ImgLen = 0, n.Shape.Elems()
		root[n] = n
		if l := within[n]; l != nil {
			// A gathered concat (a window at the start of the longest)
			// or one of its inputs (at its channel offset).
			root[n] = l
			n.Off, n.ImgLen = off[n], l.Shape.Elems()
			end[l] = max(end[l], last[n])
			continue
		}
		// alias makes n share input k's storage, at off elements further
		// into each image.
		alias := func(k, off int) {
			x := n.Inputs[k]
			n.Alias, n.AliasIn = true, k
			n.Off, n.ImgLen = x.Off+off, x.ImgLen
			root[n] = root[x]
		}
		// strided reports whether aliasing input k would make the
		// network's output strided.
		strided := func(k int) bool { return n == g.Output && n.Inputs[k].Strided() }
		if len(n.Inputs) == 1 && (n.Op == ir.OpFlatten || n.Op == ir.OpDropout) && !strided(0) {
			alias(0, 0)
		} else if n.View && len(n.Inputs) == 1 {
			s := n.Shape
			alias(0, n.Slice.Start*s.H*s.W)
		} else if inPlace(n) {
			// In place: the input's storage dies here and is not the
			// caller's. Every earlier reader of it has been seen, so
			// end[src] is final. An input that is broadcast is smaller
			// than the output. A sum of three or more inputs accumulates
			// into its first, which must then not be read again. Of two
			// inputs, the one computed first is tried first, unless the
			// other's layer reads it: a residual add x + f(y) then
			// writes over the shortcut x, where codegen's convolution f
			// can add into it in place (codegen.Plan's residualAdds),
			// but x + f(x) writes over f's output, not over f's input.
			order := []int{0}
			if len(n.Inputs) == 2 {
				first, second := n.Inputs[0], n.Inputs[1]
				order = []int{0, 1}
				if idx[second] < idx[first] {
					first, second, order = second, first, []int{1, 0}
				}
				if slices.Contains(second.Inputs, first) {
					order[0], order[1] = order[1], order[0]
				}
			}
			for _, k := range order {
				x := n.Inputs[k]
				src := root[x]
				if x.Shape != n.Shape || src.Op == ir.OpInput || end[src] != idx[n] {
					continue
				}
				if len(n.Inputs) > 2 && slices.Index(n.Inputs[1:], x) >= 0 || strided(k) {
					continue
				}
				alias(k, 0)
				break
			}
		}
		r := root[n]
		end[r] = max(end[r], last[n])
	}

	type buf struct {
		n         *ir.Node
		from, to  int
		size, off int
	}
	var bufs []*buf
	naive := 0
	for _, n := range g.Nodes {
		if n.Op == ir.OpInput {
			continue
		}
		naive += n.Shape.Elems()
		if root[n] == n {
			size := (n.Shape.Elems() + bufAlign - 1) / bufAlign * bufAlign
			from := idx[n]
			if n.Gather {
				from = idx[n.Inputs[0]] // its first input's, computed into it
				for _, x := range n.Inputs {
					from = min(from, idx[x])
				}
			}
			bufs = append(bufs, &buf{n: n, from: from, to: end[n], size: size})
		}
	}
	order := slices.Clone(bufs)
	slices.SortStableFunc(order, func(a, b *buf) int {
		return cmp.Or(cmp.Compare(b.size, a.size), cmp.Compare(a.from, b.from))
	})
	var placed []*buf
	arena := 0
	for _, b := range order {
		// Candidate offsets: 0 and the end of every placed buffer that is
		// live at the same time; take the lowest that fits.
		var live []*buf
		for _, p := range placed {
			if p.from <= b.to && b.from <= p.to {
				live = append(live, p)
			}
		}
		slices.SortFunc(live, func(x, y *buf) int { return cmp.Compare(x.off, y.off) })
		off := 0
		for _, p := range live {
			if off+b.size <= p.off {
				break
			}
			off = max(off, p.off+p.size)
		}
		b.off = off
		arena = max(arena, off+b.size)
		placed = append(placed, b)
	}
	offs := map[*ir.Node]int{}
	for _, b := range bufs {
		offs[b.n] = b.off
	}
	for _, n := range g.Nodes {
		n.Store = root[n]
		if r := root[n]; r.Op == ir.OpInput {
			n.Buf = -1
		} else {
			n.Buf = offs[r]
		}
	}
	g.Mem = &ir.MemPlan{ArenaElems: arena, NaiveElems: naive}
	return nil
}
