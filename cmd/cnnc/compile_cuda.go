package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cnnc/cnnc/codegen"
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
// compile writes a Go package: atomically, leaving unchanged files alone,
// removing what an earlier cnnc run generated there and this one did not,
// and (outside any module) with a go.mod so that the cgo wrapper builds.
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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, f := range files {
		keep[f.Name] = true
		if err := writeIfChanged(filepath.Join(dir, f.Name), f.Data); err != nil {
			return err
		}
	}
	if root := moduleRoot(dir); root == "" || root == dir {
		abs, _ := filepath.Abs(dir)
		if root == "" || generatedBy(filepath.Join(dir, "go.mod")) {
			for _, f := range codegen.ModuleFiles(filepath.Base(abs)) {
				keep[f.Name] = true
				if err := writeIfChanged(filepath.Join(dir, f.Name), f.Data); err != nil {
					return err
				}
			}
		}
	}
	return removeStale(dir, keep)
}
