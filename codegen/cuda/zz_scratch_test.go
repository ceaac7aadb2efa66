package cuda_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cnnc/cnnc/codegen/cuda"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/passes"
)

func TestGen(t *testing.T) {
	spec := os.Getenv("SPEC")
	gpus, _ := strconv.Atoi(os.Getenv("GPUS"))
	batch, _ := strconv.Atoi(os.Getenv("BATCH"))
	par, _ := cuda.ParseParallel(os.Getenv("PAR"))
	out := os.Getenv("OUT")
	g, err := compiler.Compile(spec, passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := cuda.Generate(g, cuda.Options{GPUs: gpus, Batch: batch, Parallel: par})
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(out, 0o755)
	for _, f := range files {
		os.WriteFile(filepath.Join(out, f.Name), f.Data, 0o644)
	}
}
