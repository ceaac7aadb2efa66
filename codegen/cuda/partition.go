package cuda

import (
	"fmt"

	"github.com/cnnc/cnnc/compiler/ir"
)

// Range is a half-open interval [Lo, Hi) of a tensor's channels (of its
// features, for a flat shape).
type Range struct{ Lo, Hi int }

func (r Range) String() string { return fmt.Sprintf("[%d,%d)", r.Lo, r.Hi) }

// Len is the number of channels in r.
func (r Range) Len() int { return r.Hi - r.Lo }

// Strategy says how -parallel model splits a layer across the logical GPUs.
type Strategy uint8

const (
	// Whole: logical GPU 0 computes the whole layer (softmax, which needs
	// every channel at once), after gathering its whole input.
	Whole Strategy = iota
	// SplitFilters: a convolution without groups. Each GPU computes an
	// even, contiguous share of the filters and reads the whole input, which
	// is gathered first: the paper's conv1 (every GPU has the image) and
	// conv3 (which reads both GPUs' halves).
	SplitFilters
	// SplitGroups: a grouped convolution with at least as many groups as
	// GPUs. Each GPU computes whole groups and reads only those groups'
	// input channels: the paper's conv2, conv4 and conv5, which need no
	// exchange when the input is split the same way.
	SplitGroups
	// SplitGroupFilters: a grouped convolution with fewer groups than GPUs.
	// Each group goes to a contiguous set of GPUs that split its filters.
	SplitGroupFilters
	// SplitUnits: a dense layer. Each GPU computes an even share of the
	// units and reads the whole input, gathered first: the paper's fully
	// connected layers.
	SplitUnits
	// FollowChannels: a channelwise layer (pooling, LRN, batchnorm, an
	// activation, global pooling, add, a copying flatten). Each GPU computes
	// the channels of its input it computed itself; LRN also reads the
	// size/2 channels either side (a halo exchanged with the neighbours),
	// add reads the same channels of every input.
	FollowChannels
	// Concat: each GPU copies the parts of the inputs it computed.
	Concat
	// Shared: flatten or dropout sharing its input's storage; no code.
	Shared
	// Replicated: -parallel data. Every GPU runs the whole layer on its
	// share of the batch.
	Replicated
)

var strategyNames = [...]string{"whole", "split-filters", "split-groups", "split-group-filters", "split-units", "follow-channels", "concat", "shared", "replicated"}

func (s Strategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", s)
}

// ConvPart is the share of a convolution (or dense layer: one group, M the
// units) one GPU computes: groups [G0, G1) and, within each, filters
// [M0, M1). Its filters are contiguous: g*F/G + m for g, m in the ranges.
type ConvPart struct{ G0, G1, M0, M1 int }

// Empty reports whether the part computes nothing.
func (p ConvPart) Empty() bool { return p.G0 >= p.G1 || p.M0 >= p.M1 }

// Filters is the contiguous range of output channels the part computes.
func (p ConvPart) Filters(fg int) Range {
	if p.Empty() {
		return Range{}
	}
	return Range{p.G0*fg + p.M0, (p.G1-1)*fg + p.M1}
}

// Placement is where one layer runs.
type Placement struct {
	Node     *ir.Node
	Strategy Strategy
	// Out lists, per logical GPU, the output channels it computes (none: it
	// takes no part).
	Out [][]Range
	// In lists, per logical GPU and input, the input channels it reads.
	In [][][]Range
	// Conv is, per logical GPU, the part of a conv or dense layer it computes.
	Conv []ConvPart
}

// split divides n into parts even shares: part d is [d*n/parts, (d+1)*n/parts).
func split(n, parts, d int) Range { return Range{d * n / parts, (d + 1) * n / parts} }

func one(r Range) []Range {
	if r.Lo >= r.Hi {
		return nil
	}
	return []Range{r}
}

func all(c int) []Range { return []Range{{0, c}} }

// chanHW is the number of elements per channel of a node's output.
func chanHW(n *ir.Node) int { return n.Shape.H * n.Shape.W }

