package codegen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/passes"
)

// TestResidualStorage checks the storage rules of residualAdds on a block
// whose fusion the memory plan allows, then with the sum's storage moved
// onto the conv's input (where the plan may put it once that input dies at
// the conv) and onto part of it: the conv would write the sum over what it
// still reads, so the add must stay apart.
func TestResidualStorage(t *testing.T) {
	spec := `name: res
input: [8, 6, 6]
layers:
  - {name: a, op: conv, filters: 8, kernel: 1}
  - {name: b, op: conv, filters: 8, kernel: 1}
  - {name: c, op: conv, filters: 8, kernel: 1, input: b}
  - {name: s, op: add, inputs: [c, a]}
  - {name: out, op: concat, inputs: [s, a]}
`
	path := filepath.Join(t.TempDir(), "res.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := compiler.Compile(path, passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]int{}
	for i, n := range g.Nodes {
		nodes[n.Name] = i
	}
	b, s := g.Nodes[nodes["b"]], g.Nodes[nodes["s"]]
	fused := func() bool {
		p := &Plan{Batch: 1, g: g}
		_, ok := p.residualAdds()[s]
		return ok
	}
	if !fused() {
		t.Fatalf("the add is not fused as planned (b at %d, s at %d)", b.Buf, s.Buf)
	}
	buf := s.Buf
	for _, at := range []int{b.Buf, b.Buf + b.ImgLen/2, b.Buf - s.ImgLen + 1} {
		if at < 0 {
			continue
		}
		s.Buf = at
		if fused() {
			t.Errorf("the sum at %d overlaps the conv's input at [%d, %d), and the add is fused", at, b.Buf, b.Buf+b.ImgLen)
		}
	}
	s.Buf = b.Buf + b.ImgLen
	if !fused() {
		t.Errorf("the sum right after the conv's input is not fused")
	}
	s.Buf = buf
}

// TestChunksCorner checks that corners/chunks.yaml reaches what its
// description says at batch 1, on every implementation: chunked columns,
// with B read in place or staged as listed (so that the end-to-end tests
// run every bSource with chunks), and the residual copied per chunk.
func TestChunksCorner(t *testing.T) {
	g, err := compiler.Compile("../compiler/testdata/corners/chunks.yaml", passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(g, Options{Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bSource{"in_pw": bStaged, "s2": bStaged, "pw": bInPlace, "dil": bStaged, "gpw": bInPlace, "ds": bStaged}
	seen := map[string]bool{}
	for _, l := range p.layers {
		w, ok := want[l.n.Name]
		if !ok {
			continue
		}
		seen[l.n.Name] = true
		for i, im := range impls {
			tl := l.gemm.tile(i)
			if got := bSourceOf(l.gemm, tl, 1, im); got != w && im.asm {
				t.Errorf("%s, %s: B source %d, want %d", l.n.Name, im.name, got, w)
			}
			if _, chunks := gemmChunk(l.gemm, tl, 1, im); chunks < 2 && (im.asm || w == bStaged) {
				t.Errorf("%s, %s: %d chunks, want several", l.n.Name, im.name, chunks)
			}
		}
		if l.n.Name == "pw" && (l.sum == nil || l.inPlace()) {
			t.Errorf("pw: the add is not fused with its residual copied (sum %v)", l.sum)
		}
		if l.n.Name == "in_pw" && !l.gemm.raggedPacked {
			t.Errorf("in_pw reads the caller's input, but its ragged column is not packed")
		}
	}
	if len(seen) != len(want) {
		t.Errorf("layers found: %v, want %d", seen, len(want))
	}
}
