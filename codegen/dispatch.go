package codegen

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/asmgen/vec"
	"github.com/cnnc/cnnc/compiler/ir"
)

// hasLRN reports whether the network normalises with AlexNet's beta, the
// case the vec kernels serve.
func (c *gen) hasLRN() bool {
	for _, l := range c.layers {
		if l.n.Op == ir.OpLRN && l.n.LRN.Beta == 0.75 || l.n.PreLRN != nil && l.n.PreLRN.Beta == 0.75 {
			return true
		}
	}
	return false
}

// hasPool3s2 reports whether the network has a max pooling with 3-wide
// windows at stride 2, which uses the max pooling row kernel.
func (c *gen) hasPool3s2() bool {
	for _, l := range c.layers {
		if l.n.Op == ir.OpMaxPool && l.n.Pool.KW == 3 && l.n.Pool.StrideW == 2 {
			return true
		}
	}
	return false
}

// maxPool is the expression a pooling task passes rtPoolRows as its row
// kernel: the Model's, or nil where the network has no use for one.
func (c *gen) maxPool() jen.Code {
	if c.hasPool3s2() {
		return jen.Id("m").Dot("maxPool")
	}
	return jen.Nil()
}

// lrnWhole is what the LRN kernel's wrapper does to n: AVX-512's kernel
// masks its last vector and does every pixel; AVX2's does whole vectors.
func lrnWhole(im impl) jen.Code {
	if im.isa == gemm.AVX512 {
		return jen.Comment("The kernel masks its last vector: it does all n pixels.")
	}
	return jen.Id("n").Op("&^=").Lit(im.isa.Lanes() - 1)
}

// winoRowIn is the body of the Go wrapper of an input transform kernel
// that does one row of tiles, kernel(im.isa)(args...). On AVX-512 a row of
// at most 8 tiles (small maps) goes to the AVX2 kernel, whose vector it
// fills: AVX-512 would waste half of its lanes or more.
func winoRowIn(im impl, kernel func(gemm.ISA) string, args []jen.Code) []jen.Code {
	body := []jen.Code{jen.Comment("rtWinoInput sized the slices with rtWinoSlack to spare.")}
	if im.isa == gemm.AVX512 {
		body = append(body, jen.If(jen.Id("tw").Op("<=").Lit(gemm.AVX2.Lanes()).Op("&&").Id("hasAVX2")).Block(
			jen.Id(kernel(gemm.AVX2)).Call(args...),
			jen.Return()))
	}
	return append(body, jen.Id(kernel(im.isa)).Call(args...))
}

// winoOutFunc is the Go wrapper of output transform kernel fn (the
// signature of rtWinoKernels.out).
func winoOutFunc(fn string) jen.Code {
	return jen.Func().Params(jen.List(jen.Id("y"), jen.Id("m")).Index().Float32(),
		jen.List(jen.Id("n"), jen.Id("step"), jen.Id("ldY")).Int(), jen.List(jen.Id("bias"), jen.Id("lo")).Float32()).Block(
		jen.Comment("rtWinoOutTile sized the slices with rtWinoSlack to spare."),
		jen.Id(fn).Call(jen.Op("&").Id("y").Index(jen.Lit(0)), jen.Op("&").Id("m").Index(jen.Lit(0)),
			jen.Id("n"), jen.Id("step"), jen.Id("ldY"), jen.Id("bias"), jen.Id("lo")))
}

// hasConv reports whether the network has a convolution that is not
// depthwise, which uses the im2col kernel.
func (c *gen) hasConv() bool {
	for _, l := range c.layers {
		if l.n.Op == ir.OpConv && !depthwise(l.n) {
			return true
		}
	}
	return false
}

