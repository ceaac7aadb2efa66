package main

import (
	"crypto/sha256"
	"fmt"
	"os"

	"github.com/cnnc/cnnc/codegen/cuda"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/passes"
)

// compileCUDA checks the flags of cnnc compile -target cuda and runs it.
func compileCUDA(e *env, f *compileFlags) error {
	if f.embed != "" {
		return usagef("-embed is for -target go; the CUDA code loads its weights with %s_create", "cnnc_<pkg>")
	}
	if *f.precision != "fp32" {
		return usagef("-precision %s is for -target go; the CUDA code is float32", *f.precision)
	}
	if f.gpus < 1 || f.gpus > cuda.MaxGPUs {
		return usagef("-gpus must be in [1, %d]", cuda.MaxGPUs)
	}
	par, err := cuda.ParseParallel(f.parallel)
	if err != nil {
		return usagef("-parallel must be model or data")
	}
	return writeCUDA(e, f.spec, *f.out, cuda.Options{
		Package:  f.pkg,
		Batch:    *f.batch,
		GPUs:     f.gpus,
		Parallel: par,
		Args:     f.cmdline,
	})
}

// writeCUDA writes the CUDA code for the spec at specPath to dir, as
// compile writes a Go package (writeGenerated): all or nothing, leaving
// unchanged files alone, removing what an earlier cnnc run generated there
// and this one did not, and (outside any module) with a go.mod so that the
// cgo wrapper builds.
func writeCUDA(e *env, specPath, dir string, opt cuda.Options) error {
	src, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	opt.SpecSHA256 = fmt.Sprintf("%x", sha256.Sum256(src))
	g, err := compiler.Compile(specPath, cuda.Passes(passes.Options{}))
	if err != nil {
		return err
	}
	printWarnings(e, g)
	files, err := cuda.Generate(g, opt)
	if err != nil {
		return err
	}
	pkg := opt.Package
	if pkg == "" {
		pkg = g.Name
	}
	return writeGenerated(e, dir, pkg, files)
}
