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
//	weights.go          reading, checking, folding and packing the weights
//	kernels_amd64.s     the micro-kernels, specialised to each layer (avo)
//	kernels_amd64.go    their Go declarations
//	vec_amd64.s, .go    elementwise kernels (LRN's scaling), if the network needs them
//	dispatch_amd64.go   run-time choice of implementation (x/sys/cpu)
//	dispatch_other.go   the pure-Go choice: other GOARCHes and -tags purego
//	rt_*.go             the runtime (worker pool, packing, pooling, ...)
//	model_test.go       tests and benchmarks of the package itself
package codegen

import (
	"bytes"
	"fmt"
	"go/format"
	"slices"
	"strings"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/asmgen/vec"
	"github.com/cnnc/cnnc/compiler/diag"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/spec"
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

// impl is one implementation of the GEMM layers: its name (as users pass
// it), the suffix of its identifiers, and its register tiles.
type impl struct {
	name   string
	suffix string
	asm    bool
	isa    gemm.ISA
	conv   [2]int // MR, NR for convolutions
	dense  [2]int // MR (at most), NR for dense layers
}

// impls lists the implementations in index order; Options.Impl and the
// generated code's impl index refer to them. The tiles come from
// asmgen/gemm's presets, the one place they are tuned.
var impls = []impl{
	{name: "purego", suffix: "Go", conv: [2]int{4, 16}, dense: [2]int{4, 16}},
	{name: "avx2", suffix: "AVX2", asm: true, isa: gemm.AVX2, conv: tileOf("avx2_6x16"), dense: tileOf("avx2_4x24")},
	{name: "avx512", suffix: "AVX512", asm: true, isa: gemm.AVX512, conv: tileOf("avx512_8x48"), dense: tileOf("avx512_8x48")},
}

// winoTileChoices are the tiles a Winograd GEMM may use per implementation, the
// first the default. Its N (batch × output tiles) is often just past a
// multiple of 48 (49 2x2 tiles at batch 1 on 13x13 maps) or small (16 4x4
// tiles there), and a ragged tile costs as much as a full one, so the
// narrower, taller tiles can waste less.
var winoTileChoices = map[string][][2]int{"avx512": {tileOf("avx512_8x48"), tileOf("avx512_14x32"), tileOf("avx512_28x16")}}

// winoTile picks, for implementation im, the tile of winoTileChoices that computes
// the fewest padded elements of Winograd GEMM p (ties: the first).
func winoTile(im impl, p *gemmPlan) [2]int {
	best, cost := im.conv, -1
	for _, t := range winoTileChoices[im.name] {
		if c := ceilDiv(p.M, t[0]) * t[0] * ceilDiv(p.N, t[1]) * t[1]; cost < 0 || c < cost {
			best, cost = t, c
		}
	}
	return best
}

func tileOf(preset string) [2]int {
	for _, p := range gemm.Presets {
		if p.Name == preset {
			return [2]int{p.MR, p.NR}
		}
	}
	panic("codegen: no gemm preset " + preset)
}

// gen holds the state of one generation.
type gen struct {
	g      *ir.Graph
	opt    Options
	pkg    string
	batch  int
	layers []*layer
	index  map[*ir.Node]int // 1-based position among the layers
}

// ident returns the identifier of kind (l: task method, p: packing task, g
// and lrn: geometry, w and b: weight fields, k: kernel) for node n: the
// kind, the layer's index and its name. The index makes identifiers of
// different layers distinct whatever their names ("c" + "_Go" and "c_Go"
// would not be); the name keeps them readable.
func (c *gen) ident(n *ir.Node, kind string) string {
	return fmt.Sprintf("%s%d_%s", kind, c.index[n], n.Name)
}

// layer is a node that runs code, with its GEMM plan if it has one.
type layer struct {
	n    *ir.Node
	gemm *gemmPlan
}

// gemmPlan is a conv or dense layer as G GEMMs of M x N x K per image.
type gemmPlan struct {
	dense   bool
	wino    bool // a Winograd convolution: points*G GEMMs of M filters by N = batch*tiles by K channels
	r       int  // a Winograd convolution's filter size: 3 or 5
	o       int  // and its output tiles' size: 2 or 4 for r = 3, 2, 3 or 4 for r = 5
	s       int  // and its stride: K counts the s×s space-to-depth's channels
	imgs    int  // and the images it computes at a time: N = imgs*tiles
	G       int
	M, N, K int
	tiles   []tile // per impl
}

// tile is a GEMM's blocking for one implementation.
type tile struct {
	MR, NR          int
	mPanels, nTiles int
}

func (p *gemmPlan) tile(i int) tile { return p.tiles[i] }

// Generate writes the package for g.
func Generate(g *ir.Graph, opt Options) ([]File, error) {
	if g.Mem == nil {
		return nil, fmt.Errorf("codegen: graph %s has no memory plan (run the passes first)", g.Name)
	}
	if opt.Batch <= 0 {
		opt.Batch = 1
	}
	if opt.Package == "" {
		opt.Package = g.Name
	}
	switch opt.Precision {
	case "":
		opt.Precision = "fp32"
	case "fp32", "bf16":
	default:
		return nil, fmt.Errorf("codegen: unknown precision %q (want fp32 or bf16)", opt.Precision)
	}
	if err := spec.CheckPackageName(opt.Package); err != nil {
		return nil, fmt.Errorf("codegen: package name %v", err)
	}
	if int64(g.Mem.ArenaElems)*int64(opt.Batch) > ir.MaxElems || int64(g.Input().Shape.Elems())*int64(opt.Batch) > ir.MaxElems {
		return nil, fmt.Errorf("codegen: batch %d makes the activations larger than %d elements", opt.Batch, ir.MaxElems)
	}
	c := &gen{g: g, opt: opt, pkg: opt.Package, batch: opt.Batch, index: map[*ir.Node]int{}}
	if err := checkExports(g); err != nil {
		return nil, err
	}
	if err := checkPreprocess(g); err != nil {
		return nil, err
	}
	for i, n := range g.Nodes[1:] {
		c.index[n] = i + 1
		l := &layer{n: n}
		switch n.Op {
		case ir.OpConv:
			a := &n.Conv
			if depthwise(n) {
				break // no GEMM: rtDepthwise (depthwise.go)
			}
			if p := winoPlan(n, opt.Batch); p != nil && !opt.Direct {
				l.gemm = p
				break
			}
			l.gemm = &gemmPlan{G: a.Groups, M: a.Filters / a.Groups, N: n.Shape.H * n.Shape.W,
				K: n.Inputs[0].Shape.C / a.Groups * a.KH * a.KW}
		case ir.OpDense:
			l.gemm = &gemmPlan{dense: true, G: 1, M: c.batch, N: n.Dense.Units, K: n.Inputs[0].Shape.Elems()}
		}
		if p := l.gemm; p != nil {
			for _, im := range impls {
				t := im.conv
				if p.dense {
					t = im.dense
					t[0] = min(t[0], c.batch)
				}
				if p.wino {
					t = winoTile(im, p)
				}
				p.tiles = append(p.tiles, tile{MR: t[0], NR: t[1], mPanels: ceilDiv(p.M, t[0]), nTiles: ceilDiv(p.N, t[1])})
			}
		}
		c.layers = append(c.layers, l)
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
		{"layers.go", func() ([]byte, error) { return c.layersFile(false) }},
		{"layers_amd64.go", func() ([]byte, error) { return c.layersFile(true) }},
		{"weights.go", c.weightsFile},
		{"model_test.go", c.testFile},
	} {
		src, err := step.fn()
		if err := add(step.name, src, err); err != nil {
			return nil, err
		}
	}
	if c.hasEmitted() {
		for _, asm := range []bool{true, false} {
			name := map[bool]string{true: "dispatch_amd64.go", false: "dispatch_other.go"}[asm]
			src, err := c.dispatchFile(asm)
			if err := add(name, src, err); err != nil {
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
	asm, stubs, err := gemm.Generate(c.pkg, c.kernelConfigs())
	if err != nil {
		return nil, fmt.Errorf("codegen: kernels: %w", err)
	}
	files = append(files, File{"kernels_amd64.s", c.header(asm, "//")}, File{"kernels_amd64.go", c.header(stubs, "//")})
	if set := c.vecSet(); !set.Empty() {
		asm, stubs, err := vec.Generate(c.pkg, set)
		if err != nil {
			return nil, fmt.Errorf("codegen: vec kernels: %w", err)
		}
		files = append(files, File{"vec_amd64.s", c.header(asm, "//")}, File{"vec_amd64.go", c.header(stubs, "//")})
	}
	rt, err := runtimeFiles(c.pkg, c.headerLine(), c.kinds(), g.Preprocess != nil)
	if err != nil {
		return nil, err
	}
	files = append(files, rt...)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return files, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

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
