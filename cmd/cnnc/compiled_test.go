package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/passes"
)

// TestBuildCompiledOptions checks that the options 'cnnc bench -winograd'
// and -precision set reach the package that run and bench build: vgg_small
// has 3x3 convolutions of 16+ channels, so Winograd's runtime is there by
// default and absent with Direct.
func TestBuildCompiledOptions(t *testing.T) {
	g, err := compiler.Compile("../../spec/vgg_small.yaml", passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: io.Discard, stderr: io.Discard}
	for _, direct := range []bool{false, true} {
		driver, done, err := buildDriver(e, g, codegen.Options{Batch: 1, Direct: direct}, benchDriver)
		if err != nil {
			t.Fatal(err)
		}
		defer done()
		_, err = os.Stat(filepath.Join(filepath.Dir(driver), "model", "rt_wino.go"))
		if hasWino := err == nil; hasWino == direct {
			t.Errorf("Direct %v: the built package has rt_wino.go: %v", direct, hasWino)
		}
	}
}
