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
		{"5x5", 5, 1, 1, 48, 2, 256, 0, 5, []int{2, 3, 4}},
		{"3x3 too few channels", 3, 1, 1, 15, 1, 64, 0, 0, nil},
		{"3x3 too few filters", 3, 1, 1, 64, 1, 15, 0, 0, nil},
		{"3x3 groups thin the channels", 3, 1, 1, 32, 4, 64, 0, 0, nil},
		{"dilated", 3, 1, 2, 64, 1, 64, 0, 0, nil},
		{"7x7", 7, 1, 1, 64, 1, 64, 0, 0, nil},
		{"1x1", 1, 1, 1, 64, 1, 64, 0, 0, nil},
		{"3x5", 3, 1, 1, 64, 1, 64, 5, 0, nil},
		{"AlexNet conv1, 11x11/4", 11, 4, 1, 3, 1, 96, 0, 3, []int{2, 4}},
		{"5x5/2", 5, 2, 1, 4, 1, 16, 0, 3, []int{2, 4}},
		{"10x10/2 as 5x5", 10, 2, 1, 4, 1, 16, 0, 5, []int{2, 3, 4}},
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

// TestWinogradPlan pins winoPlan's choice of output tiles: the larger
// tiles where their fewer products per output win, the smaller where they
// waste less of a small map.
func TestWinogradPlan(t *testing.T) {
	for _, c := range []struct {
		name           string
		k, c, g, f, hw int // filter size, channels, groups, filters, output height and width (same padding)
		batch, o       int
	}{
		{"AlexNet conv3, batch 1", 3, 256, 1, 384, 13, 1, 4},
		{"AlexNet conv3, batch 32", 3, 256, 1, 384, 13, 32, 4},
		{"56x56", 3, 64, 1, 64, 56, 1, 4},
		{"2x2 map", 3, 64, 1, 64, 2, 1, 2},
		{"5x5 map", 3, 64, 1, 64, 5, 1, 2},
		// 27x27: 7x7 4x4 tiles (49, 64 points) against 9x9 3x3 ones (81,
		// 49 points): N = 49 pads to 64 columns, 81 to 96.
		{"AlexNet conv2, batch 1", 5, 96, 2, 256, 27, 1, 4},
		{"AlexNet conv2, batch 32", 5, 96, 2, 256, 27, 32, 4},
		{"5x5, 9x9 map", 5, 64, 1, 64, 9, 1, 3},
		{"5x5, 2x2 map", 5, 64, 1, 64, 2, 1, 2},
	} {
		in := &ir.Node{Shape: ir.Shape{C: c.c, H: c.hw, W: c.hw}}
		p := c.k / 2
		n := &ir.Node{Op: ir.OpConv, Inputs: []*ir.Node{in}, Shape: ir.Shape{C: c.f, H: c.hw, W: c.hw}, Conv: ir.ConvAttrs{Filters: c.f, KH: c.k, KW: c.k,
			StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: c.g, Pad: ir.Pad{Top: p, Bottom: p, Left: p, Right: p}}}
		plan := winoPlan(n, c.batch)
		if plan == nil || plan.o != c.o {
			t.Errorf("%s: plan %+v, want F(%dx%d, %dx%d)", c.name, plan, c.o, c.o, c.k, c.k)
		}
	}
}
