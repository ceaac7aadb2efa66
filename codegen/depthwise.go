package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc/cnnc/compiler/ir"
)

// Depthwise convolutions (MobileNet's and EfficientNet's 3x3 and 5x5,
// ConvNeXt's 7x7) have a filter or a few per group: as GEMMs they would
// be G products of M = K rows, all overhead. They have kernels of their
// own instead: codegen/rt's rtDepthwise, which stages each channel by
// stride phase in a worker's scratch for asmgen/vec's vecDepthwise, or
// computes it in Go (rtDepthwiseGo) for the pure-Go implementation. So do
// grouped convolutions with a few channels and filters per group
// (dwMaxGroup): a group's channels are staged side by side, and each
// output's taps span them. The weights stay in PyTorch's layout,
// [G*K][CG][KH][KW].

// dwGeom declares depthwise layer l's geometry.
func (c *gen) dwGeom(f *jen.File, l *layer) {
	n := l.n
	a := &n.Conv
	in := n.Inputs[0].Shape
	geom := jen.Dict{
		jen.Id("C"): jen.Lit(a.Groups), jen.Id("K"): jen.Lit(a.Filters / a.Groups), jen.Id("H"): jen.Lit(in.H), jen.Id("W"): jen.Lit(in.W),
		jen.Id("KH"): jen.Lit(a.KH), jen.Id("KW"): jen.Lit(a.KW), jen.Id("SH"): jen.Lit(a.StrideH), jen.Id("SW"): jen.Lit(a.StrideW),
		jen.Id("DH"): jen.Lit(a.DilH), jen.Id("DW"): jen.Lit(a.DilW), jen.Id("PT"): jen.Lit(a.Pad.Top), jen.Id("PL"): jen.Lit(a.Pad.Left),
		jen.Id("OH"): jen.Lit(n.Shape.H), jen.Id("OW"): jen.Lit(n.Shape.W),
	}
	if cg := in.C / a.Groups; cg > 1 {
		geom[jen.Id("CG")] = jen.Lit(cg) // a grouped convolution's channels per group
	}
	f.Var().Id(c.ident(n, "g")).Op("=").Id("rtNewDWGeom").Call(jen.Id("rtDWGeom").Values(geom))
}

// dwSteps emits depthwise layer l's task, one for every implementation
// (into layers.go): rtDepthwise with m.dw, the implementation's kernels.
func (c *gen) dwSteps(f *jen.File, l *layer, im impl) {
	n := l.n
	chunk := l.chunk
	if !im.asm {
		actC := act(n.Act)
		what := "input channels"
		if n.Inputs[0].Shape.C > n.Conv.Groups {
			what = "groups"
		}
		doc := fmt.Sprintf("%s computes %s: %s %s -> %s, a depthwise convolution\n(rtDepthwise): one task is %d of its %d %s, of one image.",
			c.ident(n, "l"), n.Name, n.Op, n.Attrs(), n.Shape, chunk, n.Conv.Groups, what)
		task(f, doc, c.ident(n, "l"),
			chunkStart(l, "c0"),
			jen.Id("rtDepthwise").Call(c.img(n, "img"), c.img(n.Inputs[0], "img"), jen.Id("m").Dot(c.ident(n, "w")), jen.Id("m").Dot(c.ident(n, "b")),
				jen.Id(c.ident(n, "g")), jen.Id("c0"), jen.Min(jen.Id("c0").Op("+").Lit(chunk), jen.Lit(n.Conv.Groups)),
				jen.Id("m").Dot("scratch").Index(jen.Id("w")), actC, jen.Op("&").Id("m").Dot("dw")))
	}
}

// dwLoad is what load does with depthwise layer n's weights w and bias
// (with any batchnorm folded in): keeps them as they are.
func (c *gen) dwLoad(n *ir.Node) []jen.Code {
	return []jen.Code{
		jen.Id("m").Dot(c.ident(n, "w")).Op("=").Id("w"),
		jen.Id("m").Dot(c.ident(n, "b")).Op("=").Id("bias"),
	}
}