// convPart is GPU d's share of a convolution with groups groups and fg
// filters per group, split over gpus GPUs.
func convPart(groups, fg, gpus, d int) ConvPart {
	if groups >= gpus {
		r := split(groups, gpus, d)
		return ConvPart{r.Lo, r.Hi, 0, fg}
	}
	// Fewer groups than GPUs: GPU d works on group d*groups/gpus, whose
	// GPUs (a contiguous set) split its filters evenly.
	g := d * groups / gpus
	first, count := -1, 0
	for e := range gpus {
		if e*groups/gpus == g {
			if first < 0 {
				first = e
			}
			count++
		}
	}
	r := split(fg, count, d-first)
	return ConvPart{g, g + 1, r.Lo, r.Hi}
}

// Partition places every layer of g for -parallel model over gpus logical
// GPUs: convolutions by filters or groups, dense layers by units,
// channelwise layers where their input is, softmax on GPU 0 (see Strategy).
// The input is copied to every GPU that reads it; the network's output is
// gathered on GPU 0. Placements are in graph order, the input node excluded.
func Partition(g *ir.Graph, gpus int) ([]Placement, error) {
	if gpus < 1 {
		return nil, fmt.Errorf("cuda: %d GPUs", gpus)
	}
	own := map[*ir.Node][][]Range{} // what each GPU computes of each node
	full := func(n *ir.Node) [][]Range {
		o := make([][]Range, gpus)
		o[0] = all(n.Shape.C)
		return o
	}
	own[g.Input()] = full(g.Input())
	var out []Placement
	for _, n := range g.Nodes[1:] {
		p := Placement{Node: n, Out: make([][]Range, gpus), In: make([][][]Range, gpus)}
		in0 := n.Inputs[0]
		for d := range gpus {
			p.In[d] = make([][]Range, len(n.Inputs))
		}
		switch {
		case n.Op == ir.OpConv:
			a := &n.Conv
			cg, fg := in0.Shape.C/a.Groups, a.Filters/a.Groups
			switch {
			case a.Groups == 1:
				p.Strategy = SplitFilters
			case a.Groups >= gpus:
				p.Strategy = SplitGroups
			default:
				p.Strategy = SplitGroupFilters
			}
			p.Conv = make([]ConvPart, gpus)
			for d := range gpus {
				c := convPart(a.Groups, fg, gpus, d)
				p.Conv[d] = c
				if c.Empty() {
					continue
				}
				p.Out[d] = one(c.Filters(fg))
				p.In[d][0] = one(Range{c.G0 * cg, c.G1 * cg})
			}
		case n.Op == ir.OpDense:
			p.Strategy = SplitUnits
			p.Conv = make([]ConvPart, gpus)
			for d := range gpus {
				r := split(n.Dense.Units, gpus, d)
				if r.Len() == 0 {
					continue
				}
				p.Conv[d] = ConvPart{0, 1, r.Lo, r.Hi}
				p.Out[d] = one(r)
				p.In[d][0] = all(in0.Shape.C)
			}
		case n.Op == ir.OpSoftmax || n.Op == ir.OpLayerNorm || n.Op == ir.OpSlice || n.Op == ir.OpChannelShuffle:
			// Each output channel reads every channel (softmax,
			// layernorm) or another one (slice, channel_shuffle).
			p.Strategy = Whole
			p.Out[0] = all(n.Shape.C)
			p.In[0][0] = all(in0.Shape.C)
		case n.Op == ir.OpConcat:
			p.Strategy = Concat
			for d := range gpus {
				off := 0
				for i, x := range n.Inputs {
					for _, r := range own[x][d] {
						p.In[d][i] = append(p.In[d][i], r)
						p.Out[d] = append(p.Out[d], Range{r.Lo + off, r.Hi + off})
					}
					off += x.Shape.C
				}
				p.Out[d] = merge(p.Out[d])
			}
		case n.Op.Info().PerChannel:
			p.Strategy = FollowChannels
			if (n.Op == ir.OpFlatten || n.Op == ir.OpDropout) && (n.Alias || n.Buf == in0.Buf) {
				p.Strategy = Shared
			}
			// The output has the input's channels, or (flatten) each input
			// channel becomes hw features.
			scale := 1
			if n.Op == ir.OpFlatten {
				scale = chanHW(in0)
			}
			var halo [2]int
			if n.Op == ir.OpLRN {
				halo = [2]int{n.LRN.Size / 2, (n.LRN.Size - 1) / 2}
			} else if n.PreLRN != nil {
				halo = [2]int{n.PreLRN.Size / 2, (n.PreLRN.Size - 1) / 2}
			}
			// The channels follow an input that has all of them: an
			// elementwise op's operand may be broadcast along C, and one
			// of a single channel is read whole by every part.
			lead := in0
			for _, x := range n.Inputs {
				if x.Shape.C == n.Shape.C || n.Op == ir.OpFlatten {
					lead = x
					break
				}
			}
			for d := range gpus {
				for _, r := range own[lead][d] {
					p.Out[d] = append(p.Out[d], Range{r.Lo * scale, r.Hi * scale})
					need := Range{max(r.Lo-halo[0], 0), min(r.Hi+halo[1], in0.Shape.C)}
					for i, x := range n.Inputs {
						switch {
						case i == 0 && x == lead:
							p.In[d][0] = append(p.In[d][0], need)
						case x.Shape.C == 1 && n.Shape.C > 1:
							p.In[d][i] = append(p.In[d][i], Range{0, 1})
						default:
							p.In[d][i] = append(p.In[d][i], r)
						}
					}
				}
				for i := range n.Inputs {
					p.In[d][i] = merge(p.In[d][i])
				}
			}
		default:
			return nil, fmt.Errorf("cuda: layer %s: no placement for op %s", n.Name, n.Op)
		}
		own[n] = p.Out
		out = append(out, p)
	}
	return out, nil
}

