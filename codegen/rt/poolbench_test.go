package rt

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cnnc/cnnc/compiler/ir"
)

// BenchmarkPool times the max poolings of GoogLeNet and ResNet-50 with this
// CPU's fastest kernels, in the tasks codegen's poolChunk makes: by
// rtPoolChannels (planes) and by rtPoolRows, one task a channel (rows).
func BenchmarkPool(b *testing.B) {
	for _, c := range []struct {
		c, h, k, s, p int
		ceil          bool
	}{
		{512, 14, 3, 1, 1, false}, // GoogLeNet's inception branches
		{832, 14, 3, 2, 0, true},  // GoogLeNet's maxpool4
		{64, 112, 3, 2, 1, false}, // ResNet's stem
		{64, 111, 3, 2, 0, true},  // SqueezeNet's (odd widths)
		{256, 27, 3, 2, 0, true},
	} {
		a := ir.PoolAttrs{KH: c.k, KW: c.k, StrideH: c.s, StrideW: c.s, Ceil: c.ceil, Pad: ir.Pad{Top: c.p, Left: c.p, Bottom: c.p, Right: c.p}}
		in := ir.Shape{C: c.c, H: c.h, W: c.h}
		out := ir.Shape{C: c.c, H: ir.PoolOut(c.h, c.k, c.s, c.p, c.ceil), W: ir.PoolOut(c.h, c.k, c.s, c.p, c.ceil)}
		x := randSlice(rand.New(rand.NewPCG(1, 2)), in.Elems())
		g := poolGeom(in, out, &a, true)
		kern := rtPoolKernelsFor(available()[0])
		got := make([]float32, out.Elems())
		scratch := make([]float32, 8192)
		chunk := max(1, min((16384+c.h*c.h-1)/(c.h*c.h), (c.c+7)/8)) // poolChunk
		name := fmt.Sprintf("%dx%dx%d/%dx%ds%dp%d", c.c, c.h, c.h, c.k, c.k, c.s, c.p)
		b.Run(name+"/planes", func(b *testing.B) {
			for b.Loop() {
				for c0 := 0; c0 < c.c; c0 += chunk {
					rtPoolChannels(got, x, g, c0, min(c0+chunk, c.c), rtAct{}, kern, scratch)
				}
			}
		})
		b.Run(name+"/rows", func(b *testing.B) {
			for b.Loop() {
				for c0 := range c.c {
					rtPoolRows(got, x, g, 0, c.h, c0, c0+1, 0, out.H, rtAct{}, kern)
				}
			}
		})
	}
}
