package cuda

import (
	"embed"
	"fmt"
	"slices"
	"strings"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/passes"
)

// Parallel is how a network is spread over several GPUs.
type Parallel uint8

const (
	// Model parallelism: every GPU runs part of every layer on the whole
	// batch, as in Krizhevsky et al. 2012 (see Partition).
	Model Parallel = iota
	// Data parallelism: every GPU runs the whole network on part of the
	// batch, with its own copy of the weights.
	Data
)

func (p Parallel) String() string {
	if p == Data {
		return "data"
	}
	return "model"
}

// ParseParallel parses "model" or "data".
func ParseParallel(s string) (Parallel, error) {
	switch s {
	case "model":
		return Model, nil
	case "data":
		return Data, nil
	}
	return 0, fmt.Errorf("parallelism %q: want model or data", s)
}

// MaxGPUs is the largest number of logical GPUs Generate accepts.
const MaxGPUs = 64

// Options control generation.
type Options struct {
	Package  string   // C prefix (cnnc_<Package>_) and Go package name; default the spec's name
	Batch    int      // images per infer call; default 1
	GPUs     int      // logical GPUs; default 1
	Parallel Parallel // how to use them
	Args     string   // the cnnc command line, recorded in the header
	// SpecSHA256 is the hash of the spec's bytes, recorded in the code.
	SpecSHA256 string
}

//go:embed rt/cnnc_kernels.cuh rt/cnnc_runtime.h
var runtimeFS embed.FS

// RuntimeFiles are the shape-independent files every output carries.
var RuntimeFiles = []string{"cnnc_kernels.cuh", "cnnc_runtime.h"}

// gen is one generation.
type gen struct {
	g     *ir.Graph
	opt   Options
	pkg   string
	place []Placement
	s     *schedule
}

// Generate writes the CUDA code for g, an optimised graph with a memory
// plan: <pkg>.h (the C API), <pkg>.cu (kernels instances and the host
// side), cnnc_kernels.cuh and cnnc_runtime.h (the shared runtime) and a
// cgo wrapper behind the cuda build tag: rt_model.go (gort's Go API),
// <pkg>_cuda.go (its shapes) and cnnc_go.h (the C names it calls). The
// files are sorted by name and their bytes depend only on g and opt.
func Generate(g *ir.Graph, opt Options) ([]codegen.File, error) {
	c, err := prepare(g, opt)
	if err != nil {
		return nil, err
	}
	var files []codegen.File
	for _, step := range []struct {
		name string
		fn   func() ([]byte, error)
	}{
		{c.pkg + ".h", c.headerFile},
		{c.pkg + ".cu", c.cuFile},
		{c.pkg + "_cuda.go", c.goFile},
		{"cnnc_go.h", func() ([]byte, error) { return goHeader(c.headerLine(), c.pkg), nil }},
	} {
		src, err := step.fn()
		if err != nil {
			return nil, fmt.Errorf("cuda: %s: %w", step.name, err)
		}
		files = append(files, codegen.File{Name: step.name, Data: src})
	}
	goFiles, err := c.goRuntimeFiles()
	if err != nil {
		return nil, err
	}
	files = append(files, goFiles...)
	for _, name := range RuntimeFiles {
		src, err := runtimeFS.ReadFile("rt/" + name)
		if err != nil {
			return nil, err
		}
		files = append(files, codegen.File{Name: name, Data: append([]byte(c.headerLine()+"\n\n"), src...)})
	}
	slices.SortFunc(files, func(a, b codegen.File) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(files); i++ {
		if files[i].Name == files[i-1].Name {
			return nil, fmt.Errorf("cuda: package name %q: its %s would overwrite cnnc's", c.pkg, files[i].Name)
		}
	}
	return files, nil
}

// Passes returns opt with what this back end needs of the pipeline: no
// viewSlices or gatherConcats, since its kernels read and write every
// tensor as contiguous images.
func Passes(opt passes.Options) passes.Options {
	opt.Disable = append(slices.Clip(opt.Disable), "viewSlices", "gatherConcats")
	return opt
}

// prepare validates the options and plans the code.
func prepare(g *ir.Graph, opt Options) (*gen, error) {
	for _, n := range g.Nodes {
		if n.Strided() {
			return nil, fmt.Errorf("cuda: %s is a window on another tensor's storage, which the CUDA kernels cannot read; compile the graph with cuda.Passes (no viewSlices or gatherConcats)", n.Name)
		}
	}
	var err error
	if opt.Batch, err = codegen.CheckBatch(g, opt.Batch); err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	if opt.GPUs <= 0 {
		opt.GPUs = 1
	}
	if opt.GPUs > MaxGPUs {
		return nil, fmt.Errorf("cuda: %d GPUs; at most %d", opt.GPUs, MaxGPUs)
	}
	if opt.Package, err = codegen.PackageName(g, opt.Package); err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	c := &gen{g: g, opt: opt, pkg: opt.Package}
	bd, b0 := make([]int, opt.GPUs), make([]int, opt.GPUs)
	if opt.Parallel == Data {
		next := 0
		for d := range bd {
			bd[d] = opt.Batch / opt.GPUs
			if d < opt.Batch%opt.GPUs {
				bd[d]++
			}
			b0[d] = next
			next += bd[d]
		}
		c.place = replicate(g, bd)
	} else {
		for d := range bd {
			bd[d] = opt.Batch
		}
		if c.place, err = Partition(g, opt.GPUs); err != nil {
			return nil, err
		}
	}
	if c.s, err = buildSchedule(g, opt, c.place, bd, b0); err != nil {
		return nil, err
	}
	return c, nil
}

// headerLine is the first line of every generated file.
func (c *gen) headerLine() string {
	args := c.opt.Args
	if args == "" {
		args = "compile -target cuda"
	}
	return "// Code generated by cnnc " + args + "; DO NOT EDIT."
}
