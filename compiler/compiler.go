// Package compiler is cnnc's middle end. It runs the stages in order:
//
//	spec (YAML)  --spec.Parse-->  *spec.Spec
//	             --ir.Build---->  *ir.Graph (one node per layer)
//	             --passes.Run-->  optimised *ir.Graph (shapes, fusion, memory plan)
//
// and the back ends (codegen, the reference engine in compiler/ref) take it
// from there.
package compiler

import (
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/spec"
)

// Load parses the spec at path and builds its graph with every shape
// inferred and checked, but no other pass run: the network as written.
func Load(path string) (*ir.Graph, error) {
	return Compile(path, passes.Options{Stop: "inferShapes"})
}

// Compile parses the spec at path, builds its graph and runs the pass
// pipeline over it.
func Compile(path string, opt passes.Options) (*ir.Graph, error) {
	s, err := spec.ParseFile(path)
	if err != nil {
		return nil, err
	}
	return CompileSpec(s, opt)
}

// CompileSpec builds the graph of a parsed spec and runs the pipeline.
func CompileSpec(s *spec.Spec, opt passes.Options) (*ir.Graph, error) {
	g, err := spec.Build(s)
	if err != nil {
		return nil, err
	}
	if err := passes.Run(g, opt); err != nil {
		return nil, err
	}
	return g, nil
}
