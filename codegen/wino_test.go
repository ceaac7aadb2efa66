package codegen

import (
	"slices"
	"testing"

	"github.com/cnnc/cnnc/compiler/ir"
)

// TestWinogradChoice pins which convolutions Winograd computes, with which
// filter size, and with which output tiles it may.
func TestWinogradChoice(t *testing.T) {
	for _, c := range []struct {
		name                   string
		k, s, dil, c, g, f, kw int // kw 0: square
		r                      int // 0: direct
		sizes                  []int
	}{
		{"3x3", 3, 1, 1, 16, 1, 16, 0, 3, []int{2, 4}},
		{"5x5", 5, 1, 1, 48, 2, 256, 0, 5, []int{2}},
		{"3x3 too few channels", 3, 1, 1, 15, 1, 64, 0, 0, nil},
		{"3x3 too few filters", 3, 1, 1, 64, 1, 15, 0, 0, nil},
		{"3x3 groups thin the channels", 3, 1, 1, 32, 4, 64, 0, 0, nil},
		{"dilated", 3, 1, 2, 64, 1, 64, 0, 0, nil},
		{"7x7", 7, 1, 1, 64, 1, 64, 0, 0, nil},
		{"1x1", 1, 1, 1, 64, 1, 64, 0, 0, nil},
		{"3x5", 3, 1, 1, 64, 1, 64, 5, 0, nil},
		{"AlexNet conv1, 11x11/4", 11, 4, 1, 3, 1, 96, 0, 3, []int{2, 4}},
		{"5x5/2", 5, 2, 1, 4, 1, 16, 0, 3, []int{2, 4}},
		{"10x10/2 as 5x5", 10, 2, 1, 4, 1, 16, 0, 5, []int{2}},
		{"9x9/4: padded to 12x12, 79% of direct by F(2x2), 44% by F(4x4)", 9, 4, 1, 4, 1, 16, 0, 3, []int{4}},
		{"7x7/2: 4x4 after space-to-depth", 7, 2, 1, 64, 1, 64, 0, 0, nil},
		{"3x3/2: 2x2 after space-to-depth", 3, 2, 1, 64, 1, 64, 0, 0, nil},
		{"5x5/2 over 3 channels: 12 after space-to-depth", 5, 2, 1, 3, 1, 16, 0, 0, nil},
	} {
		kw := c.kw
		if kw == 0 {
			kw = c.k
		}
		in := &ir.Node{Shape: ir.Shape{C: c.c, H: 64, W: 64}}
		n := &ir.Node{Op: ir.OpConv, Inputs: []*ir.Node{in}, Conv: ir.ConvAttrs{Filters: c.f, KH: c.k, KW: kw,
			StrideH: c.s, StrideW: c.s, DilH: c.dil, DilW: c.dil, Groups: c.g}}
		r, sizes := winograd(n)
		if sizes == nil {
			r = 0
		}
		if r != c.r || !slices.Equal(sizes, c.sizes) {
			t.Errorf("%s: Winograd r = %d, sizes %v, want %d, %v", c.name, r, sizes, c.r, c.sizes)
		}
	}
}

// TestWinogradPlan pins winoPlan's choice of output tiles: F(4x4, 3x3)
// where its fewer products per output win, F(2x2, 3x3) where its tiles
// waste less of a small map.
func TestWinogradPlan(t *testing.T) {
	for _, c := range []struct {
		name     string
		c, f, hw int // channels, filters, output height and width (3x3, pad 1)
		batch, o int
	}{
		{"AlexNet conv3, batch 1", 256, 384, 13, 1, 4},
		{"AlexNet conv3, batch 32", 256, 384, 13, 32, 4},
		{"56x56", 64, 64, 56, 1, 4},
		{"2x2 map", 64, 64, 2, 1, 2},
		{"5x5 map", 64, 64, 5, 1, 2},
	} {
		in := &ir.Node{Shape: ir.Shape{C: c.c, H: c.hw, W: c.hw}}
		n := &ir.Node{Op: ir.OpConv, Inputs: []*ir.Node{in}, Shape: ir.Shape{C: c.f, H: c.hw, W: c.hw}, Conv: ir.ConvAttrs{Filters: c.f, KH: 3, KW: 3,
			StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1, Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}}}
		p := winoPlan(n, c.batch)
		if p == nil || p.o != c.o {
			t.Errorf("%s: plan %+v, want F(%dx%d, 3x3)", c.name, p, c.o, c.o)
		}
	}
}
