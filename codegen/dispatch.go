package codegen

import (
	_ "embed"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc/cnnc/asmgen/gemm"
)

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
		return render(f)
	}
	comment(f, "The CPU features the kernels need, read once.")
	f.Var().Defs(
		jen.Id("hasAVX512").Op("=").Qual("golang.org/x/sys/cpu", "X86").Dot("HasAVX512F"),
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
	return render(f)
}

// The generated package's own tests: shape-independent, so a template.
//
//go:embed model_test.go.tmpl
var testTemplate string

func (c *gen) testFile() ([]byte, error) {
	src := strings.ReplaceAll(testTemplate, "PACKAGE", c.pkg)
	return gofmt([]byte(c.headerLine() + "\n\n" + src))
}
