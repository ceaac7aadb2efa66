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
// computes it in Go (rtDepthwiseGo) for the pure-Go implementation. The
// weights stay in PyTorch's layout, [C*K][1][KH][KW].

// depthwise reports whether conv n is depthwise: as many groups as input
// channels, more than one, each with K = filters/groups filters of its
// own. A conv over one channel is a GEMM of K rows, which the GEMM
// kernels compute well.
func depthwise(n *ir.Node) bool {
	a := &n.Conv
	return n.Op == ir.OpConv && a.Groups > 1 && a.Groups == n.Inputs[0].Shape.C
}

// hasDepthwise reports whether the network has a depthwise convolution.
func (c *gen) hasDepthwise() bool {
	for _, l := range c.layers {
		if depthwise(l.n) {
			return true
		}
	}
	return false
}

// dwTaskMACs is about the work one task of a depthwise layer should have,
// in multiply-adds: enough to outweigh a task's dispatch on small maps
// (MobileNetV2's 7x7 maps of 960 channels hold 441 per channel).
const dwTaskMACs = 32 << 10

// dwChunk is how many input channels one task of depthwise conv n
// computes (with their K output channels each): dwTaskMACs' worth, but
// at most an eighth of the channels, so that several workers share an
// image, and the number of tasks per image.
func dwChunk(n *ir.Node) (chunk, tasks int) {
	a := &n.Conv
	c := n.Inputs[0].Shape.C
	perChannel := a.Filters / c * n.Shape.H * n.Shape.W * a.KH * a.KW
	chunk = max(1, min(ceilDiv(dwTaskMACs, perChannel), ceilDiv(c, 8)))
	return chunk, ceilDiv(c, chunk)
}

// dwScratch is the per-worker scratch of depthwise conv n with
// implementation im's SIMD kernels: codegen/rt's rtDWScratch.
func dwScratch(n *ir.Node, im impl) int {
	if !im.asm {
		return 0 // rtDepthwiseGo needs none
	}
	const slack = 16 // rtDWSlack
	a := &n.Conv
	hp := (n.Shape.H-1)*a.StrideH + (a.KH-1)*a.DilH + 1
	wp := (n.Shape.W-1)*a.StrideW + (a.KW-1)*a.DilW + 1
	lp, hq := ceilDiv(wp, a.StrideW), ceilDiv(hp, a.StrideH)
	return a.StrideH*a.StrideW*hq*lp + slack + n.Shape.H*lp + slack
}

// dwGeom declares depthwise layer l's geometry.
func (c *gen) dwGeom(f *jen.File, l *layer) {
	n := l.n
	a := &n.Conv
	in := n.Inputs[0].Shape
	f.Var().Id(c.ident(n, "g")).Op("=").Id("rtNewDWGeom").Call(jen.Id("rtDWGeom").Values(jen.Dict{
		jen.Id("C"): jen.Lit(in.C), jen.Id("K"): jen.Lit(a.Filters / in.C), jen.Id("H"): jen.Lit(in.H), jen.Id("W"): jen.Lit(in.W),
		jen.Id("KH"): jen.Lit(a.KH), jen.Id("KW"): jen.Lit(a.KW), jen.Id("SH"): jen.Lit(a.StrideH), jen.Id("SW"): jen.Lit(a.StrideW),
		jen.Id("DH"): jen.Lit(a.DilH), jen.Id("DW"): jen.Lit(a.DilW), jen.Id("PT"): jen.Lit(a.Pad.Top), jen.Id("PL"): jen.Lit(a.Pad.Left),
		jen.Id("OH"): jen.Lit(n.Shape.H), jen.Id("OW"): jen.Lit(n.Shape.W),
	}))
}

// dwSteps emits depthwise layer l's task, one for every implementation
// (into layers.go): rtDepthwise with m.dw, the implementation's kernels.
func (c *gen) dwSteps(f *jen.File, l *layer, im impl) []stepLit {
	n := l.n
	chunk, tasks := dwChunk(n)
	if !im.asm {
		actC := act(n.Act)
		doc := fmt.Sprintf("%s computes %s: %s %s -> %s, a depthwise convolution\n(rtDepthwise): one task is %d of its %d input channels, of one image.",
			c.ident(n, "l"), n.Name, n.Op, n.Attrs(), n.Shape, chunk, n.Inputs[0].Shape.C)
		task(f, doc, c.ident(n, "l"),
			jen.List(jen.Id("img"), jen.Id("c0")).Op(":=").List(jen.Id("t").Op("/").Lit(tasks), jen.Id("t").Op("%").Lit(tasks).Op("*").Lit(chunk)),
			jen.Id("rtDepthwise").Call(c.img(n, "img"), c.img(n.Inputs[0], "img"), jen.Id("m").Dot(c.ident(n, "w")), jen.Id("m").Dot(c.ident(n, "b")),
				jen.Id(c.ident(n, "g")), jen.Id("c0"), jen.Min(jen.Id("c0").Op("+").Lit(chunk), jen.Lit(n.Inputs[0].Shape.C)),
				jen.Id("m").Dot("scratch").Index(jen.Id("w")), actC, jen.Op("&").Id("m").Dot("dw")))
	}
	return []stepLit{step(c.batch*tasks, c.ident(n, "l"))}
}

// dwLoad is what load does with depthwise layer n's weights w and bias
// (with any batchnorm folded in): keeps them as they are.
func (c *gen) dwLoad(n *ir.Node) []jen.Code {
	return []jen.Code{
		jen.Id("m").Dot(c.ident(n, "w")).Op("=").Id("w"),
		jen.Id("m").Dot(c.ident(n, "b")).Op("=").Id("bias"),
	}
}
