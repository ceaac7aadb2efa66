package cuda

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"path"
	"strings"

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
	entries, err := goFS.ReadDir("gort")
	if err != nil {
		return nil, err
	}
	var out []codegen.File
	for _, e := range entries {
		name := e.Name()
		if goNotCopied[name] || strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := goFS.ReadFile(path.Join("gort", name))
		if err != nil {
			return nil, err
		}
		i := bytes.Index(src, []byte("package gort\n"))
		if i < 0 {
			return nil, fmt.Errorf("cuda: gort/%s has no package clause", name)
		}
		var b bytes.Buffer
		b.WriteString(c.headerLine() + "\n\n")
		b.Write(src[:i])
		b.WriteString("package " + c.pkg + "\n")
		b.Write(src[i+len("package gort\n"):])
		out = append(out, codegen.File{Name: "rt_" + name, Data: b.Bytes()})
	}
	return out, nil
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
	pre := "cnnc_" + pkg
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
	g := c.g
	in, out := g.Input().Shape, g.Output.Shape
	w := &writer{}
	w.p("%s", c.headerLine())
	w.p("")
	w.p("//go:build cuda")
	w.p("")
	w.comment("", fmt.Sprintf(`Package %s runs the network %s on NVIDIA GPUs, with the CUDA code cnnc
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
	err = m.Infer(&out, &in)`, c.pkg, g.Name, c.pkg, c.pkg, c.opt.Batch, c.opt.GPUs, c.opt.Parallel,
		g.Output.Name, out, c.pkg, c.pkg, c.pkg, c.pkg, c.pkg, g.Name, c.pkg, c.pkg))
	w.p("package %s", c.pkg)
	w.p("")
	w.p("// #cgo LDFLAGS: -L${SRCDIR} -l%s_cuda -lcudart -lstdc++ -lm", c.pkg)
	w.p("import \"C\"")
	w.p("")
	w.p("const (")
	w.p("// Batch is the number of images each Infer call processes.")
	w.p("Batch = %d", c.opt.Batch)
	w.p("// InputC, InputH and InputW are one image's shape.")
	w.p("InputC, InputH, InputW = %d, %d, %d", in.C, in.H, in.W)
	w.p("// InputLen is the length of Infer's input: Batch images, NCHW.")
	w.p("InputLen = Batch * InputC * InputH * InputW")
	if out.Flat {
		w.p("// OutputSize is the length of one image's output vector.")
		w.p("OutputSize = %d", out.C)
	} else {
		w.p("// OutputC, OutputH and OutputW are one image's output shape.")
		w.p("OutputC, OutputH, OutputW = %d, %d, %d", out.C, out.H, out.W)
		w.p("OutputSize = OutputC * OutputH * OutputW")
	}
	w.p("// OutputLen is the length of Infer's output: Batch outputs.")
	w.p("OutputLen = Batch * OutputSize")
	w.p("// GPUs is the number of logical GPUs; Parallel says how they share the work.")
	w.p("GPUs = %d", c.opt.GPUs)
	w.p("Parallel = %q", c.opt.Parallel.String())
	w.p("// SpecSHA256 is the SHA-256 of the spec this package was compiled from.")
	w.p("SpecSHA256 = %q", c.opt.SpecSHA256)
	w.p("// pkgName begins the API's error messages.")
	w.p("pkgName = %q", c.pkg)
	w.p(")")
	src, err := format.Source([]byte(w.b.String()))
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, w.b.String())
	}
	return src, nil
}
