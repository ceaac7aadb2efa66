package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/params"
)

// weightsFile writes load: checking every tensor against the table of
// expected names and shapes, folding batchnorms, and packing each GEMM
// layer's weights into its micro-kernel's panels for the chosen
// implementation.
func (c *gen) weightsFile() ([]byte, error) {
	f := c.newFile("")
	wants := params.Wants(c.g)

	var rows []jen.Code
	for _, w := range wants {
		var dims []jen.Code
		for _, d := range w.Shape {
			dims = append(dims, jen.Lit(d))
		}
		rows = append(rows, jen.Values(jen.Lit(w.Name), jen.Index().Int().Values(dims...)))
	}
	comment(f, "weightShapes lists every tensor the network reads, in PyTorch's layouts.")
	f.Var().Id("weightShapes").Op("=").Index().Struct(jen.Id("name").String(), jen.Id("shape").Index().Int()).Values(rows...)

	intTable := func(name, doc string, v []int) {
		var vals []jen.Code
		for _, x := range v {
			vals = append(vals, jen.Lit(x))
		}
		comment(f, doc)
		f.Var().Id(name).Op("=").Index(jen.Lit(len(v))).Int().Values(vals...)
	}
	intTable("scratchLen", "scratchLen is each worker's scratch memory, per implementation.", c.scratch)
	intTable("stagingLen", "stagingLen is the buffer of dense layers' packed inputs and conv layers'\npadded inputs (one layer's at a time), per implementation.", c.staging)
	intTable("prefixStagingLen", "prefixStagingLen is the part of the staging buffer the image-major prefix's\nlayers use, per implementation: each further worker's lane has its own.", c.laneStaging)
	comment(f, "tmpLen is each worker's LRN scratch: squares of the channels and their sum.")
	f.Const().Id("tmpLen").Op("=").Lit(c.tmp)
	comment(f, "prefixOwnLen is the arena's start, where the activations that only the\nimage-major prefix uses hold one image: each further worker's lane has its\nown copy.")
	f.Const().Id("prefixOwnLen").Op("=").Lit(c.base)

	comment(f, "load checks the weights file against weightShapes, then folds and packs\nevery layer's weights for m.impl.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("load").Params(jen.Id("file").Op("*").Id("stFile")).Error().BlockFunc(func(b *jen.Group) {
		b.Id("t").Op(":=").Make(jen.Map(jen.String()).Index().Float32(), jen.Len(jen.Id("weightShapes")))
		b.Var().Id("errs").Index().Error()
		b.For(jen.List(jen.Id("_"), jen.Id("w")).Op(":=").Range().Id("weightShapes")).Block(
			jen.List(jen.Id("x"), jen.Id("ok")).Op(":=").Id("file").Dot("Tensors").Index(jen.Id("w").Dot("name")),
			jen.Switch().Block(
				jen.Case(jen.Op("!").Id("ok")).Block(
					jen.Id("errs").Op("=").Append(jen.Id("errs"), jen.Qual("fmt", "Errorf").Call(jen.Lit("tensor %q (shape %v) is missing"), jen.Id("w").Dot("name"), jen.Id("w").Dot("shape")))),
				jen.Case(jen.Op("!").Qual("slices", "Equal").Call(jen.Id("x").Dot("Shape"), jen.Id("w").Dot("shape"))).Block(
					jen.Id("errs").Op("=").Append(jen.Id("errs"), jen.Qual("fmt", "Errorf").Call(jen.Lit("tensor %q has shape %v, want %v"), jen.Id("w").Dot("name"), jen.Id("x").Dot("Shape"), jen.Id("w").Dot("shape")))),
				jen.Case(jen.Id("x").Dot("Data").Op("==").Nil().Op("&&").Len(jen.Id("w").Dot("shape")).Op(">").Lit(0)).Block(
					jen.Id("errs").Op("=").Append(jen.Id("errs"), jen.Qual("fmt", "Errorf").Call(jen.Lit("tensor %q has dtype %s; want F32, F16 or BF16"), jen.Id("w").Dot("name"), jen.Id("file").Dot("DTypes").Index(jen.Id("w").Dot("name"))))),
				jen.Default().Block(jen.Id("t").Index(jen.Id("w").Dot("name")).Op("=").Id("x").Dot("Data")),
			),
		)
		errsOut := jen.If(jen.Len(jen.Id("errs")).Op(">").Lit(0)).Block(jen.Return(jen.Qual("errors", "Join").Call(jen.Id("errs").Op("..."))))
		b.Add(errsOut)
		b.Comment("NaN or ±Inf can only give NaN or infinite outputs. The messages are")
		b.Comment("those of cnnc's params.Bind, which cnnc run calls.")
		b.For(jen.List(jen.Id("_"), jen.Id("w")).Op(":=").Range().Id("weightShapes")).Block(
			jen.If(jen.Err().Op(":=").Id("stCheckFinite").Call(jen.Qual("fmt", "Sprintf").Call(jen.Lit("tensor %q"), jen.Id("w").Dot("name")), jen.Id("w").Dot("shape"), jen.Id("t").Index(jen.Id("w").Dot("name"))), jen.Err().Op("!=").Nil()).Block(
				jen.Id("errs").Op("=").Append(jen.Id("errs"), jen.Err()),
			),
		)
		b.Add(errsOut)
		b.Id("impl").Op(":=").Id("m").Dot("impl")
		b.Id("_").Op("=").Id("impl")
		for _, l := range c.layers {
			c.loadLayer(b, l)
		}
		b.Add(errsOut)
		b.Return(jen.Nil())
	})
	return render(f)
}

