package neonkernels

import (
	"testing"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/asmgen/gemm/internal/kerneltest"
	"github.com/cnnc/cnnc/internal/golden"
)

// render returns the generated files of the package by name.
func render() (map[string][]byte, error) {
	asm, stubs, err := gemm.GenerateNEON("neonkernels", configs)
	if err != nil {
		return nil, err
	}
	table, err := kerneltest.Table("neonkernels", gemm.NEONAsmConstraint, configs)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		"kernels_arm64.s":             asm,
		"kernels_arm64.go":            stubs,
		"kernels_table_arm64_test.go": table,
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