// dispatchFile writes the run-time choice of implementation: with asm, the
// amd64 file that asks the CPU (golang.org/x/sys/cpu), once; without, the
// pure-Go file for every other GOARCH and for -tags purego. Their build
// constraints complement each other exactly.
func (c *gen) dispatchFile(asm bool) ([]byte, error) {
	constraint := gemm.FallbackConstraint
	if asm {
		constraint = gemm.AsmConstraint
	}
	f := c.newFile(constraint)
	if !asm {
		comment(f, "available lists the implementations this build can run, fastest first.")
		f.Func().Id("available").Params().Index().Int().Block(jen.Return(jen.Index().Int().Values(jen.Lit(0))))
		f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("plan").Params().Index().Id("rtStep").Block(jen.Return(jen.Id("m").Dot("planGo").Call()))
		f.Func().Id("lrnKernel").Params(jen.Id("impl").Int()).Id("rtLRNKernel").Block(jen.Return(jen.Nil()))
		f.Func().Id("im2colKernel").Params(jen.Id("impl").Int()).Id("rtIm2colRow").Block(jen.Return(jen.Nil()))
		if c.hasWino() {
			f.Func().Id("winoKernels").Params(jen.Id("impl").Int()).Id("rtWinoKernels").Block(jen.Return(jen.Id("rtWinoKernels").Values()))
		}
		if c.hasPool3s2() {
			f.Func().Id("maxPoolKernel").Params(jen.Id("impl").Int()).Id("rtMaxPoolRow").Block(jen.Return(jen.Nil()))
		}
		if c.hasDepthwise() {
			f.Func().Id("dwKernels").Params(jen.Id("impl").Int()).Id("rtDWKernels").Block(jen.Return(jen.Id("rtDWKernels").Values()))
		}
		return render(f)
	}
	comment(f, "The CPU features the kernels need, read once.")
	avx512 := jen.Qual("golang.org/x/sys/cpu", "X86").Dot("HasAVX512F")
	if c.bf16() {
		// Widening bfloat16 in zmm registers (VPMOVZXWD) needs AVX512BW.
		avx512 = avx512.Op("&&").Qual("golang.org/x/sys/cpu", "X86").Dot("HasAVX512BW")
	}
	f.Var().Defs(
		jen.Id("hasAVX512").Op("=").Add(avx512),
		jen.Id("hasAVX2").Op("=").Qual("golang.org/x/sys/cpu", "X86").Dot("HasAVX2").Op("&&").Qual("golang.org/x/sys/cpu", "X86").Dot("HasFMA"),
	)
	comment(f, "available lists the implementations this CPU can run, fastest first.")
	f.Func().Id("available").Params().Index().Int().BlockFunc(func(b *jen.Group) {
		b.Var().Id("a").Index().Int()
		for i := len(impls) - 1; i >= 0; i-- {
			im := impls[i]
			if !im.asm {
				continue
			}
			cond := "hasAVX2"
			if im.isa == gemm.AVX512 {
				cond = "hasAVX512"
			}
			b.If(jen.Id(cond)).Block(jen.Id("a").Op("=").Append(jen.Id("a"), jen.Lit(i)))
		}
		b.Return(jen.Append(jen.Id("a"), jen.Lit(0)))
	})
	comment(f, "plan lists the steps of one inference for m's implementation.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("plan").Params().Index().Id("rtStep").BlockFunc(func(b *jen.Group) {
		var cases []jen.Code
		for i, im := range impls {
			if im.asm {
				cases = append(cases, jen.Case(jen.Lit(i)).Block(jen.Return(jen.Id("m").Dot("plan"+im.suffix).Call())))
			}
		}
		b.Switch(jen.Id("m").Dot("impl")).Block(cases...)
		b.Return(jen.Id("m").Dot("planGo").Call())
	})
	if c.hasWino() {
		kernelChooser(f, "winoKernels", "rtWinoKernels", "implementation impl's SIMD Winograd transforms", jen.Id("rtWinoKernels").Values(), func(im impl) jen.Code {
			d := jen.Dict{}
			var forms []jen.Code
			for _, w := range c.winoForms() {
				args := []jen.Code{jen.Op("&").Id("dst").Index(jen.Lit(0)), jen.Op("&").Id("planes").Index(jen.Lit(0)), jen.Id("ps"), jen.Id("tw"), jen.Id("ld"), jen.Id("ldDst")}
				in := winoRowIn(im, func(isa gemm.ISA) string { return vec.WinoInName(isa, w) }, args)
				forms = append(forms, jen.Values(jen.Dict{
					jen.Id("in"): jen.Func().Params(jen.List(jen.Id("dst"), jen.Id("planes")).Index().Float32(),
						jen.List(jen.Id("ps"), jen.Id("tw"), jen.Id("ld"), jen.Id("ldDst")).Int()).Block(in...),
					jen.Id("out"): winoOutFunc(vec.WinoOutName(im.isa, w)),
				}))
			}
			d[jen.Id("forms")] = jen.Index().Id("rtWinoFormKernels").Values(forms...)
			d[jen.Id("copy")] = jen.Func().Params(jen.List(jen.Id("dst"), jen.Id("src")).Index().Float32(),
				jen.List(jen.Id("rows"), jen.Id("n"), jen.Id("ldDst"), jen.Id("ldSrc")).Int()).Block(
				jen.Comment("rtWinoInput checked the slices' reach."),
				jen.Id(vec.CopyRowsName(im.isa)).Call(jen.Op("&").Id("dst").Index(jen.Lit(0)), jen.Op("&").Id("src").Index(jen.Lit(0)),
					jen.Id("rows"), jen.Id("n"), jen.Id("ldDst"), jen.Id("ldSrc")))
			return jen.Id("rtWinoKernels").Values(d)
		})
	}
	if c.hasPool3s2() {
		kernelChooser(f, "maxPoolKernel", "rtMaxPoolRow", "implementation impl's SIMD max pooling row kernel", jen.Nil(), func(im impl) jen.Code {
			params := []jen.Code{jen.List(jen.Id("dst"), jen.Id("src")).Index().Float32(), jen.List(jen.Id("n"), jen.Id("rows"), jen.Id("ld")).Int()}
			call := jen.Id(vec.MaxPoolName(im.isa)).Call(jen.Op("&").Id("dst").Index(jen.Lit(0)), jen.Op("&").Id("src").Index(jen.Lit(0)), jen.Id("n"), jen.Id("rows"), jen.Id("ld"))
			if im.isa == gemm.AVX512 {
				return jen.Func().Params(params...).Int().Block(
					jen.If(jen.Id("n").Op("<=").Lit(0)).Block(jen.Return(jen.Lit(0))),
					jen.Comment("The kernel writes n outputs and reads every row to element 2n."),
					jen.List(jen.Id("_"), jen.Id("_")).Op("=").List(jen.Id("dst").Index(jen.Id("n").Op("-").Lit(1)), jen.Id("src").Index(jen.Parens(jen.Id("rows").Op("-").Lit(1)).Op("*").Id("ld").Op("+").Lit(2).Op("*").Id("n"))),
					call,
					jen.Return(jen.Id("n")),
				)
			}
			lanes := im.isa.Lanes()
			return jen.Func().Params(params...).Int().Block(
				jen.Comment(fmt.Sprintf("The kernel takes whole vectors of %d outputs and reads every row to", lanes)),
				jen.Comment("element 2n+1: one past the last window, so not on the last row's end."),
				jen.Id("n").Op("&^=").Lit(lanes-1),
				jen.If(jen.Id("n").Op(">").Lit(0).Op("&&").Parens(jen.Id("rows").Op("-").Lit(1)).Op("*").Id("ld").Op("+").Lit(2).Op("*").Id("n").Op("+").Lit(1).Op(">=").Len(jen.Id("src"))).Block(
					jen.Id("n").Op("-=").Lit(lanes)),
				jen.If(jen.Id("n").Op("<=").Lit(0)).Block(jen.Return(jen.Lit(0))),
				jen.List(jen.Id("_"), jen.Id("_")).Op("=").List(jen.Id("dst").Index(jen.Id("n").Op("-").Lit(1)), jen.Id("src").Index(jen.Parens(jen.Id("rows").Op("-").Lit(1)).Op("*").Id("ld").Op("+").Lit(2).Op("*").Id("n").Op("+").Lit(1))),
				call,
				jen.Return(jen.Id("n")),
			)
		})
	}
	if c.hasDepthwise() {
		kernelChooser(f, "dwKernels", "rtDWKernels", "implementation impl's SIMD depthwise convolution kernels", jen.Id("rtDWKernels").Values(), dwKernels)
	}
	var im2col func(impl) jen.Code
	if c.hasConv() {
		im2col = func(im impl) jen.Code {
			return jen.Func().Params(
				jen.List(jen.Id("d"), jen.Id("s")).Index().Float32(),
				jen.List(jen.Id("cols"), jen.Id("nr"), jen.Id("ow"), jen.Id("ox0"), jen.Id("sw"), jen.Id("rowStep")).Int()).Block(
				jen.Comment("rtIm2col has checked the reach of d and s."),
				jen.Id(vec.Im2colRowName(im.isa)).Call(jen.Op("&").Id("d").Index(jen.Lit(0)), jen.Op("&").Id("s").Index(jen.Lit(0)),
					jen.Id("cols"), jen.Id("nr"), jen.Id("ow"), jen.Id("ox0"), jen.Id("sw"), jen.Id("rowStep")),
			)
		}
	}
	kernelChooser(f, "im2colKernel", "rtIm2colRow", "implementation impl's SIMD im2col row kernel, or nil", jen.Nil(), im2col)
	var lrn func(impl) jen.Code
	if c.hasLRN() {
		lrn = func(im impl) jen.Code {
			return jen.Func().Params(
				jen.List(jen.Id("dst"), jen.Id("src")).Index().Float32(),
				jen.List(jen.Id("n"), jen.Id("c"), jen.Id("dstStride"), jen.Id("srcStride"), jen.Id("before"), jen.Id("after")).Int(),
				jen.List(jen.Id("k"), jen.Id("alpha")).Float32()).Int().Block(
				jen.Comment("rtLRN has checked that dst and src reach channel c-1's pixel n-1."),
				lrnWhole(im),
				jen.If(jen.Id("n").Op(">").Lit(0)).Block(
					jen.Id(vec.LRNName(im.isa)).Call(jen.Op("&").Id("dst").Index(jen.Lit(0)), jen.Op("&").Id("src").Index(jen.Lit(0)),
						jen.Id("n"), jen.Id("c"), jen.Id("dstStride"), jen.Id("srcStride"), jen.Id("before"), jen.Id("after"), jen.Id("k"), jen.Id("alpha"))),
				jen.Return(jen.Id("n")),
			)
		}
	}
	kernelChooser(f, "lrnKernel", "rtLRNKernel", "implementation impl's SIMD LRN kernel, or nil", jen.Nil(), lrn)
	return render(f)
}

// kernelChooser declares func name(impl int) typ, which returns what kernel
// gives for each assembly implementation and none for the others (and for
// every implementation when kernel is nil: the network needs no such
// kernel).
func kernelChooser(f *jen.File, name, typ, doc string, none jen.Code, kernel func(impl) jen.Code) {
	comment(f, name+" returns "+doc+".")
	f.Func().Id(name).Params(jen.Id("impl").Int()).Id(typ).BlockFunc(func(b *jen.Group) {
		if kernel != nil {
			for i, im := range impls {
				if im.asm {
					b.If(jen.Id("impl").Op("==").Lit(i)).Block(jen.Return(kernel(im)))
				}
			}
		}
		b.Return(none)
	})
}

// The generated package's own tests: shape-independent, so a template.
//
//go:embed model_test.go.tmpl
var testTemplate string

func (c *gen) testFile() ([]byte, error) {
	src := strings.ReplaceAll(testTemplate, "PACKAGE", c.pkg)
	return gofmt([]byte(c.headerLine() + "\n\n" + src))
}
