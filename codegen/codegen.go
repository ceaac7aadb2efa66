// Package codegen turns an optimised graph into a Go package in which every
// dimension is a constant: the API and the layer code written with
// jennifer, the GEMM micro-kernels in assembly written by asmgen/gemm (avo),
// and the shape-independent runtime copied from codegen/rt.
//
// The generated package, for a spec named alexnet:
//
//	model.go            API: shape constants, Model, New, Load, Infer
//	layers.go           one task function per layer; the pure-Go kernels
//	layers_amd64.go     the same GEMM layers calling the AVX-512 and AVX2 kernels
//	layers_arm64.go     the same GEMM layers calling the NEON kernels
//	weights.go          reading, checking, folding and packing the weights
//	kernels_amd64.s     the micro-kernels, specialised to each layer (avo)
//	kernels_amd64.go    their Go declarations
//	kernels_arm64.s, .go  the NEON micro-kernels (asmgen/gemm's GenerateNEON)
//	vec_amd64.s, .go    elementwise kernels (LRN's scaling), if the network needs them
//	dispatch_amd64.go   run-time choice of implementation (x/sys/cpu)
//	dispatch_other.go   the Go Winograd transforms: other GOARCHes and -tags purego
//	winogo.go           the Winograd transforms in Go (asmgen/vec), if the network uses Winograd
//	rt_*.go             the runtime (worker pool, packing, pooling, ...)
//	model_test.go       tests and benchmarks of the package itself
package codegen

import (
	"bytes"
	"fmt"
	"go/format"
	"slices"
	"strings"

	"github.com/cnnc/cnnc/asmgen/vec"
	"github.com/cnnc/cnnc/compiler/diag"
	"github.com/cnnc/cnnc/compiler/ir"
)

// Options control generation.
type Options struct {
	Package string // Go package name; default the spec's name
	Batch   int    // images per Infer call; default 1
	Args    string // the cnnc command line, recorded in the header
	// SpecSHA256 is the hash of the spec's bytes, recorded in the code.
	SpecSHA256 string
	// Embed, if set, is the file name (in the output directory) of a
	// weights file to embed with //go:embed, and WeightsSHA256 its hash.
	Embed         string
	WeightsSHA256 string
	// Precision is "fp32" (the default) or "bf16": dense layers' weights
	// stored as bfloat16 and widened to float32 in the kernels, which
	// halves the bytes a batch-1 inference streams. Activations,
	// accumulation and convolutions stay float32.
	Precision string
	// Direct computes every convolution by im2col and GEMM. By default 3x3
	// and 5x5 stride-1 convolutions with at least winoMinChannels input
	// channels and filters per group use Winograd's F(2x2, 3x3) or F(4x4,
	// 3x3), or F(2x2, 5x5), F(3x3, 5x5) or F(4x4, 5x5) (whichever computes
	// fewer padded products, see winoPlan) instead: 16 to 64 GEMMs with
	// 2.25x to 6.25x fewer multiplications, and SIMD transforms around
	// them. Strided
	// convolutions whose space-to-depth is such a convolution (AlexNet's
	// 11x11 stride-4 conv1: 3x3 over 48 channels) use it too where that
	// computes at most 75% of the direct products (see winograd).
	Direct bool
}

// bf16 reports whether dense weights are stored as bfloat16.
func (c *gen) bf16() bool { return c.opt.Precision == "bf16" }

// File is one generated file.
type File struct {
	Name string
	Data []byte
}

// gen holds the state of one generation.
type gen struct {
	*Plan
	g   *ir.Graph
	opt Options
	pkg string
	cur *layer // the layer emitLayer is writing
}

