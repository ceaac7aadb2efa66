package codegen

import (
	"testing"

	"github.com/cnnc/cnnc/compiler/ir"
)

// TestWinogradChoice pins which convolutions Winograd computes, and with
// which filter size.
func TestWinogradChoice(t *testing.T) {
	for _, c := range []struct {
		name                   string
		k, s, dil, c, g, f, kw int // kw 0: square
		r                      int // 0: direct
	}{
		{"3x3", 3, 1, 1, 16, 1, 16, 0, 3},
		{"5x5", 5, 1, 1, 48, 2, 256, 0, 5},
		{"3x3 too few channels", 3, 1, 1, 15, 1, 64, 0, 0},
		{"3x3 too few filters", 3, 1, 1, 64, 1, 15, 0, 0},
		{"3x3 groups thin the channels", 3, 1, 1, 32, 4, 64, 0, 0},
		{"dilated", 3, 1, 2, 64, 1, 64, 0, 0},
		{"7x7", 7, 1, 1, 64, 1, 64, 0, 0},
		{"1x1", 1, 1, 1, 64, 1, 64, 0, 0},
		{"3x5", 3, 1, 1, 64, 1, 64, 5, 0},
		{"AlexNet conv1, 11x11/4", 11, 4, 1, 3, 1, 96, 0, 3},
		{"5x5/2", 5, 2, 1, 4, 1, 16, 0, 3},
		{"10x10/2 as 5x5", 10, 2, 1, 4, 1, 16, 0, 5},
		{"9x9/4: padded to 12x12, 79% of direct", 9, 4, 1, 4, 1, 16, 0, 0},
		{"7x7/2: 4x4 after space-to-depth", 7, 2, 1, 64, 1, 64, 0, 0},
		{"3x3/2: 2x2 after space-to-depth", 3, 2, 1, 64, 1, 64, 0, 0},
		{"5x5/2 over 3 channels: 12 after space-to-depth", 5, 2, 1, 3, 1, 16, 0, 0},
	} {
		kw := c.kw
		if kw == 0 {
			kw = c.k
		}
		in := &ir.Node{Shape: ir.Shape{C: c.c, H: 64, W: 64}}
		n := &ir.Node{Op: ir.OpConv, Inputs: []*ir.Node{in}, Conv: ir.ConvAttrs{Filters: c.f, KH: c.k, KW: kw,
			StrideH: c.s, StrideW: c.s, DilH: c.dil, DilW: c.dil, Groups: c.g}}
		r, ok := winograd(n)
		if !ok {
			r = 0
		}
		if r != c.r {
			t.Errorf("%s: Winograd r = %d, want %d", c.name, r, c.r)
		}
	}
}
