package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strings"

	"github.com/cnnc/cnnc/codegen/cuda"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/passes"
)

// compileCUDAFlags checks the flags of cnnc compile -target cuda and runs it.
func compileCUDAFlags(e *env, specPath, dir, pkg string, batch, gpus int, parallel, embed, precision string) error {
	if embed != "" {
		return usagef("-embed is for -target go; the CUDA code loads its weights with %s_create", "cnnc_<pkg>")
	}
	if precision != "fp32" {
		return usagef("-precision %s is for -target go; the CUDA code is float32", precision)
	}
	if gpus < 1 || gpus > cuda.MaxGPUs {
		return usagef("-gpus must be in [1, %d]", cuda.MaxGPUs)
	}
	par, err := cuda.ParseParallel(parallel)
	if err != nil {
		return usagef("-parallel must be model or data")
	}
	return compileCUDA(e, specPath, dir, cuda.Options{
		Package:  pkg,
		Batch:    batch,
		GPUs:     gpus,
		Parallel: par,
		Args:     "compile " + strings.Join(os.Args[2:], " "),
	})
}

// compileCUDA writes the CUDA code for the spec at specPath to dir, as
// compile writes a Go package (writeGenerated): all or nothing, leaving
// unchanged files alone, removing what an earlier cnnc run generated there
// and this one did not, and (outside any module) with a go.mod so that the
// cgo wrapper builds.
func compileCUDA(e *env, specPath, dir string, opt cuda.Options) error {
	src, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	opt.SpecSHA256 = fmt.Sprintf("%x", sha256.Sum256(src))
	g, err := compiler.Compile(specPath, passes.Options{})
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
