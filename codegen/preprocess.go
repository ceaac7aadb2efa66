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
// exactly the formula's whatever the pixel. The code is codegen/rt's
// preprocess.go, copied only for such specs.
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

	comment(f, "pixelLUT holds the input value of every 8-bit value, per channel (rtPixelLUT).")
	f.Var().Id("pixelLUT").Op("=").Func().Params().Params(jen.Id("t").Index(jen.Id("InputC")).Index(jen.Lit(256)).Float32()).Block(
		jen.Id("rtPixelLUT").Call(jen.Id("t").Index(jen.Op(":")), jen.Id("pixelScale"), jen.Id("pixelMean").Index(jen.Op(":")), jen.Id("pixelStd").Index(jen.Op(":"))),
		jen.Return(),
	).Call()

	layout := "one byte per pixel"
	if ch == 3 {
		layout = fmt.Sprintf("three bytes per pixel in the order %s", strings.Join(channelNames, ", "))
	}
	comment(f, fmt.Sprintf("SetInputPixels writes image n of dst (0 <= n < Batch) from an InputW x InputH\nimage of 8-bit pixels, %s. Row y starts at pix[y*stride];\npix must hold InputH rows (the last may end without padding). Each value p\nof channel c becomes\n\n\t%s\n\ncomputed in float64 and rounded to float32. The other images of dst are\nleft alone. SetInputPixels allocates nothing.", layout, formula))
	f.Func().Id("SetInputPixels").Params(
		jen.Id("dst").Op("*").Index(jen.Id("InputLen")).Float32(),
		jen.Id("n").Int(), jen.Id("pix").Index().Uint8(), jen.Id("stride").Int(),
	).Error().Block(
		jen.Return(jen.Id("rtSetInputPixels").Call(jen.Id("dst").Index(jen.Op(":")), jen.Id("n"), jen.Id("pix"), jen.Id("stride"), jen.Id("pixelLUT").Index(jen.Op(":")), jen.Id("InputC"), jen.Id("InputH"), jen.Id("InputW"))),
	)

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
	).Error().Block(
		jen.Return(jen.Id("rtSetInputImage").Call(jen.Id("dst").Index(jen.Op(":")), jen.Id("n"), jen.Id("img"), jen.Id("pixelLUT").Index(jen.Op(":")), jen.Id("InputC"), jen.Id("InputH"), jen.Id("InputW"), jen.Lit(p.Channels == "bgr"))),
	)
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
