package rt

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cnnc/cnnc/compiler/ir"
)

// BenchmarkDWGrouped times RegNetY-400MF's grouped 3x3 convolutions (8
// channels and 8 filters a group, ReLU) with each SIMD implementation,
// its outputs one at a time ("one") and rtDWGroupedOuts at a time
// ("grouped", rtDWKernels.grouped).
func BenchmarkDWGrouped(b *testing.B) {
	for _, impl := range available() {
		kernels := rtDWKernelsFor(impl)
		if kernels.grouped == nil {
			continue
		}
		for _, c := range []struct {
			name          string
			groups, hw, s int
		}{
			{"6g_112s2", 6, 112, 2}, {"13g_56s2", 13, 56, 2}, {"13g_28", 13, 28, 1}, {"26g_28s2", 26, 28, 2},
			{"26g_14", 26, 14, 1}, {"55g_14s2", 55, 14, 2}, {"55g_7", 55, 7, 1},
		} {
			for _, one := range []bool{true, false} {
				name := fmt.Sprintf("impl%d/%s_grouped", impl, c.name)
				if one {
					name = fmt.Sprintf("impl%d/%s_one", impl, c.name)
				}
				b.Run(name, func(b *testing.B) {
					in := ir.Shape{C: c.groups * 8, H: c.hw, W: c.hw}
					a := ir.ConvAttrs{Filters: c.groups * 8, Groups: c.groups, KH: 3, KW: 3, StrideH: c.s, StrideW: c.s, DilH: 1, DilW: 1,
						Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}, Bias: true}
					oh := (c.hw+2-3)/c.s + 1
					out := ir.Shape{C: a.Filters, H: oh, W: oh}
					g := dwGeom(in, out, &a)
					r := rand.New(rand.NewPCG(1, 2))
					x, w, bias := randSlice(r, in.Elems()), randSlice(r, a.Filters*8*9), randSlice(r, a.Filters)
					dst := make([]float32, out.Elems())
					k := kernels
					if one {
						k.grouped = nil
					}
					scratch := make([]float32, rtDWScratch(g))
					for b.Loop() {
						rtDepthwise(dst, x, w, bias, g, 0, c.groups, scratch, rtAct{Kind: rtActReLU}, &k)
					}
					b.ReportMetric(float64(out.Elems()*8*9)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
				})
			}
		}
	}
}

// BenchmarkDW times depthwise convolutions of MobileNetV2, EfficientNet-B0
// and ConvNeXt-Tiny (one image, every channel, SiLU) with each SIMD
// implementation: a channel at a time with rtDWKernels.tall ("tall") and
// without ("one"), and 16 or 8 channels side by side (rtDepthwiseLanes,
// "lanes", whatever rtDWLanesOut says).
func BenchmarkDW(b *testing.B) {
	for _, impl := range available() {
		kernels := rtDWKernelsFor(impl)
		if kernels.conv == nil {
			continue
		}
		for _, c := range []struct {
			c, hw, k, s int
		}{
			{96, 112, 3, 2}, {144, 56, 3, 1}, {144, 56, 5, 2}, {192, 28, 3, 1}, {144, 56, 3, 2}, {240, 28, 5, 1}, {480, 14, 3, 1},
			{672, 14, 5, 1}, {576, 14, 3, 2}, {672, 14, 5, 2}, {1152, 7, 5, 1}, {960, 7, 3, 1}, {96, 56, 7, 1}, {384, 14, 7, 1}, {768, 7, 7, 1},
		} {
			for _, variant := range []string{"one", "tall", "lanes"} {
				k := kernels
				name := fmt.Sprintf("impl%d/c%d_%dx%d_k%ds%d_%s", impl, c.c, c.hw, c.hw, c.k, c.s, variant)
				if variant == "one" {
					k.tall = [8][8]rtDWTall{}
				}
				if variant != "lanes" {
					k.lanesConv = nil
				} else if k.lanesConv == nil {
					continue
				}
				b.Run(name, func(b *testing.B) {
					in := ir.Shape{C: c.c, H: c.hw, W: c.hw}
					p := c.k / 2
					a := ir.ConvAttrs{Filters: c.c, Groups: c.c, KH: c.k, KW: c.k, StrideH: c.s, StrideW: c.s, DilH: 1, DilW: 1,
						Pad: ir.Pad{Top: p, Bottom: p, Left: p, Right: p}, Bias: true}
					oh := (c.hw+2*p-c.k)/c.s + 1
					out := ir.Shape{C: c.c, H: oh, W: oh}
					g := dwGeom(in, out, &a)
					r := rand.New(rand.NewPCG(1, 2))
					x, w, bias := randSlice(r, in.Elems()), randSlice(r, c.c*c.k*c.k), randSlice(r, c.c)
					dst := make([]float32, out.Elems())
					if variant == "lanes" && g.pos == nil {
						rtDWLanesInit(g) // side by side whatever rtDWLanesGeom says
					}
					scratch := make([]float32, rtDWScratch(g))
					for b.Loop() {
						rtDepthwise(dst, x, w, bias, g, 0, c.c, scratch, rtAct{Kind: rtActSiLU}, &k)
					}
					b.ReportMetric(float64(out.Elems()*c.k*c.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
					b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(c.c), "ns/channel")
				})
			}
		}
	}
}
