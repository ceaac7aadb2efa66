package ir

import (
	"fmt"

	"github.com/cnnc/cnnc/compiler/diag"
)

// Shape is a per-image activation shape in NCHW order (the batch is chosen
// at compile time and is not part of it). A flat shape is a vector of C
// features, with H = W = 1: the output of dense, flatten and global pooling
// on flattened inputs.
type Shape struct {
	C, H, W int
	Flat    bool
}

// Elems is the number of elements per image.
func (s Shape) Elems() int { return s.C * s.H * s.W }

// Dims returns [C] for a flat shape and [C, H, W] otherwise.
func (s Shape) Dims() []int {
	if s.Flat {
		return []int{s.C}
	}
	return []int{s.C, s.H, s.W}
}

func (s Shape) String() string {
	if s.Flat {
		return fmt.Sprintf("%d", s.C)
	}
	return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W)
}

// FoldedBN records a batchnorm layer folded into a conv or dense node. Its
// parameters (<Layer>.weight, .bias, .running_mean, .running_var) are still
// read from the weights file and folded into the node's weights at load time.
type FoldedBN struct {
	Layer string
	Eps   float64
}

// Node is one operation of the graph.
type Node struct {
	Name   string
	Op     Op
	Pos    diag.Pos            // where the layer is defined
	Fields map[string]diag.Pos // where each of its fields is defined, for errors
	Inputs []*Node
	Shape  Shape // per-image output shape, set by shape inference

	// Attributes; only the one matching Op is meaningful.
	Conv   ConvAttrs
	Dense  DenseAttrs
	Pool   PoolAttrs
	LRN    LRNAttrs
	BN     BatchNormAttrs // batchnorm and layernorm
	Slice  SliceAttrs
	Groups int        // channel_shuffle
	Fn     Activation // an activation op's function and constants
	Shared bool       // prelu: one slope for every channel
	Rate   float64    // dropout rate
	Same   bool       // conv padding: "same", resolved by shape inference

	// Set by the passes.
	Act    Activation // fused epilogue, applied last
	FoldBN *FoldedBN  // conv/dense: a batchnorm folded into the weights
	PreLRN *LRNAttrs  // maxpool: LRN applied to the input before pooling
	Fused  []string   // names of the layers fused into this node, in order
	View   bool       // viewSlices: a slice computed as a window on its input's storage, not a copy
	// Gather marks a concat whose inputs are computed into its storage
	// (gatherConcats), so that it has no code: the family's longest
	// concat owns the storage, a shorter one (a prefix of its inputs) is
	// a window at its start. Member marks those inputs.
	Gather, Member bool
	Buf            int  // memory plan: offset of the output's storage in the arena, in elements per image
	Alias          bool // memory plan: the output shares the storage of Inputs[AliasIn]
	AliasIn        int  // memory plan: which input an Alias node overwrites
	// Store is the node that owns the output's storage (memory plan):
	// the node itself, the node an alias chain ends at, or a gathered
	// concat family's longest concat. Nodes with one Store share their
	// storage's lifetime; nodes with different ones may share memory only
	// where their lifetimes do not overlap.
	Store *Node
	// Off and ImgLen place the output's image i in its storage (memory
	// plan): it starts Off elements into the storage's image i, which
	// holds ImgLen elements; a batch of B lays the storage's images one
	// after another from element Buf*B. A node with storage of its own has
	// Off 0 and ImgLen its Shape.Elems(); a slice viewed in place (View),
	// and what aliases it, lie inside a larger image.
	Off, ImgLen int
}

// Strided reports whether n's output is a window on a larger image (the
// memory plan's Off and ImgLen): consecutive images of a batch are then
// not contiguous.
func (n *Node) Strided() bool { return n.Off != 0 || n.ImgLen != n.Shape.Elems() }

// Overlaps reports whether n's and m's outputs share storage, per image:
// windows on images laid out alike (one Buf and ImgLen) where the windows
// overlap, others where their images do. The caller's input (Buf < 0)
// overlaps nothing.
func (n *Node) Overlaps(m *Node) bool {
	if n.Buf < 0 || m.Buf < 0 {
		return false
	}
	if n.Buf == m.Buf && n.ImgLen == m.ImgLen {
		return n.Off < m.Off+m.Shape.Elems() && m.Off < n.Off+n.Shape.Elems()
	}
	return n.Buf < m.Buf+m.ImgLen && m.Buf < n.Buf+n.ImgLen
}

// FieldPos returns where field f of the node is defined, or the node's own position.
func (n *Node) FieldPos(f string) diag.Pos {
	if p, ok := n.Fields[f]; ok {
		return p
	}
	return n.Pos
}

func (n *Node) String() string { return n.Name }

// Graph is a network: nodes in topological order, Nodes[0] the input and
// Output the node whose value the network returns.
type Graph struct {
	Name   string // model name; a Go identifier
	File   string // spec file it was built from
	Nodes  []*Node
	Output *Node
	Mem    *MemPlan // set by planMemory

	// Preprocess, if not nil, is how pixels become the input; generated
	// code gains functions that apply it.
	Preprocess *Preprocess

	Warnings diag.List // problems that do not stop compilation
}

// Input returns the input node.
func (g *Graph) Input() *Node { return g.Nodes[0] }

// Users returns, for each node, the nodes that read it, in graph order.
func (g *Graph) Users() map[*Node][]*Node {
	u := make(map[*Node][]*Node, len(g.Nodes))
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			u[in] = append(u[in], n)
		}
	}
	return u
}

// Lookup returns the node named name, or nil.
func (g *Graph) Lookup(name string) *Node {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Replace makes every reader of old (and the graph output) read new instead.
func (g *Graph) Replace(old, new *Node) {
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			if in == old {
				n.Inputs[i] = new
			}
		}
	}
	if g.Output == old {
		g.Output = new
	}
}

// Remove deletes the given nodes from the node list. Callers rewire readers first.
func (g *Graph) Remove(dead map[*Node]bool) {
	out := g.Nodes[:0]
	for _, n := range g.Nodes {
		if !dead[n] {
			out = append(out, n)
		}
	}
	clear(g.Nodes[len(out):])
	g.Nodes = out
}

// MemPlan is a static activation memory plan: every node's output lives at
// Node.Buf in one arena of ArenaElems elements per image.
type MemPlan struct {
	ArenaElems int // arena size, elements per image
	NaiveElems int // sum of all node outputs, elements per image
}
