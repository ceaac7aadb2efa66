package cuda

import (
	"embed"
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc/cnnc/codegen"
)

// The Go API of every network: real, tested Go in gort, copied with the
// package clause rewritten.
//
//go:embed gort/*.go
var goFS embed.FS

// goNotCopied are the files of gort that stay there: its documentation and
// the stand-in for a generated network.
var goNotCopied = map[string]bool{"doc.go": true, "network.go": true}

// goRuntimeFiles returns gort's Go API for the package: each of its files
// but goNotCopied and the tests, as rt_<name>.
func (c *gen) goRuntimeFiles() ([]codegen.File, error) {
	return codegen.CopyPackage(goFS, "gort", c.pkg, c.headerLine(), func(name string) bool { return goNotCopied[name] })
}

// goNames are the functions of the C API that gort's Go API calls, with
// their C signatures: cnnc_go.h gives each the fixed name cnnc_<name>.
var goNames = []struct{ name, result, params, args string }{
	{"create", "int", "cnnc_model** model, const char* path", "model, path"},
	{"create_from_memory", "int", "cnnc_model** model, const void* data, size_t len", "model, data, len"},
	{"infer", "int", "cnnc_model* model, const float* in, float* out", "model, in, out"},
	{"destroy", "void", "cnnc_model* model", "model"},
	{"device", "int", "const cnnc_model* model, int gpu", "model, gpu"},
	{"last_error", "const char*", "void", ""},
}

// goHeader is cnnc_go.h for package pkg: the fixed names gort's Go API
// calls, as static inline forwarders to the functions of <pkg>.h (cgo
// cannot call function-like macros).
func goHeader(header, pkg string) []byte {
	pre := prefixOf(pkg)
	w := &writer{}
	w.p("%s", header)
	w.p("")
	w.p("/* cnnc_go.h gives the functions of %s.h the fixed names that the Go API", pkg)
	w.p("   (rt_model.go, the same for every network) calls. */")
	w.p("")
	w.p("#ifndef CNNC_GO_H")
	w.p("#define CNNC_GO_H")
	w.p("")
	w.p("#include \"%s.h\"", pkg)
	w.p("")
	w.p("typedef %s_model cnnc_model;", pre)
	w.p("")
	for _, f := range goNames {
		ret := "return "
		if f.result == "void" {
			ret = ""
		}
		w.p("static inline %s cnnc_%s(%s) { %s%s_%s(%s); }", f.result, f.name, f.params, ret, pre, f.name, f.args)
	}
	w.p("")
	w.p("#endif /* CNNC_GO_H */")
	return []byte(w.b.String())
}

// goFile is what the Go API reads of the network: the package
// documentation, the shape constants and the #cgo line that links the
// network's library.
func (c *gen) goFile() ([]byte, error) {
	g, pkg := c.g, c.pkg
	f := jen.NewFile(pkg)
	f.HeaderComment(c.headerLine())
	f.HeaderComment("//go:build cuda")
	for _, line := range strings.Split(fmt.Sprintf(`Package %s runs the network %s on NVIDIA GPUs, with the CUDA code cnnc
generated next to this file (%s.cu, %s.h): %d image(s) per call on %d logical
GPU(s), %s parallelism. It has the API of cnnc's Go packages, except that
Infer and Close return errors (CUDA calls can fail). Infer writes the
output of the last layer, %s (%s per image).

Build the CUDA library first, then the package with the cuda tag:

	nvcc -O3 -std=c++17 -arch=sm_80 -Xcompiler -fPIC -c %s.cu -o %s.o
	ar rcs lib%s_cuda.a %s.o
	CGO_LDFLAGS=-L/usr/local/cuda/lib64 go build -tags cuda

Use:

	m, err := %s.Load("%s.safetensors")
	...
	var in [%s.InputLen]float32
	var out [%s.OutputLen]float32
	err = m.Infer(&out, &in)`, pkg, g.Name, pkg, pkg, c.opt.Batch, c.opt.GPUs, c.opt.Parallel,
		g.Output.Name, g.Output.Shape, pkg, pkg, pkg, pkg, pkg, g.Name, pkg, pkg), "\n") {
		f.PackageComment(line)
	}
	f.CgoPreamble("#cgo LDFLAGS: -L${SRCDIR} -l" + pkg + "_cuda -lcudart -lstdc++ -lm")
	f.Const().Defs(append(codegen.ShapeConsts(c.opt.Batch, g.Input().Shape, g.Output.Shape, "Batch images, NCHW"),
		jen.Comment("GPUs is the number of logical GPUs; Parallel says how they share the work."),
		jen.Id("GPUs").Op("=").Lit(c.opt.GPUs),
		jen.Id("Parallel").Op("=").Lit(c.opt.Parallel.String()),
		jen.Comment("SpecSHA256 is the SHA-256 of the spec this package was compiled from."),
		jen.Id("SpecSHA256").Op("=").Lit(c.opt.SpecSHA256),
		jen.Comment("pkgName begins the API's error messages."),
		jen.Id("pkgName").Op("=").Lit(pkg),
	)...)
	var b strings.Builder
	if err := f.Render(&b); err != nil {
		return nil, err // jennifer's error carries the unformatted source
	}
	return []byte(b.String()), nil
}
