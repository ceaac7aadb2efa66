package kernels

import (
	"testing"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/asmgen/gemm/internal/kerneltest"
	"github.com/cnnc/cnnc/internal/golden"
)

// render returns the generated files of the package by name.
func render() (map[string][]byte, error) {
	asm, stubs, err := gemm.Generate("kernels", configs)
	if err != nil {
		return nil, err
	}
	fallback, err := gemm.GenerateFallback("kernels", configs)
	if err != nil {
		return nil, err
	}
	table, err := kerneltest.Table("kernels", "", configs)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		"kernels_amd64.s":       asm,
		"kernels_amd64.go":      stubs,
		"kernels_other.go":      fallback,
		"kernels_table_test.go": table,
	}, nil
}

// TestGenerated checks that the generated files are up to date; with
// -update it rewrites them.
func TestGenerated(t *testing.T) {
	files, err := render()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		golden.Check(t, name, want)
	}
}