// Generate writes the package for g.
func Generate(g *ir.Graph, opt Options) ([]File, error) {
	switch opt.Precision {
	case "":
		opt.Precision = "fp32"
	case "fp32", "bf16":
	default:
		return nil, fmt.Errorf("codegen: unknown precision %q (want fp32 or bf16)", opt.Precision)
	}
	pkg, err := PackageName(g, opt.Package)
	if err != nil {
		return nil, fmt.Errorf("codegen: %w", err)
	}
	plan, err := NewPlan(g, opt)
	if err != nil {
		return nil, err
	}
	opt.Package, opt.Batch = pkg, plan.Batch
	c := &gen{Plan: plan, g: g, opt: opt, pkg: pkg}
	if err := checkExports(g); err != nil {
		return nil, err
	}
	if err := checkPreprocess(g); err != nil {
		return nil, err
	}

	var files []File
	add := func(name string, src []byte, err error) error {
		if err != nil {
			return fmt.Errorf("codegen: %s: %w", name, err)
		}
		files = append(files, File{Name: name, Data: src})
		return nil
	}
	for _, step := range []struct {
		name string
		fn   func() ([]byte, error)
	}{
		{"model.go", c.apiFile},
		{"layers.go", func() ([]byte, error) { return c.layersFile("") }},
		{"layers_amd64.go", func() ([]byte, error) { return c.layersFile("amd64") }},
		{"layers_arm64.go", func() ([]byte, error) { return c.layersFile("arm64") }},
		{"weights.go", c.weightsFile},
		{"model_test.go", c.testFile},
	} {
		src, err := step.fn()
		if err := add(step.name, src, err); err != nil {
			return nil, err
		}
	}
	if c.hasEmitted() {
		for i := range len(arches) + 1 {
			var a *arch // dispatch_other.go
			if i < len(arches) {
				a = &arches[i]
			}
			src, err := c.dispatchFile(a)
			if err := add(dispatchName(a), src, err); err != nil {
				return nil, err
			}
		}
	}
	if g.Preprocess != nil {
		src, err := c.preprocessFile()
		if err := add("preprocess.go", src, err); err != nil {
			return nil, err
		}
	}
	for _, a := range arches {
		asm, stubs, err := a.gemm(c.pkg, c.kernelConfigs(a.goarch))
		if err != nil {
			return nil, fmt.Errorf("codegen: %s kernels: %w", a.goarch, err)
		}
		files = append(files, File{"kernels_" + a.goarch + ".s", c.header(asm, "//")}, File{"kernels_" + a.goarch + ".go", c.header(stubs, "//")})
	}
	if set := c.vecSet(); !set.Empty() {
		for _, a := range arches {
			asm, stubs, err := a.vec(c.pkg, set)
			if err != nil {
				return nil, fmt.Errorf("codegen: %s vec kernels: %w", a.goarch, err)
			}
			files = append(files, File{"vec_" + a.goarch + ".s", c.header(asm, "//")}, File{"vec_" + a.goarch + ".go", c.header(stubs, "//")})
		}
	}
	if forms := c.winoForms(); len(forms) > 0 {
		src, err := vec.GenerateGo(c.pkg, forms)
		if err != nil {
			return nil, fmt.Errorf("codegen: Winograd transforms: %w", err)
		}
		files = append(files, File{"winogo.go", c.header(src, "//")})
	}
	rt, err := runtimeFiles(c.pkg, c.headerLine(), c.kinds(), g.Preprocess != nil)
	if err != nil {
		return nil, err
	}
	files = append(files, rt...)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return files, nil
}

// headerLine is the first line of every generated file: the form `go help
// generate` documents, which Go tools recognise.
func (c *gen) headerLine() string {
	args := c.opt.Args
	if args == "" {
		args = "compile"
	}
	return "// Code generated by cnnc " + args + "; DO NOT EDIT."
}

// header replaces the first line of src (a generator's own notice) with
// cnnc's header line.
func (c *gen) header(src []byte, _ string) []byte {
	if i := bytes.IndexByte(src, '\n'); i >= 0 && bytes.HasPrefix(src, []byte("//")) {
		src = src[i+1:]
	}
	return append([]byte(c.headerLine()+"\n"), src...)
}

// gofmt formats generated Go source, keeping the source in the error.
func gofmt(src []byte) ([]byte, error) {
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, src)
	}
	return out, nil
}

// apiNames are the package-level identifiers of the API file, which a
// layer's exported shape constants must not repeat.
var apiNames = []string{"Batch", "InputC", "InputH", "InputW", "InputLen", "OutputSize", "OutputC", "OutputH", "OutputW",
	"OutputLen", "ArenaLen", "Precision", "SpecSHA256", "WeightsSHA256", "Options", "Model", "New", "NewWithOptions",
	"Load", "NewEmbedded", "Implementations", "Layers", "LayerInfo"}

// exportNames returns the shape constants node n exports.
func exportNames(n *ir.Node) []string {
	e := exported(n.Name)
	if n.Shape.Flat {
		return []string{e + "Size"}
	}
	return []string{e + "C", e + "H", e + "W"}
}

// checkExports reports layers whose exported shape constants would collide
// with each other's or with the API's ("conv1" and "Conv1", or a layer
// named "Input"), naming the layer and where it is defined.
func checkExports(g *ir.Graph) error {
	owner := map[string]string{}
	for _, name := range apiNames {
		owner[name] = "the package API"
	}
	var errs diag.List
	for _, n := range g.Nodes[1:] {
		for _, id := range exportNames(n) {
			if prev, ok := owner[id]; ok {
				errs.Add(n.Pos, n.Name, "its shape constant %s would collide with %s; rename the layer", id, prev)
				break
			}
			owner[id] = "layer " + n.Name
		}
	}
	return errs.Err()
}
