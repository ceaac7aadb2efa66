// Package passes holds cnnc's optimisation pipeline: a table of named passes
// run in order over an ir.Graph. Analyses compute facts (shapes, the memory
// plan); transforms rewrite the graph (dropout removal, batchnorm folding,
// fusion). With Options.Verify set, the graph is checked after every pass.
package passes

import (
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/cnnc/cnnc/compiler/ir"
)

// Kind says whether a pass computes facts or changes the graph.
type Kind uint8

const (
	Analysis Kind = iota
	Transform
)

func (k Kind) String() string {
	if k == Analysis {
		return "analysis"
	}
	return "transform"
}

type pass struct {
	name     string
	fn       func(*ir.Graph) error
	kind     Kind
	required bool // cannot be disabled: later stages depend on its facts
	doc      string
}

// passes is the pipeline, in order. Its order is checked against passOrder at init.
var passes = [...]pass{
	{name: "inferShapes", fn: inferShapes, kind: Analysis, required: true,
		doc: "resolve \"same\" padding and infer every node's shape, rejecting shapes that do not work"},
	{name: "removeDeadLayers", fn: removeDeadLayers, kind: Transform,
		doc: "drop layers whose output never reaches the network output (with a warning)"},
	{name: "removeDropout", fn: removeDropout, kind: Transform,
		doc: "drop dropout layers: they are the identity at inference"},
	{name: "foldBatchNorm", fn: foldBatchNorm, kind: Transform,
		doc: "fold a batchnorm into the conv or dense layer before it (weights are folded at load)"},
	{name: "fuseActivations", fn: fuseActivations, kind: Transform,
		doc: "fuse an activation into its producer's epilogue, or sink it below a max pooling"},
	{name: "poolBeforeConv", fn: poolBeforeConv, kind: Transform,
		doc: "average-pool before a 1x1 conv that only the pooling reads: they commute, and the conv runs on the pooled map"},
	{name: "fuseLRNPool", fn: fuseLRNPool, kind: Transform,
		doc: "compute an LRN inside the max pooling that reads it, so its output is never stored"},
	{name: "viewSlices", fn: viewSlices, kind: Transform,
		doc: "compute channel slices as windows on their input's storage, not copies (codegen/cuda disables it)"},
	{name: "gatherConcats", fn: gatherConcats, kind: Transform,
		doc: "compute a concat's inputs into windows of its storage, so that it copies nothing (codegen/cuda disables it)"},
	{name: "planMemory", fn: planMemory, kind: Analysis, required: true,
		doc: "assign every activation an offset in one arena, reusing memory of dead tensors"},
}

// passOrder lists constraints: the first pass must run before the second.
var passOrder = [...][2]string{
	{"inferShapes", "removeDeadLayers"},
	{"inferShapes", "foldBatchNorm"},
	{"removeDropout", "fuseActivations"},
	{"foldBatchNorm", "fuseActivations"},
	{"fuseActivations", "fuseLRNPool"},
	{"foldBatchNorm", "poolBeforeConv"},
	{"fuseActivations", "poolBeforeConv"},
	{"poolBeforeConv", "viewSlices"},
	{"poolBeforeConv", "gatherConcats"},
	{"poolBeforeConv", "planMemory"},
	{"fuseActivations", "planMemory"},
	{"fuseLRNPool", "planMemory"},
	{"removeDropout", "planMemory"},
	{"fuseActivations", "viewSlices"},
	{"viewSlices", "planMemory"},
	{"fuseActivations", "gatherConcats"},
	{"removeDropout", "gatherConcats"},
	{"gatherConcats", "planMemory"},
}

func index(name string) int {
	return slices.IndexFunc(passes[:], func(p pass) bool { return p.name == name })
}

func init() {
	for _, c := range passOrder {
		i, j := index(c[0]), index(c[1])
		if i < 0 || j < 0 {
			panic(fmt.Sprintf("passes: order constraint names unknown pass: %v", c))
		}
		if i >= j {
			panic(fmt.Sprintf("passes: %s must run before %s", c[0], c[1]))
		}
	}
}

// Info describes one pass, for help text.
type Info struct {
	Name     string
	Kind     Kind
	Required bool
	Doc      string
}

// List describes the pipeline in order.
func List() []Info {
	var out []Info
	for _, p := range passes {
		out = append(out, Info{p.name, p.kind, p.required, p.doc})
	}
	return out
}

// Options control a run of the pipeline.
type Options struct {
	Disable []string // passes to skip; required passes cannot be skipped
	Stop    string   // stop after this pass (empty: run all)
	Verify  bool     // check the graph's invariants after every pass
	// After, if set, is called after each pass that ran.
	After func(pass string, g *ir.Graph)
}

// Run runs the pipeline over g. A pass that panics is reported as an error
// naming it, so a compiler bug surfaces as a message and not a crash.
func Run(g *ir.Graph, opt Options) error {
	for _, name := range opt.Disable {
		i := index(name)
		if i < 0 {
			return fmt.Errorf("unknown pass %q", name)
		}
		if passes[i].required {
			return fmt.Errorf("pass %s is required and cannot be disabled", name)
		}
	}
	if opt.Stop != "" && index(opt.Stop) < 0 {
		return fmt.Errorf("unknown pass %q", opt.Stop)
	}
	for _, p := range passes {
		if slices.Contains(opt.Disable, p.name) {
			continue
		}
		if err := runOne(p, g); err != nil {
			return err
		}
		if opt.Verify {
			if err := Verify(g); err != nil {
				return fmt.Errorf("internal error: graph invalid after pass %s: %v", p.name, err)
			}
		}
		if opt.After != nil {
			opt.After(p.name, g)
		}
		if p.name == opt.Stop {
			break
		}
	}
	return nil
}

func runOne(p pass, g *ir.Graph) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: pass %s panicked: %v\n%s", p.name, r, debug.Stack())
		}
	}()
	return p.fn(g)
}
