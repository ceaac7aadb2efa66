package codegen_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/internal/golden"
)

// TestPlanGolden compares the plan of every spec in spec/, and of the
// corners whose point is a planning decision, at batch 1 and at batch 32,
// with golden/NAME.plan: a change of algorithm, tile, task count or
// buffer size shows in review as a diff of that table. -update rewrites
// the files.
func TestPlanGolden(t *testing.T) {
	paths, err := filepath.Glob("../spec/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no specs: %v", err)
	}
	// Which adds and multiplies the convolutions take in; how columns of
	// tiles are cut into chunks.
	paths = append(paths, "../compiler/testdata/corners/residual.yaml", "../compiler/testdata/corners/squeeze_excite.yaml", "../compiler/testdata/corners/chunks.yaml")
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			g, err := compiler.Compile(path, passes.Options{Verify: true})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			for _, batch := range []int{1, 32} {
				p, err := codegen.NewPlan(g, codegen.Options{Batch: batch})
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Format(&b); err != nil {
					t.Fatal(err)
				}
				b.WriteString("\n")
			}
			golden.Check(t, filepath.Join("..", "golden", name+".plan"), b.Bytes())
		})
	}
}

// TestPlanBatch checks the batch rules every back end shares: 0 means 1,
// and a batch whose activations exceed ir.MaxElems is refused.
func TestPlanBatch(t *testing.T) {
	g, err := compiler.Compile("../spec/lenet5.yaml", passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := codegen.NewPlan(g, codegen.Options{})
	if err != nil || p.Batch != 1 {
		t.Errorf("batch 0: got %v, %v; want batch 1", p, err)
	}
	if _, err := codegen.NewPlan(g, codegen.Options{Batch: 1 << 30}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("batch 2^30: got %v, want the activations-too-large error", err)
	}
}
