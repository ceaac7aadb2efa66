package codegen

import (
	_ "embed"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/asmgen/vec"
)

// winoRowIn is the body of the Go wrapper of an input transform kernel
// that does one row of tiles, kernel(im.isa)(args...). On AVX-512 a row of
// at most 8 tiles (small maps) goes to the AVX2 kernel, whose vector it
// fills: AVX-512 would waste half of its lanes or more.
func winoRowIn(im impl, kernel func(gemm.ISA) string, args []jen.Code) []jen.Code {
	body := []jen.Code{jen.Comment("rtWinoInput sized the slices with rtWinoSlack to spare.")}
	if im.isa == gemm.AVX512 {
		body = append(body, jen.If(jen.Id("tw").Op("<=").Lit(gemm.AVX2.Lanes()).Op("&&").Id("rtHasAVX2")).Block(
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

// dispatchFile writes the choosers of the kinds whose wrappers depend on
// the network (kernelKind.emit): for arch a, dispatch_<a.goarch>.go; for
// nil, dispatch_other.go, the pure-Go file for every other GOARCH and for
// -tags purego. Their build constraints complement each other exactly. The
// rest of the dispatch is codegen/rt's dispatch_*.go.
func (c *gen) dispatchFile(a *arch) ([]byte, error) {
	constraint := vecFallbackConstraint
	if a != nil {
		constraint = a.constraint
	}
	f := c.newFile(constraint)
	for _, k := range c.kinds() {
		if k.emit != nil {
			k.emit(c, f, a)
		}
	}
	return render(f)
}

// dispatchName is the name of dispatchFile(a)'s file.
func dispatchName(a *arch) string {
	if a == nil {
		return "dispatch_other.go"
	}
	return "dispatch_" + a.goarch + ".go"
}

// hasEmitted reports whether the network uses a kind whose chooser
// dispatchFile writes.
func (c *gen) hasEmitted() bool {
	for _, k := range c.kinds() {
		if k.emit != nil {
			return true
		}
	}
	return false
}

// winoKernels writes winoKernels, the Winograd kind's chooser for arch a:
// the SIMD transforms for a's assembly implementations, the Go ones
// (winogo.go) for the others and (a nil) the builds without assembly.
func (c *gen) winoKernels(f *jen.File, a *arch) {
	var goForms []jen.Code
	for _, w := range c.winoForms() {
		goForms = append(goForms, jen.Values(jen.Dict{jen.Id("in"): jen.Id(vec.WinoInGoName(w)), jen.Id("out"): jen.Id(vec.WinoOutGoName(w))}))
	}
	goKernels := jen.Id("rtWinoKernels").Values(jen.Dict{jen.Id("forms"): jen.Index().Id("rtWinoFormKernels").Values(goForms...)})
	if a == nil {
		comment(f, "winoKernels returns the Go Winograd transforms: this build has no SIMD kernels.")
		f.Func().Id("winoKernels").Params(jen.Id("impl").Int()).Id("rtWinoKernels").Block(jen.Return(goKernels))
		return
	}
	kernelChooser(f, *a, "winoKernels", "rtWinoKernels", "implementation impl's Winograd transforms: SIMD, or Go for\nthe pure-Go implementation", goKernels, func(im impl) jen.Code {
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
		if im.isa == gemm.AVX512 || im.isa == gemm.AVX2 {
			splits, joins := jen.Dict{}, jen.Dict{}
			for _, o := range vec.SplitsOf(c.winoForms()) {
				splits[jen.Lit(o)] = jen.Func().Params(jen.Id("dst").Index().Float32(), jen.List(jen.Id("ps"), jen.Id("n")).Int(),
					jen.Id("row").Index().Float32(), jen.Id("pl").Int()).Block(
					jen.Comment("rtWinoInput checked dst's reach; the kernel reads only the row."),
					jen.Id(vec.WinoSplitName(im.isa, o)).Call(jen.Op("&").Id("dst").Index(jen.Lit(0)), jen.Op("&").Id("row").Index(jen.Lit(0)),
						jen.Id("n"), jen.Id("ps"), jen.Len(jen.Id("row")), jen.Id("pl")))
				joins[jen.Lit(o)] = jen.Func().Params(jen.List(jen.Id("dst"), jen.Id("src")).Index().Float32(), jen.List(jen.Id("n"), jen.Id("ldS")).Int()).Block(
					jen.Comment("rtWinoJoinRows checked src's reach; the kernel writes dst[:n]."),
					jen.Id("_").Op("=").Id("dst").Index(jen.Id("n").Op("-").Lit(1)),
					jen.Id(vec.WinoJoinName(im.isa, o)).Call(jen.Op("&").Id("dst").Index(jen.Lit(0)),
						jen.Op("&").Id("src").Index(jen.Lit(0)), jen.Id("n"), jen.Id("ldS")))
			}
			if len(splits) > 0 {
				d[jen.Id("split")] = jen.Index(jen.Id("rtWinoMaxO").Op("+").Lit(1)).Func().Params(jen.Id("dst").Index().Float32(), jen.List(jen.Id("ps"), jen.Id("n")).Int(),
					jen.Id("row").Index().Float32(), jen.Id("pl").Int()).Values(splits)
				d[jen.Id("join")] = jen.Index(jen.Id("rtWinoMaxO").Op("+").Lit(1)).Func().Params(jen.List(jen.Id("dst"), jen.Id("src")).Index().Float32(),
					jen.List(jen.Id("n"), jen.Id("ldS")).Int()).Values(joins)
			}
		}
		d[jen.Id("copy")] = jen.Func().Params(jen.List(jen.Id("dst"), jen.Id("src")).Index().Float32(),
			jen.List(jen.Id("rows"), jen.Id("n"), jen.Id("ldDst"), jen.Id("ldSrc")).Int()).Block(
			jen.Comment("rtWinoInput checked the slices' reach."),
			jen.Id(vec.CopyRowsName(im.isa)).Call(jen.Op("&").Id("dst").Index(jen.Lit(0)), jen.Op("&").Id("src").Index(jen.Lit(0)),
				jen.Id("rows"), jen.Id("n"), jen.Id("ldDst"), jen.Id("ldSrc")))
		return jen.Id("rtWinoKernels").Values(d)
	})
}

// winoVec adds the Winograd transforms the network uses to s.
func (c *gen) winoVec(s *vec.Set) {
	s.Forms = c.winoForms()
}

// kernelChooser declares func name(impl int) typ, which returns what kernel
// gives for each implementation of arch a with asmgen/vec kernels and
// none for the others (and for every implementation when kernel is nil:
// the network needs no such kernel).
func kernelChooser(f *jen.File, a arch, name, typ, doc string, none jen.Code, kernel func(impl) jen.Code) {
	comment(f, name+" returns "+doc+".")
	f.Func().Id(name).Params(jen.Id("impl").Int()).Id(typ).BlockFunc(func(b *jen.Group) {
		if kernel != nil {
			for i, im := range impls {
				if im.arch == a.goarch {
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
