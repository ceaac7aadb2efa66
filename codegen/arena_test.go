package codegen

import (
	"fmt"
	"slices"

	"github.com/cnnc/cnnc/compiler/ir"
)

// CheckArena and PrefixLen export checkArena and Plan.prefixLen to
// TestArenaLayout, which uses the zoo of package codegen_test.
var CheckArena = checkArena

func (p *Plan) PrefixLen() int { return p.prefixLen() }

// arenaKey is one image of a storage in checkArena's replay.
type arenaKey struct {
	store *ir.Node
	img   int
}

// arenaLife is when an arenaKey is first written and last read, and the
// elements its nodes' images occupy.
type arenaLife struct {
	from, to, lo, hi int
	batch            bool // the batch's storage, not the prefix's own
}

// overlaps reports two keys whose lives overlap in both time and memory.
func overlaps(keys []arenaKey, lives map[arenaKey]*arenaLife) error {
	for i, a := range keys {
		for _, b := range keys[i+1:] {
			x, y := lives[a], lives[b]
			if x.from <= y.to && y.from <= x.to && x.lo < y.hi && y.lo < x.hi {
				return fmt.Errorf("%s image %d (steps %d-%d, [%d, %d)) and %s image %d (steps %d-%d, [%d, %d)) share memory while both are live",
					a.store.Name, a.img, x.from, x.to, x.lo, x.hi, b.store.Name, b.img, y.from, y.to, y.lo, y.hi)
			}
		}
	}
	return nil
}

// checkArena checks plan p's arena layout (see TestArenaLayout).
func checkArena(p *Plan) error {
	B, K := p.Batch, p.prefixLen()
	for _, l := range p.layers[K:] {
		if l.img {
			return fmt.Errorf("%s is in the image-major prefix but after a layer that is not", l.n.Name)
		}
	}
	if K > 0 && !slices.ContainsFunc(p.layers[:K], func(l *layer) bool { return len(l.steps[0]) > 0 }) {
		return fmt.Errorf("the image-major prefix (%d layers) runs no step", K)
	}
	// when is the time layer i's steps run for image b, in half steps: a
	// layer reads and writes at an even time.
	when := func(i, b int) int {
		if i < K {
			return 2 * (b*K + i)
		}
		return 2 * (B*K + i - K)
	}
	pos := map[*ir.Node]int{} // the layer whose steps compute or read a node
	early := map[*ir.Node]bool{}
	for i, l := range p.layers {
		pos[l.n] = i
	}
	for i, l := range p.layers {
		if l.into != nil {
			// A multiply folded into the conv after it is read by the
			// conv's first step, which scales its filters before any
			// step writes the conv's output.
			early[l.n] = pos[l.into] > i
			pos[l.n] = pos[l.into]
		}
	}
	lives := map[arenaKey]*arenaLife{}
	get := func(n *ir.Node, b int) *arenaLife {
		k := arenaKey{n.Store, b}
		v := lives[k]
		if v == nil {
			v = &arenaLife{from: 1 << 62, to: -1, lo: 1 << 62, hi: -1}
			lives[k] = v
		}
		off, stride, _ := p.at(n)
		v.batch = stride > 0
		v.lo = min(v.lo, off+b*stride)
		v.hi = max(v.hi, off+b*stride+n.Shape.Elems())
		return v
	}
	for i, l := range p.layers {
		n := l.n
		if n.Buf < 0 {
			continue
		}
		for b := range B {
			if len(l.steps[0]) > 0 {
				v := get(l.out(), b)
				v.from = min(v.from, when(i, b))
			}
			for _, x := range n.Inputs {
				if x.Buf >= 0 {
					v := get(x, b)
					t := when(pos[n], b)
					if early[n] {
						t--
					}
					v.to = max(v.to, t)
				}
			}
			if n == p.g.Output {
				get(n, b).to = 1 << 62
			}
		}
	}
	var keys []arenaKey
	for k, v := range lives {
		if v.lo < 0 || v.hi > p.arenaLen {
			return fmt.Errorf("%s image %d at [%d, %d) lies outside the arena of %d", k.store.Name, k.img, v.lo, v.hi, p.arenaLen)
		}
		if v.from > v.to {
			v.from = v.to // read but never written: a gathered concat's members are
		}
		keys = append(keys, k)
	}
	if err := overlaps(keys, lives); err != nil {
		return err
	}
	// Model.runPrefix also runs the prefix of several images side by side,
	// each in a lane with its own copy of the prefix's own storage, in any
	// order: so the batch's storage that the prefix touches is live
	// through the whole prefix.
	end := 2*B*K - 1
	for _, v := range lives {
		if v.batch && v.from <= end {
			v.from, v.to = 0, max(v.to, end)
		}
	}
	return overlaps(keys, lives)
}