// tileTable is [impls]int{...}[impl]: the MR (or, with nr, the NR) of
// layer p's tiles for the implementation impl (an expression) selects.
func tileTable(p *gemmPlan, nr bool, impl jen.Code) jen.Code {
	var vals []jen.Code
	for i := range impls {
		t := p.tile(i)
		if nr {
			vals = append(vals, jen.Lit(t.NR))
		} else {
			vals = append(vals, jen.Lit(t.MR))
		}
	}
	return jen.Index(jen.Lit(len(impls))).Int().Values(vals...).Index(impl)
}

// checkFinite is the statement that adds to errs the error of
// stCheckFinite(what, shape, x): the check params.Bind makes of the
// parameters that folding a batchnorm computes.
func checkFinite(what string, shape []int, x jen.Code) jen.Code {
	var dims []jen.Code
	for _, d := range shape {
		dims = append(dims, jen.Lit(d))
	}
	return jen.If(jen.Err().Op(":=").Id("stCheckFinite").Call(jen.Lit(what), jen.Index().Int().Values(dims...), x), jen.Err().Op("!=").Nil()).Block(
		jen.Id("errs").Op("=").Append(jen.Id("errs"), jen.Err()),
	)
}

func (c *gen) loadLayer(b *jen.Group, l *layer) {
	n := l.n
	name := n.Name
	tensor := func(suffix string) jen.Code { return jen.Id("t").Index(jen.Lit(name + suffix)) }
	bnFold := func(out jen.Code) []jen.Code {
		if n.FoldBN == nil {
			return nil
		}
		bn := n.FoldBN.Layer
		get := func(s string) jen.Code { return jen.Id("t").Index(jen.Lit(bn + s)) }
		effW, effB := params.EffectiveNames(n)
		return []jen.Code{
			jen.List(jen.Id("scale"), jen.Id("shift")).Op(":=").Id("rtBNScaleShift").Call(get(".weight"), get(".bias"), get(".running_mean"), get(".running_var"), jen.Lit(n.FoldBN.Eps)),
			jen.Id("rtFoldBN").Call(jen.Id("w"), out, jen.Id("scale"), jen.Id("shift")),
			checkFinite(effW, params.WeightShape(n), jen.Id("w")),
			checkFinite(effB, []int{n.Shape.C}, out),
		}
	}
	var stmts []jen.Code
	switch n.Op {
	case ir.OpConv, ir.OpDense:
		p := l.gemm
		units := n.Shape.C
		// The file's tensors were decoded for this load alone
		// (stReadSafetensors), and each is read once: folding a batchnorm
		// may change them in place, and the bias is kept as it is.
		stmts = append(stmts, jen.Id("w").Op(":=").Add(tensor(".weight")))
		hasBias := (n.Op == ir.OpConv && n.Conv.Bias) || (n.Op == ir.OpDense && n.Dense.Bias)
		if hasBias {
			stmts = append(stmts, jen.Id("bias").Op(":=").Add(tensor(".bias")))
		} else {
			stmts = append(stmts, jen.Id("bias").Op(":=").Make(jen.Index().Float32(), jen.Lit(units)))
		}
		stmts = append(stmts, bnFold(jen.Id("bias"))...)
		switch {
		case depthwise(n):
			stmts = append(stmts, c.dwLoad(n)...)
		case p.wino:
			stmts = append(stmts,
				jen.Id("mr").Op(":=").Add(tileTable(p, false, jen.Id("impl"))),
				jen.Id("m").Dot(c.ident(n, "w")).Op("=").Id("rtAlloc").Index(jen.Float32()).Call(jen.Id("m").Dot("mem"), jen.Lit(p.points()*p.G*p.K).Op("*").Parens(jen.Lit(p.M).Op("+").Id("mr").Op("-").Lit(1)).Op("/").Id("mr").Op("*").Id("mr")),
				jen.Id("rtWinoFilters").Call(jen.Id("m").Dot(c.ident(n, "w")), jen.Id("w"), jen.Op("&").Id(c.ident(n, "g")), jen.Id("mr")),
				jen.Id("m").Dot(c.ident(n, "b")).Op("=").Id("bias"),
			)
		case n.Op == ir.OpConv:
			stmts = append(stmts,
				jen.Id("mr").Op(":=").Add(tileTable(p, false, jen.Id("impl"))),
				jen.Id("panels").Op(":=").Parens(jen.Lit(p.M).Op("+").Id("mr").Op("-").Lit(1)).Op("/").Id("mr"),
				jen.Id("m").Dot(c.ident(n, "w")).Op("=").Id("rtAlloc").Index(jen.Float32()).Call(jen.Id("m").Dot("mem"), jen.Lit(p.G*p.K).Op("*").Id("panels").Op("*").Id("mr")),
				jen.For(jen.Id("g").Op(":=").Range().Lit(p.G)).Block(
					jen.Id("rtPackRows").Call(jen.Id("m").Dot(c.ident(n, "w")).Index(jen.Id("g").Op("*").Id("panels").Op("*").Id("mr").Op("*").Lit(p.K).Op(":")), jen.Id("w"), jen.Id("g").Op("*").Lit(p.M), jen.Lit(p.M), jen.Lit(p.K), jen.Id("mr")),
				),
				jen.Comment("Padded so that a last, partial panel reads whole tiles of bias."),
				jen.Id("m").Dot(c.ident(n, "b")).Op("=").Id("rtPad").Call(jen.Id("bias"), jen.Lit(units).Op("+").Id("mr")),
			)
		default:
			// fp32 weights are packed where they stay; bf16 ones are
			// packed in a temporary and converted.
			packed := func(n jen.Code) jen.Code {
				if c.bf16() {
					return jen.Make(jen.Index().Float32(), n)
				}
				return jen.Id("rtAlloc").Index(jen.Float32()).Call(jen.Id("m").Dot("mem"), n)
			}
			stmts = append(stmts,
				jen.Id("nr").Op(":=").Add(tileTable(p, true, jen.Id("impl"))),
				jen.Id("packed").Op(":=").Add(packed(jen.Parens(jen.Lit(p.N).Op("+").Id("nr").Op("-").Lit(1)).Op("/").Id("nr").Op("*").Id("nr").Op("*").Lit(p.K))),
				jen.Id("rtPackWeights").Call(jen.Id("packed"), jen.Id("w"), jen.Lit(0), jen.Lit(p.N), jen.Lit(p.K), jen.Id("nr")),
			)
			if c.bf16() {
				stmts = append(stmts,
					jen.Id("m").Dot(c.ident(n, "w")).Op("=").Id("rtAlloc").Index(jen.Uint16()).Call(jen.Id("m").Dot("mem"), jen.Len(jen.Id("packed"))),
					jen.Id("rtToBF16").Call(jen.Id("m").Dot(c.ident(n, "w")), jen.Id("packed")))
			} else {
				stmts = append(stmts, jen.Id("m").Dot(c.ident(n, "w")).Op("=").Id("packed"))
			}
			stmts = append(stmts, jen.Id("m").Dot(c.ident(n, "b")).Op("=").Id("bias"))
		}
	case ir.OpBatchNorm:
		effW, effB := params.EffectiveNames(n)
		stmts = append(stmts, jen.List(jen.Id("m").Dot(c.ident(n, "w")), jen.Id("m").Dot(c.ident(n, "b"))).Op("=").Id("rtBNScaleShift").Call(
			tensor(".weight"), tensor(".bias"), tensor(".running_mean"), tensor(".running_var"), jen.Lit(n.BN.Eps)),
			checkFinite(effW, []int{n.Shape.C}, jen.Id("m").Dot(c.ident(n, "w"))),
			checkFinite(effB, []int{n.Shape.C}, jen.Id("m").Dot(c.ident(n, "b"))))
	case ir.OpPReLU:
		stmts = append(stmts, jen.Id("m").Dot(c.ident(n, "w")).Op("=").Add(tensor(".weight")))
	case ir.OpLayerNorm:
		stmts = append(stmts, jen.List(jen.Id("m").Dot(c.ident(n, "w")), jen.Id("m").Dot(c.ident(n, "b"))).Op("=").List(tensor(".weight"), tensor(".bias")))
	default:
		return
	}
	b.Comment(fmt.Sprintf("%s: %s %s", name, n.Op, n.Attrs()))
	b.Block(stmts...)
}
