package codegen

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
)

// exported returns the exported form of a layer name for shape constants:
// its first letter upper-cased ("conv1" -> "Conv1").
func exported(name string) string {
	r, n := utf8.DecodeRuneInString(name)
	if r == '_' {
		return "L" + name
	}
	return string(unicode.ToUpper(r)) + name[n:]
}

// newFile starts a generated Go file with the header line and, if set, a
// build constraint.
func (c *gen) newFile(constraint string) *jen.File {
	f := jen.NewFile(c.pkg)
	f.HeaderComment(c.headerLine())
	if constraint != "" {
		f.HeaderComment("//go:build " + constraint)
	}
	return f
}

func render(f *jen.File) ([]byte, error) {
	var b strings.Builder
	if err := f.Render(&b); err != nil {
		return nil, err // jennifer's error carries the unformatted source
	}
	return []byte(b.String()), nil
}

func (c *gen) apiFile() ([]byte, error) {
	g := c.g
	f := c.newFile("")
	in, out := g.Input().Shape, g.Output.Shape

	// The package documentation: what it is and the layer table.
	var doc strings.Builder
	fmt.Fprintf(&doc, "Package %s runs the network %s, compiled by cnnc for batches of %d image(s).\n", c.pkg, g.Name, c.Batch)
	fmt.Fprintf(&doc, "\nEvery shape is a constant. Infer takes Batch images of InputC x InputH x InputW\nfloat32s in NCHW order and writes Batch outputs of the last layer, %s each.\n", out)
	doc.WriteString("\nThe layers, after cnnc's passes (fused layers in brackets):\n\n")
	for _, line := range strings.Split(strings.TrimRight(c.layerTable(), "\n"), "\n") {
		doc.WriteString("\t" + line + "\n")
	}
	fmt.Fprintf(&doc, "\nActivations live in one statically planned arena of %s per image.\n", ir.Bytes(int64(g.Mem.ArenaElems)*4))
	switch k := c.prefixLen(); {
	case k == len(c.layers):
		fmt.Fprintf(&doc, "Infer runs the layers image by image, so that one image's activations stay\nin cache; the arena holds %s for the batch.\n", ir.Bytes(int64(c.arenaLen)*4))
	case k > 0:
		fmt.Fprintf(&doc, "Infer runs the first %d layers (to %s) image by image, so that one image's\nactivations stay in cache, and the rest for the batch at once; the arena\nholds %s for the batch.\n", k, c.layers[k-1].n.Name, ir.Bytes(int64(c.arenaLen)*4))
	}
	if k := c.prefixLen(); k > 0 {
		fmt.Fprintf(&doc, "Each thread takes whole images through those layers, and each thread beyond\nthe first holds %s of their activations and staging of its own.\n", ir.Bytes(int64(c.base+slices.Max(c.laneStaging))*4))
	}
	doc.WriteString("\nUse:\n\n\tm, err := " + c.pkg + ".Load(\"" + g.Name + ".safetensors\")\n\t...\n\tvar in [" + c.pkg + ".InputLen]float32\n\tvar out [" + c.pkg + ".OutputLen]float32\n\tm.Infer(&out, &in)\n")
	for _, line := range strings.Split(strings.TrimRight(doc.String(), "\n"), "\n") {
		f.PackageComment(line)
	}

	// Shape constants.
	defs := append(ShapeConsts(c.Batch, in, out, "Batch images"),
		jen.Comment("ArenaLen is the number of float32s of activation memory a Model holds."),
		jen.Id("ArenaLen").Op("=").Lit(c.arenaLen),
		jen.Comment("Precision is how dense layers store their weights: fp32, or bf16 (bfloat16,\nwidened to float32 for the arithmetic)."),
		jen.Id("Precision").Op("=").Lit(c.opt.Precision),
		jen.Comment("SpecSHA256 is the SHA-256 of the spec this package was compiled from."),
		jen.Id("SpecSHA256").Op("=").Lit(c.opt.SpecSHA256),
	)
	f.Const().Defs(defs...)

	// Per-layer shapes.
	var ls []jen.Code
	for _, l := range c.layers {
		s := l.n.Shape
		ls = append(ls, jen.Comment(fmt.Sprintf("%s: %s", l.n.Name, l.n.Op)))
		names := exportNames(l.n)
		if s.Flat {
			ls = append(ls, jen.Id(names[0]).Op("=").Lit(s.C))
		} else {
			ls = append(ls, jen.List(jen.Id(names[0]), jen.Id(names[1]), jen.Id(names[2])).Op("=").List(jen.Lit(s.C), jen.Lit(s.H), jen.Lit(s.W)))
		}
	}
	comment(f, "Each layer's output shape, per image.")
	f.Const().Defs(ls...)

	// What codegen/rt's model.go reads of the network besides the shapes
	// (its network.go stands in for this).
	outOff := -1 // the output is the input
	if g.Output.Buf >= 0 {
		outOff, _, _ = c.at(g.Output)
	}
	f.Const().Defs(
		jen.Comment("pkgName begins the API's panic messages."),
		jen.Id("pkgName").Op("=").Lit(c.pkg),
		jen.Comment(fmt.Sprintf("outputOffset is where Infer's output (%s) is in the arena; -1: the input.", g.Output.Name)),
		jen.Id("outputOffset").Op("=").Lit(outOff),
	)

	// The network struct, which Model embeds: its kernels and weights.
	var fields []jen.Code
	init := jen.Dict{}
	for _, k := range c.kinds() {
		fields = append(fields, jen.Id(k.field).Id(k.typ).Comment(k.doc))
		init[jen.Id(k.field)] = jen.Id(k.choose).Call(jen.Id("impl"))
	}
	for _, l := range c.layers {
		switch l.n.Op {
		case ir.OpDense:
			if c.bf16() {
				fields = append(fields, jen.Id(c.ident(l.n, "w")).Index().Uint16().Comment("bfloat16"), jen.Id(c.ident(l.n, "b")).Index().Float32())
				break
			}
			fields = append(fields, jen.List(jen.Id(c.ident(l.n, "w")), jen.Id(c.ident(l.n, "b"))).Index().Float32())
		case ir.OpConv, ir.OpBatchNorm, ir.OpLayerNorm:
			fields = append(fields, jen.List(jen.Id(c.ident(l.n, "w")), jen.Id(c.ident(l.n, "b"))).Index().Float32())
		case ir.OpPReLU:
			fields = append(fields, jen.Id(c.ident(l.n, "w")).Index().Float32().Comment("slopes"))
		}
	}
	comment(f, "network is what Model (rt_model.go) holds of this network: the SIMD\nkernels of its implementation and the weights, which load packs.")
	f.Type().Id("network").Struct(fields...)
	comment(f, "newNetwork returns implementation impl's kernels, before load.")
	f.Func().Id("newNetwork").Params(jen.Id("impl").Int()).Id("network").Block(jen.Return(jen.Id("network").Values(init)))

	var infos []jen.Code
	for _, l := range c.layers {
		op := l.n.Op.String()
		if len(l.n.Fused) > 0 {
			op += " [" + strings.Join(l.n.Fused, " ") + "]"
		}
		infos = append(infos, jen.Line().Values(jen.Lit(l.n.Name), jen.Lit(op), jen.Lit(l.n.Shape.String()), jen.Lit(int(ir.MACs(l.n)))))
	}
	infos = append(infos, jen.Line())
	comment(f, "Layers lists the layers Infer runs, in order.")
	f.Var().Id("Layers").Op("=").Index(jen.Op("...")).Id("LayerInfo").Values(infos...)

	if c.opt.Embed != "" {
		comment(f, "//go:embed "+c.opt.Embed)
		f.Var().Id("embedded").Index().Byte()
		comment(f, fmt.Sprintf("WeightsSHA256 is the SHA-256 of the embedded weights file %s.", c.opt.Embed))
		f.Const().Id("WeightsSHA256").Op("=").Lit(c.opt.WeightsSHA256)
		comment(f, "NewEmbedded returns a Model using the weights embedded in the binary.")
		f.Func().Id("NewEmbedded").Params(jen.Id("o").Id("Options")).Params(jen.Op("*").Id("Model"), jen.Error()).Block(
			jen.Return(jen.Id("newModel").Call(jen.Id("embedded"), jen.Id("o"))),
		)
		f.Anon("embed")
	}
	return render(f)
}

