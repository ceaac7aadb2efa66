package codegen

import (
	"fmt"
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
	doc.WriteString("\nUse:\n\n\tm, err := " + c.pkg + ".Load(\"" + g.Name + ".safetensors\")\n\t...\n\tvar in [" + c.pkg + ".InputLen]float32\n\tvar out [" + c.pkg + ".OutputLen]float32\n\tm.Infer(&out, &in)\n")
	for _, line := range strings.Split(strings.TrimRight(doc.String(), "\n"), "\n") {
		f.PackageComment(line)
	}

	// Shape constants.
	outDims := out.Dims()
	defs := []jen.Code{
		jen.Comment("Batch is the number of images each Infer call processes."),
		jen.Id("Batch").Op("=").Lit(c.Batch),
		jen.Comment("InputC, InputH and InputW are one image's shape."),
		jen.List(jen.Id("InputC"), jen.Id("InputH"), jen.Id("InputW")).Op("=").List(jen.Lit(in.C), jen.Lit(in.H), jen.Lit(in.W)),
		jen.Comment("InputLen is the length of Infer's input: Batch images."),
		jen.Id("InputLen").Op("=").Id("Batch").Op("*").Id("InputC").Op("*").Id("InputH").Op("*").Id("InputW"),
	}
	if out.Flat {
		defs = append(defs,
			jen.Comment("OutputSize is the length of one image's output vector."),
			jen.Id("OutputSize").Op("=").Lit(outDims[0]))
	} else {
		defs = append(defs,
			jen.Comment("OutputC, OutputH and OutputW are one image's output shape."),
			jen.List(jen.Id("OutputC"), jen.Id("OutputH"), jen.Id("OutputW")).Op("=").List(jen.Lit(out.C), jen.Lit(out.H), jen.Lit(out.W)),
			jen.Id("OutputSize").Op("=").Id("OutputC").Op("*").Id("OutputH").Op("*").Id("OutputW"))
	}
	defs = append(defs,
		jen.Comment("OutputLen is the length of Infer's output: Batch outputs."),
		jen.Id("OutputLen").Op("=").Id("Batch").Op("*").Id("OutputSize"),
		jen.Comment("ArenaLen is the number of float32s of activation memory a Model holds."),
		jen.Id("ArenaLen").Op("=").Lit(g.Mem.ArenaElems*c.Batch),
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

	comment(f, "Options configure a Model.")
	f.Type().Id("Options").Struct(
		jen.Comment("Threads is the number of goroutines Infer uses; 0 means runtime.GOMAXPROCS(0)."),
		jen.Comment("It is capped at 4 x runtime.GOMAXPROCS(0): more workers would only take turns"),
		jen.Comment("on the processors, each holding its own scratch memory."),
		jen.Id("Threads").Int(),
		jen.Comment("Impl names the kernels to use, one of Implementations(); \"\" means the fastest."),
		jen.Id("Impl").String(),
	)

	// The Model: arena, worker state, packed weights.
	fields := []jen.Code{
		jen.Id("mu").Qual("sync", "Mutex"),
		jen.Id("impl").Int(),
		jen.Id("threads").Int(),
		jen.Id("closed").Bool().Comment("by Close, which has unmapped mem"),
		jen.Id("pool").Op("*").Id("rtPool"),
		jen.Id("mem").Op("*").Id("rtMem").Comment("maps the large buffers (weights, arena) outside the Go heap, on huge pages where it can"),
		jen.Id("steps").Index().Id("rtStep"),
		jen.Id("src").Index().Float32().Comment("the input during Infer"),
		jen.Id("arena").Index().Float32(),
		jen.Id("scratch").Index().Index().Float32().Comment("per worker: im2col panels, LRN rows"),
		jen.Id("tmp").Index().Index().Float32().Comment("per worker: LRN's squares and sums"),
		jen.Id("staging").Index().Float32().Comment("one layer's reshaped input: dense inputs packed, conv inputs padded"),
		jen.Id("lrn").Id("rtLRNKernel").Comment("LRN's SIMD kernel for this implementation, or nil"),
		jen.Id("im2col").Id("rtIm2colRow").Comment("im2col's SIMD kernel for this implementation, or nil"),
	}
	if c.hasPool3s2() {
		fields = append(fields, jen.Id("maxPool").Id("rtMaxPoolRow").Comment("3-wide stride-2 max pooling's SIMD kernel, or nil"))
	}
	if c.hasDepthwise() {
		fields = append(fields, jen.Id("dw").Id("rtDWKernels").Comment("depthwise convolutions' SIMD kernels, or nils"))
	}
	if c.hasWino() {
		fields = append(fields, jen.Id("wino").Id("rtWinoKernels").Comment("Winograd transforms' SIMD kernels, or nils"))
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
	comment(f, "Model is the network with its weights loaded and packed for one\nimplementation. Infer may be called from several goroutines; calls on one\nModel run one at a time, so use one Model per goroutine for parallel\ninference (each Model also uses Threads goroutines itself).")
	f.Type().Id("Model").Struct(fields...)

	comment(f, "New reads a safetensors weights file from r and returns a Model using the\nfastest implementation and all CPUs. Tensors are named as a PyTorch\nstate_dict names them (conv1.weight, conv1.bias, ...).")
	f.Func().Id("New").Params(jen.Id("r").Qual("io", "Reader")).Params(jen.Op("*").Id("Model"), jen.Error()).Block(
		jen.Return(jen.Id("NewWithOptions").Call(jen.Id("r"), jen.Id("Options").Values())),
	)
	comment(f, "NewWithOptions is New with options.")
	f.Func().Id("NewWithOptions").Params(jen.Id("r").Qual("io", "Reader"), jen.Id("o").Id("Options")).Params(jen.Op("*").Id("Model"), jen.Error()).Block(
		jen.List(jen.Id("data"), jen.Err()).Op(":=").Id("rtReadAll").Call(jen.Id("r")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("newModel").Call(jen.Id("data"), jen.Id("o"))),
	)
	comment(f, "Load reads the weights file at path; see New.")
	f.Func().Id("Load").Params(jen.Id("path").String()).Params(jen.Op("*").Id("Model"), jen.Error()).Block(
		jen.List(jen.Id("data"), jen.Err()).Op(":=").Qual("os", "ReadFile").Call(jen.Id("path")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.List(jen.Id("m"), jen.Err()).Op(":=").Id("newModel").Call(jen.Id("data"), jen.Id("Options").Values()),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("%s: %w"), jen.Id("path"), jen.Err()))),
		jen.Return(jen.Id("m"), jen.Nil()),
	)
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

	modelInit := jen.Dict{jen.Id("impl"): jen.Id("impl"), jen.Id("mem"): jen.New(jen.Id("rtMem")), jen.Id("lrn"): jen.Id("lrnKernel").Call(jen.Id("impl")), jen.Id("im2col"): jen.Id("im2colKernel").Call(jen.Id("impl"))}
	if c.hasWino() {
		modelInit[jen.Id("wino")] = jen.Id("winoKernels").Call(jen.Id("impl"))
	}
	if c.hasDepthwise() {
		modelInit[jen.Id("dw")] = jen.Id("dwKernels").Call(jen.Id("impl"))
	}
	if c.hasPool3s2() {
		modelInit[jen.Id("maxPool")] = jen.Id("maxPoolKernel").Call(jen.Id("impl"))
	}
	f.Func().Id("newModel").Params(jen.Id("data").Index().Byte(), jen.Id("o").Id("Options")).Params(jen.Op("*").Id("Model"), jen.Error()).Block(
		jen.List(jen.Id("impl"), jen.Err()).Op(":=").Id("implIndex").Call(jen.Id("o").Dot("Impl")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.List(jen.Id("file"), jen.Err()).Op(":=").Id("stReadSafetensors").Call(jen.Id("data")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Id("m").Op(":=").Op("&").Id("Model").Values(modelInit),
		jen.Comment("Unmap the large buffers when the Model is garbage: only it points into them."),
		jen.Qual("runtime", "AddCleanup").Call(jen.Id("m"), jen.Func().Params(jen.Id("mem").Op("*").Id("rtMem")).Block(jen.Id("mem").Dot("free").Call()), jen.Id("m").Dot("mem")),
		jen.If(jen.Err().Op(":=").Id("m").Dot("load").Call(jen.Id("file")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Id("m").Dot("arena").Op("=").Id("rtAlloc").Index(jen.Float32()).Call(jen.Id("m").Dot("mem"), jen.Id("ArenaLen")),
		jen.Id("m").Dot("staging").Op("=").Id("rtAlloc").Index(jen.Float32()).Call(jen.Id("m").Dot("mem"), jen.Id("stagingLen").Index(jen.Id("impl"))),
		jen.Id("m").Dot("steps").Op("=").Id("m").Dot("plan").Call(),
		jen.Id("m").Dot("SetThreads").Call(jen.Id("o").Dot("Threads")),
		jen.Return(jen.Id("m"), jen.Nil()),
	)

	comment(f, "SetThreads sets the number of goroutines Infer uses; n <= 0 means\nruntime.GOMAXPROCS(0), and n is capped at 4 x runtime.GOMAXPROCS(0)\n(Threads reports what it got).")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("SetThreads").Params(jen.Id("n").Int()).Block(
		jen.Id("m").Dot("mu").Dot("Lock").Call(),
		jen.Defer().Id("m").Dot("mu").Dot("Unlock").Call(),
		jen.If(jen.Id("m").Dot("closed")).Block(jen.Panic(jen.Lit(c.pkg+": SetThreads on a closed Model"))),
		jen.Id("n").Op("=").Id("rtClampThreads").Call(jen.Id("n")),
		jen.If(jen.Id("m").Dot("pool").Op("!=").Nil()).Block(jen.Id("m").Dot("pool").Dot("close").Call()),
		jen.Id("m").Dot("threads").Op("=").Id("n"),
		jen.Id("m").Dot("scratch").Op("=").Make(jen.Index().Index().Float32(), jen.Id("n")),
		jen.Id("m").Dot("tmp").Op("=").Make(jen.Index().Index().Float32(), jen.Id("n")),
		jen.For(jen.Id("i").Op(":=").Range().Id("n")).Block(
			jen.Id("m").Dot("scratch").Index(jen.Id("i")).Op("=").Make(jen.Index().Float32(), jen.Id("scratchLen").Index(jen.Id("m").Dot("impl"))),
			jen.Id("m").Dot("tmp").Index(jen.Id("i")).Op("=").Make(jen.Index().Float32(), jen.Id("tmpLen")),
		),
		jen.Id("m").Dot("pool").Op("=").Id("rtNewPool").Call(jen.Id("n")),
		jen.Comment("Stop the workers when the Model is garbage: they hold no reference to it."),
		jen.Qual("runtime", "AddCleanup").Call(jen.Id("m"), jen.Func().Params(jen.Id("p").Op("*").Id("rtPool")).Block(jen.Id("p").Dot("close").Call()), jen.Id("m").Dot("pool")),
	)

	comment(f, "Threads reports the number of goroutines Infer uses.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Threads").Params().Int().Block(jen.Return(jen.Id("m").Dot("threads")))
	comment(f, "Impl reports the implementation the Model runs.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Impl").Params().String().Block(jen.Return(jen.Id("implNames").Index(jen.Id("m").Dot("impl"))))

	comment(f, fmt.Sprintf("Infer runs the network on src, Batch images of InputC x InputH x InputW, and\nwrites the output of the last layer (%s), Batch times %s per image, to dst.\nIt allocates nothing.", g.Output.Name, out))
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Infer").Params(
		jen.Id("dst").Op("*").Index(jen.Id("OutputLen")).Float32(),
		jen.Id("src").Op("*").Index(jen.Id("InputLen")).Float32(),
	).Block(jen.Id("m").Dot("run").Call(jen.Id("dst"), jen.Id("src"), jen.Nil()))

	comment(f, "Profile is Infer, adding to t[i] the time spent in Layers[i].")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Profile").Params(
		jen.Id("dst").Op("*").Index(jen.Id("OutputLen")).Float32(),
		jen.Id("src").Op("*").Index(jen.Id("InputLen")).Float32(),
		jen.Id("t").Op("*").Index(jen.Len(jen.Id("Layers"))).Qual("time", "Duration"),
	).Block(jen.Id("m").Dot("run").Call(jen.Id("dst"), jen.Id("src"), jen.Id("t")))

	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("run").Params(
		jen.Id("dst").Op("*").Index(jen.Id("OutputLen")).Float32(),
		jen.Id("src").Op("*").Index(jen.Id("InputLen")).Float32(),
		jen.Id("t").Op("*").Index(jen.Len(jen.Id("Layers"))).Qual("time", "Duration"),
	).BlockFunc(func(b *jen.Group) {
		b.Id("m").Dot("mu").Dot("Lock").Call()
		b.Defer().Id("m").Dot("mu").Dot("Unlock").Call()
		b.If(jen.Id("m").Dot("closed")).Block(jen.Panic(jen.Lit(c.pkg + ": Infer on a closed Model")))
		b.Id("m").Dot("src").Op("=").Id("src").Index(jen.Op(":"))
		b.For(jen.List(jen.Id("_"), jen.Id("s")).Op(":=").Range().Id("m").Dot("steps")).Block(
			jen.If(jen.Id("t").Op("==").Nil()).Block(
				jen.Id("m").Dot("pool").Dot("run").Call(jen.Id("s").Dot("first"), jen.Id("s").Dot("n"), jen.Id("s").Dot("f")),
				jen.Continue(),
			),
			jen.Id("start").Op(":=").Qual("time", "Now").Call(),
			jen.Id("m").Dot("pool").Dot("run").Call(jen.Id("s").Dot("first"), jen.Id("s").Dot("n"), jen.Id("s").Dot("f")),
			jen.Id("t").Index(jen.Id("s").Dot("layer")).Op("+=").Qual("time", "Since").Call(jen.Id("start")),
		)
		if g.Output.Buf < 0 {
			b.Copy(jen.Id("dst").Index(jen.Op(":")), jen.Id("src").Index(jen.Op(":")))
		} else {
			off := g.Output.Buf * c.Batch
			b.Copy(jen.Id("dst").Index(jen.Op(":")), jen.Id("m").Dot("arena").Index(jen.Lit(off).Op(":").Lit(off).Op("+").Id("OutputLen")))
		}
		b.Id("m").Dot("src").Op("=").Nil()
	})

	comment(f, "LayerInfo describes one layer of the compiled network.")
	f.Type().Id("LayerInfo").Struct(
		jen.Id("Name").String().Comment("the layer's name in the spec"),
		jen.Id("Op").String().Comment("its op, with the layers fused into it in brackets"),
		jen.Id("Shape").String().Comment("its output shape, per image"),
		jen.Id("MACs").Int64().Comment("multiply-adds per image"),
	)
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

	comment(f, "Close stops the Model's goroutines and releases the memory it mapped. The\nModel must not be used afterwards: Infer, Profile and SetThreads panic.\nClosing twice does nothing.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Close").Params().Block(
		jen.Id("m").Dot("mu").Dot("Lock").Call(),
		jen.Defer().Id("m").Dot("mu").Dot("Unlock").Call(),
		jen.If(jen.Id("m").Dot("closed")).Block(jen.Return()),
		jen.Id("m").Dot("closed").Op("=").True(),
		jen.Id("m").Dot("pool").Dot("close").Call(),
		jen.Id("m").Dot("mem").Dot("free").Call(),
	)

	comment(f, "implNames lists the implementations, in the index order of the tile tables.")
	var names []jen.Code
	for _, im := range impls {
		names = append(names, jen.Lit(im.name))
	}
	f.Var().Id("implNames").Op("=").Index(jen.Lit(len(impls))).String().Values(names...)

	comment(f, "Implementations lists the implementations this machine can run, fastest first.")
	f.Func().Id("Implementations").Params().Index().String().BlockFunc(func(b *jen.Group) {
		b.Var().Id("out").Index().String()
		b.For(jen.List(jen.Id("_"), jen.Id("i")).Op(":=").Range().Id("available").Call()).Block(
			jen.Id("out").Op("=").Append(jen.Id("out"), jen.Id("implNames").Index(jen.Id("i"))),
		)
		b.Return(jen.Id("out"))
	})
	f.Func().Id("implIndex").Params(jen.Id("name").String()).Params(jen.Int(), jen.Error()).Block(
		jen.Id("avail").Op(":=").Id("available").Call(),
		jen.If(jen.Id("name").Op("==").Lit("")).Block(jen.Return(jen.Id("avail").Index(jen.Lit(0)), jen.Nil())),
		jen.For(jen.List(jen.Id("_"), jen.Id("i")).Op(":=").Range().Id("avail")).Block(
			jen.If(jen.Id("implNames").Index(jen.Id("i")).Op("==").Id("name")).Block(jen.Return(jen.Id("i"), jen.Nil())),
		),
		jen.Return(jen.Lit(0), jen.Qual("fmt", "Errorf").Call(jen.Lit("implementation %q is not available here (have %v)"), jen.Id("name"), jen.Id("Implementations").Call())),
	)
	return render(f)
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
