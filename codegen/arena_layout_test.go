package codegen_test

import (
	"path/filepath"
	"testing"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/passes"
)

// TestArenaLayout checks Plan.layoutArena on the shipped specs, the
// corners and the whole zoo, at batches 1, 3 and 8: run as Model.run runs
// the steps (the image-major prefix image by image, then the rest), and
// with the prefix's passes side by side in any order as the workers'
// lanes run them, no two storages that are live at once, nor two images
// of one, may share an element of the arena, and every one must lie
// inside it.
func TestArenaLayout(t *testing.T) {
	paths, err := filepath.Glob("../spec/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no specs: %v", err)
	}
	corners, err := filepath.Glob("../compiler/testdata/corners/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, corners...)
	dir := t.TempDir()
	// A network whose first layer, a view of the input, runs no code.
	paths = append(paths, writeSpec(t, dir, "flat_first", "name: flat_first\ninput: [3, 4, 4]\nlayers:\n  - {name: fl, op: flatten}\n  - {name: d, op: dense, units: 5}\n"))
	for _, z := range zoo() {
		paths = append(paths, writeSpec(t, dir, z.name, z.spec()))
	}
	prefixes := 0
	for _, path := range paths {
		g, err := compiler.Compile(path, passes.Options{Verify: true})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, batch := range []int{1, 3, 8} {
			p, err := codegen.NewPlan(g, codegen.Options{Batch: batch})
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if p.PrefixLen() > 0 {
				prefixes++
			}
			if err := codegen.CheckArena(p); err != nil {
				t.Errorf("%s at batch %d: %v", filepath.Base(path), batch, err)
			}
		}
	}
	if prefixes == 0 {
		t.Error("no plan has an image-major prefix")
	}
}