// ShapeConsts defines the shape constants of Infer's arrays, which every
// generated Go package declares (the CPU target's and the CUDA target's):
// Batch, InputC, InputH and InputW, InputLen (whose comment calls its
// contents input), OutputSize (and OutputC, OutputH and OutputW for an
// output that is not flat) and OutputLen.
func ShapeConsts(batch int, in, out ir.Shape, input string) []jen.Code {
	defs := []jen.Code{
		jen.Comment("Batch is the number of images each Infer call processes."),
		jen.Id("Batch").Op("=").Lit(batch),
		jen.Comment("InputC, InputH and InputW are one image's shape."),
		jen.List(jen.Id("InputC"), jen.Id("InputH"), jen.Id("InputW")).Op("=").List(jen.Lit(in.C), jen.Lit(in.H), jen.Lit(in.W)),
		jen.Comment("InputLen is the length of Infer's input: " + input + "."),
		jen.Id("InputLen").Op("=").Id("Batch").Op("*").Id("InputC").Op("*").Id("InputH").Op("*").Id("InputW"),
	}
	if out.Flat {
		defs = append(defs,
			jen.Comment("OutputSize is the length of one image's output vector."),
			jen.Id("OutputSize").Op("=").Lit(out.C))
	} else {
		defs = append(defs,
			jen.Comment("OutputC, OutputH and OutputW are one image's output shape."),
			jen.List(jen.Id("OutputC"), jen.Id("OutputH"), jen.Id("OutputW")).Op("=").List(jen.Lit(out.C), jen.Lit(out.H), jen.Lit(out.W)),
			jen.Id("OutputSize").Op("=").Id("OutputC").Op("*").Id("OutputH").Op("*").Id("OutputW"))
	}
	return append(defs,
		jen.Comment("OutputLen is the length of Infer's output: Batch outputs."),
		jen.Id("OutputLen").Op("=").Id("Batch").Op("*").Id("OutputSize"))
}

// layerTable is the doc comment's table of the optimised layers.
func (c *gen) layerTable() string {
	var rows [][]string
	rows = append(rows, []string{"layer", "op", "output", "params", "MACs"})
	for _, l := range c.layers {
		op := l.n.Op.String()
		if len(l.n.Fused) > 0 {
			op += " [" + strings.Join(l.n.Fused, " ") + "]"
		}
		rows = append(rows, []string{l.n.Name, op, l.n.Shape.String(), compiler.Group(ir.ParamCount(l.n)), compiler.Group(ir.MACs(l.n))})
	}
	w := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, s := range r {
			w[i] = max(w[i], len(s))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var line []string
		for i, s := range r {
			if i >= 3 {
				line = append(line, strings.Repeat(" ", w[i]-len(s))+s)
			} else {
				line = append(line, s+strings.Repeat(" ", w[i]-len(s)))
			}
		}
		b.WriteString(strings.TrimRight(strings.Join(line, "  "), " ") + "\n")
	}
	return b.String()
}

// comment writes a // comment line by line (jennifer renders a multi-line
// Comment as /* */).
func comment(f *jen.File, text string) {
	for _, line := range strings.Split(text, "\n") {
		f.Comment(line)
	}
}
