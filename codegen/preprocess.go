package codegen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc/cnnc/compiler/ir"
)

// preprocessFile writes preprocess.go, for specs with a `preprocess:`
// section: SetInputPixels and SetInputImage fill Infer's input from 8-bit
// pixels with the spec's constants baked in. A 256-entry table per channel,
// computed at init from the constants with the formula of docs/spec.md,
// turns each pixel value into its input value, so that the result is
// exactly the formula's whatever the pixel.
func (c *gen) preprocessFile() ([]byte, error) {
	p := c.g.Preprocess
	in := c.g.Input().Shape
	ch := in.C // bytes per pixel in SetInputPixels
	f := c.newFile("")

	channelNames := map[string][]string{"rgb": {"R", "G", "B"}, "bgr": {"B", "G", "R"}, "gray": {"gray"}}[p.Channels]
	formula := fmt.Sprintf("x = (p·%s − %s) / %s", fmtFloat(p.Scale), fmtFloat(p.Mean[0]), fmtFloat(p.Std[0]))
	if ch == 3 {
		formula = fmt.Sprintf("x = (p·%s − mean[c]) / std[c]\n\t   mean = %s\n\t   std  = %s", fmtFloat(p.Scale), fmtList(p.Mean), fmtList(p.Std))
	}

	comment(f, fmt.Sprintf("PixelChannels is the order of the input's channels (%s), as the spec declares\nit: SetInputPixels reads pixels interleaved in this order.", strings.Join(channelNames, ", ")))
	f.Const().Id("PixelChannels").Op("=").Lit(p.Channels)

	comment(f, "The spec's preprocessing: input channel c of a pixel value p is\n(p·pixelScale − pixelMean[c]) / pixelStd[c], computed in float64 and\nrounded to float32.")
	f.Const().Id("pixelScale").Op("=").Lit(p.Scale)
	lits := func(v []float64) []jen.Code {
		out := make([]jen.Code, len(v))
		for i, x := range v {
			out[i] = jen.Lit(x)
		}
		return out
	}
	f.Var().Defs(
		jen.Id("pixelMean").Op("=").Index(jen.Id("InputC")).Float64().Values(lits(p.Mean)...),
		jen.Id("pixelStd").Op("=").Index(jen.Id("InputC")).Float64().Values(lits(p.Std)...),
	)

	comment(f, "pixelLUT holds the input value of every 8-bit value, per channel. The\nconversion to float64 keeps the product from being fused with the\nsubtraction, so that every platform computes the same values.")
	f.Var().Id("pixelLUT").Op("=").Func().Params().Params(jen.Id("t").Index(jen.Id("InputC")).Index(jen.Lit(256)).Float32()).Block(
		jen.For(jen.Id("c").Op(":=").Range().Id("InputC")).Block(
			jen.For(jen.Id("v").Op(":=").Range().Lit(256)).Block(
				jen.Id("t").Index(jen.Id("c")).Index(jen.Id("v")).Op("=").Float32().Call(
					jen.Parens(jen.Float64().Call(jen.Float64().Call(jen.Id("v")).Op("*").Id("pixelScale")).Op("-").Id("pixelMean").Index(jen.Id("c"))).
						Op("/").Id("pixelStd").Index(jen.Id("c"))),
			),
		),
		jen.Return(),
	).Call()

	comment(f, "imageLen is the number of float32s of one image of the input.")
	f.Const().Id("imageLen").Op("=").Id("InputC").Op("*").Id("InputH").Op("*").Id("InputW")

	// SetInputPixels.
	layout := "one byte per pixel"
	if ch == 3 {
		layout = fmt.Sprintf("three bytes per pixel in the order %s", strings.Join(channelNames, ", "))
	}
	comment(f, fmt.Sprintf("SetInputPixels writes image n of dst (0 <= n < Batch) from an InputW x InputH\nimage of 8-bit pixels, %s. Row y starts at pix[y*stride];\npix must hold InputH rows (the last may end without padding). Each value p\nof channel c becomes\n\n\t%s\n\ncomputed in float64 and rounded to float32. The other images of dst are\nleft alone. SetInputPixels allocates nothing.", layout, formula))
	f.Func().Id("SetInputPixels").Params(
		jen.Id("dst").Op("*").Index(jen.Id("InputLen")).Float32(),
		jen.Id("n").Int(), jen.Id("pix").Index().Uint8(), jen.Id("stride").Int(),
	).Error().BlockFunc(func(b *jen.Group) {
		b.Const().Id("rowBytes").Op("=").Id("InputW").Op("*").Lit(ch)
		b.If(jen.Id("n").Op("<").Lit(0).Op("||").Id("n").Op(">=").Id("Batch")).Block(
			jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(c.pkg+": SetInputPixels: image %d is outside the batch of %d"), jen.Id("n"), jen.Id("Batch"))),
		)
		b.If(jen.Id("stride").Op("<").Id("rowBytes")).Block(
			jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(c.pkg+": SetInputPixels: stride %d is less than a row of %d pixels, %d bytes"), jen.Id("stride"), jen.Id("InputW"), jen.Id("rowBytes"))),
		)
		// (len(pix)-rowBytes)/stride >= InputH-1, without overflow.
		b.If(jen.Len(jen.Id("pix")).Op("<").Id("rowBytes").Op("||").Parens(jen.Len(jen.Id("pix")).Op("-").Id("rowBytes")).Op("/").Id("stride").Op("<").Id("InputH").Op("-").Lit(1)).Block(
			jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(c.pkg+": SetInputPixels: %d bytes with stride %d hold fewer than %d rows of %d bytes"), jen.Len(jen.Id("pix")), jen.Id("stride"), jen.Id("InputH"), jen.Id("rowBytes"))),
		)
		b.Id("img").Op(":=").Id("dst").Index(jen.Id("n").Op("*").Id("imageLen").Op(":").Parens(jen.Id("n").Op("+").Lit(1)).Op("*").Id("imageLen"))
		if ch == 1 {
			b.Id("lut").Op(":=").Op("&").Id("pixelLUT").Index(jen.Lit(0))
			b.For(jen.Id("y").Op(":=").Range().Id("InputH")).Block(
				jen.Id("row").Op(":=").Id("pix").Index(jen.Id("y").Op("*").Id("stride").Op(":")).Index(jen.Op(":").Id("rowBytes")),
				jen.Id("out").Op(":=").Id("img").Index(jen.Id("y").Op("*").Id("InputW").Op(":")).Index(jen.Op(":").Id("InputW")),
				jen.For(jen.List(jen.Id("x"), jen.Id("v")).Op(":=").Range().Id("row")).Block(
					jen.Id("out").Index(jen.Id("x")).Op("=").Id("lut").Index(jen.Id("v")),
				),
			)
			b.Return(jen.Nil())
			return
		}
		b.List(jen.Id("lut0"), jen.Id("lut1"), jen.Id("lut2")).Op(":=").List(
			jen.Op("&").Id("pixelLUT").Index(jen.Lit(0)), jen.Op("&").Id("pixelLUT").Index(jen.Lit(1)), jen.Op("&").Id("pixelLUT").Index(jen.Lit(2)))
		b.For(jen.Id("y").Op(":=").Range().Id("InputH")).Block(
			jen.Id("row").Op(":=").Id("pix").Index(jen.Id("y").Op("*").Id("stride").Op(":")).Index(jen.Op(":").Id("rowBytes")),
			jen.Id("o").Op(":=").Id("y").Op("*").Id("InputW"),
			jen.Id("out0").Op(":=").Id("img").Index(jen.Id("o").Op(":")).Index(jen.Op(":").Id("InputW")),
			jen.Id("out1").Op(":=").Id("img").Index(jen.Id("InputH").Op("*").Id("InputW").Op("+").Id("o").Op(":")).Index(jen.Op(":").Id("InputW")),
			jen.Id("out2").Op(":=").Id("img").Index(jen.Lit(2).Op("*").Id("InputH").Op("*").Id("InputW").Op("+").Id("o").Op(":")).Index(jen.Op(":").Id("InputW")),
			jen.For(jen.Id("x").Op(":=").Range().Id("InputW")).Block(
				jen.Id("px").Op(":=").Id("row").Index(jen.Lit(3).Op("*").Id("x").Op(":")).Index(jen.Op(":").Lit(3)),
				jen.Id("out0").Index(jen.Id("x")).Op("=").Id("lut0").Index(jen.Id("px").Index(jen.Lit(0))),
				jen.Id("out1").Index(jen.Id("x")).Op("=").Id("lut1").Index(jen.Id("px").Index(jen.Lit(1))),
				jen.Id("out2").Index(jen.Id("x")).Op("=").Id("lut2").Index(jen.Id("px").Index(jen.Lit(2))),
			),
		)
		b.Return(jen.Nil())
	})

	// SetInputImage.
	conv := "Each pixel is converted to 8-bit gray as\ncolor.GrayModel converts it"
	fast := "Gray"
	if ch == 3 {
		conv = "Each pixel's 8-bit R, G and B are the high bytes of\nits Color.RGBA values (alpha-premultiplied: as if drawn over black)"
		fast = "RGBA"
	}
	comment(f, fmt.Sprintf("SetInputImage writes image n of dst (0 <= n < Batch) from img, which must\nbe InputW x InputH pixels: resize or crop it first. %s,\nthen preprocessed as SetInputPixels does. It allocates nothing for\n*image.%s; other image types go through img.At.", conv, fast))
	f.Func().Id("SetInputImage").Params(
		jen.Id("dst").Op("*").Index(jen.Id("InputLen")).Float32(),
		jen.Id("n").Int(), jen.Id("img").Qual("image", "Image"),
	).Error().BlockFunc(func(b *jen.Group) {
		b.Id("r").Op(":=").Id("img").Dot("Bounds").Call()
		b.If(jen.Id("r").Dot("Dx").Call().Op("!=").Id("InputW").Op("||").Id("r").Dot("Dy").Call().Op("!=").Id("InputH")).Block(
			jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(c.pkg+": SetInputImage: image is %dx%d pixels; the input is %dx%d (resize or crop it first)"), jen.Id("r").Dot("Dx").Call(), jen.Id("r").Dot("Dy").Call(), jen.Id("InputW"), jen.Id("InputH"))),
		)
		b.If(jen.Id("n").Op("<").Lit(0).Op("||").Id("n").Op(">=").Id("Batch")).Block(
			jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(c.pkg+": SetInputImage: image %d is outside the batch of %d"), jen.Id("n"), jen.Id("Batch"))),
		)
		at := func() jen.Code {
			return jen.Id("img").Dot("At").Call(jen.Id("r").Dot("Min").Dot("X").Op("+").Id("x"), jen.Id("r").Dot("Min").Dot("Y").Op("+").Id("y"))
		}
		if ch == 1 {
			b.If(jen.List(jen.Id("g"), jen.Id("ok")).Op(":=").Id("img").Assert(jen.Op("*").Qual("image", "Gray")), jen.Id("ok")).Block(
				jen.Return(jen.Id("SetInputPixels").Call(jen.Id("dst"), jen.Id("n"), jen.Id("g").Dot("Pix").Index(jen.Id("g").Dot("PixOffset").Call(jen.Id("r").Dot("Min").Dot("X"), jen.Id("r").Dot("Min").Dot("Y")).Op(":")), jen.Id("g").Dot("Stride"))),
			)
			b.Id("out").Op(":=").Id("dst").Index(jen.Id("n").Op("*").Id("imageLen").Op(":").Parens(jen.Id("n").Op("+").Lit(1)).Op("*").Id("imageLen"))
			b.For(jen.Id("y").Op(":=").Range().Id("InputH")).Block(
				jen.For(jen.Id("x").Op(":=").Range().Id("InputW")).Block(
					jen.Id("v").Op(":=").Qual("image/color", "GrayModel").Dot("Convert").Call(at()).Assert(jen.Qual("image/color", "Gray")).Dot("Y"),
					jen.Id("out").Index(jen.Id("y").Op("*").Id("InputW").Op("+").Id("x")).Op("=").Id("pixelLUT").Index(jen.Lit(0)).Index(jen.Id("v")),
				),
			)
			b.Return(jen.Nil())
			return
		}
		// Model channel k reads source component idx[k] of (R, G, B).
		idx := [3]int{0, 1, 2}
		if p.Channels == "bgr" {
			idx = [3]int{2, 1, 0}
		}
		b.Id("out").Op(":=").Id("dst").Index(jen.Id("n").Op("*").Id("imageLen").Op(":").Parens(jen.Id("n").Op("+").Lit(1)).Op("*").Id("imageLen"))
		b.Const().Id("plane").Op("=").Id("InputH").Op("*").Id("InputW")
		b.If(jen.List(jen.Id("m"), jen.Id("ok")).Op(":=").Id("img").Assert(jen.Op("*").Qual("image", "RGBA")), jen.Id("ok")).Block(
			jen.For(jen.Id("y").Op(":=").Range().Id("InputH")).Block(
				jen.Id("row").Op(":=").Id("m").Dot("Pix").Index(jen.Id("m").Dot("PixOffset").Call(jen.Id("r").Dot("Min").Dot("X"), jen.Id("r").Dot("Min").Dot("Y").Op("+").Id("y")).Op(":")).Index(jen.Op(":").Lit(4).Op("*").Id("InputW")),
				jen.For(jen.Id("x").Op(":=").Range().Id("InputW")).BlockFunc(func(b *jen.Group) {
					b.Id("px").Op(":=").Id("row").Index(jen.Lit(4).Op("*").Id("x").Op(":")).Index(jen.Op(":").Lit(3))
					b.Id("i").Op(":=").Id("y").Op("*").Id("InputW").Op("+").Id("x")
					for k := range 3 {
						b.Id("out").Index(jen.Lit(k).Op("*").Id("plane").Op("+").Id("i")).Op("=").Id("pixelLUT").Index(jen.Lit(k)).Index(jen.Id("px").Index(jen.Lit(idx[k])))
					}
				}),
			),
			jen.Return(jen.Nil()),
		)
		b.For(jen.Id("y").Op(":=").Range().Id("InputH")).Block(
			jen.For(jen.Id("x").Op(":=").Range().Id("InputW")).BlockFunc(func(b *jen.Group) {
				b.List(jen.Id("cr"), jen.Id("cg"), jen.Id("cb"), jen.Id("_")).Op(":=").Add(at()).Dot("RGBA").Call()
				b.Id("rgb").Op(":=").Index(jen.Lit(3)).Uint8().Values(jen.Uint8().Call(jen.Id("cr").Op(">>").Lit(8)), jen.Uint8().Call(jen.Id("cg").Op(">>").Lit(8)), jen.Uint8().Call(jen.Id("cb").Op(">>").Lit(8)))
				b.Id("i").Op(":=").Id("y").Op("*").Id("InputW").Op("+").Id("x")
				for k := range 3 {
					b.Id("out").Index(jen.Lit(k).Op("*").Id("plane").Op("+").Id("i")).Op("=").Id("pixelLUT").Index(jen.Lit(k)).Index(jen.Id("rgb").Index(jen.Lit(idx[k])))
				}
			}),
		)
		b.Return(jen.Nil())
	})
	return render(f)
}

func fmtFloat(x float64) string { return fmt.Sprint(x) }

func fmtList(v []float64) string {
	if len(v) == 1 {
		return fmtFloat(v[0])
	}
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmtFloat(x)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// checkPreprocess checks that g's preprocessing fits its input.
func checkPreprocess(g *ir.Graph) error {
	p := g.Preprocess
	if p == nil {
		return nil
	}
	c := g.Input().Shape.C
	want := map[string]int{"rgb": 3, "bgr": 3, "gray": 1}[p.Channels]
	if want != c || len(p.Mean) != c || len(p.Std) != c || p.Scale == 0 {
		return fmt.Errorf("codegen: preprocessing %s does not fit the input's %d channels", p, c)
	}
	return nil
}