// replicate places every layer whole on every GPU that has images:
// -parallel data.
func replicate(g *ir.Graph, batches []int) []Placement {
	var out []Placement
	for _, n := range g.Nodes[1:] {
		p := Placement{Node: n, Strategy: Replicated, Out: make([][]Range, len(batches)), In: make([][][]Range, len(batches))}
		if (n.Op == ir.OpFlatten || n.Op == ir.OpDropout) && (n.Alias || n.Buf == n.Inputs[0].Buf) {
			p.Strategy = Shared
		}
		if n.Op == ir.OpConv || n.Op == ir.OpDense {
			p.Conv = make([]ConvPart, len(batches))
		}
		for d, b := range batches {
			p.In[d] = make([][]Range, len(n.Inputs))
			if b == 0 {
				continue
			}
			p.Out[d] = all(n.Shape.C)
			for i, x := range n.Inputs {
				p.In[d][i] = all(x.Shape.C)
			}
			switch n.Op {
			case ir.OpConv:
				p.Conv[d] = ConvPart{0, n.Conv.Groups, 0, n.Conv.Filters / n.Conv.Groups}
			case ir.OpDense:
				p.Conv[d] = ConvPart{0, 1, 0, n.Dense.Units}
			}
		}
		out = append(out, p)
	}
	return out
}

// merge sorts and coalesces ranges, dropping empty ones.
func merge(rs []Range) []Range {
	var out []Range
	for _, r := range sortRanges(rs) {
		if r.Lo >= r.Hi {
			continue
		}
		if k := len(out); k > 0 && r.Lo <= out[k-1].Hi {
			out[k-1].Hi = max(out[k-1].Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

func sortRanges(rs []Range) []Range {
	out := append([]Range(nil), rs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].Lo < out[j-1].Lo || out[j].Lo == out[j-1].Lo && out[j].Hi < out[j-1].Hi); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// subtract returns a minus b; both merged.
func subtract(a, b []Range) []Range {
	var out []Range
	for _, r := range a {
		cur := []Range{r}
		for _, s := range b {
			var next []Range
			for _, c := range cur {
				if s.Hi <= c.Lo || s.Lo >= c.Hi {
					next = append(next, c)
					continue
				}
				if c.Lo < s.Lo {
					next = append(next, Range{c.Lo, s.Lo})
				}
				if s.Hi < c.Hi {
					next = append(next, Range{s.Hi, c.Hi})
				}
			}
			cur = next
		}
		out = append(out, cur...)
	}
	return merge(out)
}

// intersect returns a ∩ b; both merged.
func intersect(a, b []Range) []Range {
	var out []Range
	for _, r := range a {
		for _, s := range b {
			lo, hi := max(r.Lo, s.Lo), min(r.Hi, s.Hi)
			if lo < hi {
				out = append(out, Range{lo, hi})
			}
		}
	}
	return merge(out)
}
