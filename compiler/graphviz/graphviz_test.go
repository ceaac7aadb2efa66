package graphviz_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/graphviz"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/spec"
	"github.com/cnnc/cnnc/internal/golden"
	"github.com/cnnc/cnnc/internal/testenv"
)

// goldens are the drawings kept in golden/graph: the optimised graph of
// three specs (fusion and LRN pooling, folded batchnorm and residual adds,
// concat and rectangular, dilated, grouped kernels) and AlexNet as written.
var goldens = []struct {
	file, spec string
	optimised  bool
}{
	{"alexnet.dot", "alexnet", true},
	{"alexnet_written.dot", "alexnet", false},
	{"resnet_small.dot", "resnet_small", true},
	{"fire_small.dot", "fire_small", true},
}

func load(t *testing.T, path string, optimised bool) *ir.Graph {
	t.Helper()
	var g *ir.Graph
	var err error
	if optimised {
		g, err = compiler.Compile(path, passes.Options{Verify: true})
	} else {
		g, err = compiler.Load(path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGolden compares DOT's output with golden/graph; go test
// ./compiler/graphviz -update rewrites the files after an intended change.
func TestGolden(t *testing.T) {
	for _, tt := range goldens {
		t.Run(tt.file, func(t *testing.T) {
			path := "../../spec/" + tt.spec + ".yaml"
			got := graphviz.DOT(load(t, path, tt.optimised))
			if again := graphviz.DOT(load(t, path, tt.optimised)); !bytes.Equal(got, again) {
				t.Fatal("two drawings of the same graph differ")
			}
			golden.Check(t, filepath.Join("../../golden/graph", tt.file), got)
		})
	}
}

// parsed is a DOT file read back with a parser for the subset DOT writes.
type parsed struct {
	labels  map[string]string      // node ID -> label, unescaped
	attrs   map[string]string      // node ID -> its attribute list, raw
	edges   map[[2]string][]string // labels of the edges from -> to (concat may read a layer twice)
	nedges  int
	caption string
}

var (
	nodeRE  = regexp.MustCompile(`^\t(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$`)
	edgeRE  = regexp.MustCompile(`^\t(\w+) -> (\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$`)
	graphRE = regexp.MustCompile(`(?s)label="((?:[^"\\]|\\.)*)"\];`)
)

func unescape(s string) string {
	return strings.NewReplacer(`\n`, "\n", `\"`, `"`, `\\`, `\`).Replace(s)
}

func parse(t *testing.T, src []byte) parsed {
	t.Helper()
	p := parsed{labels: map[string]string{}, attrs: map[string]string{}, edges: map[[2]string][]string{}}
	text := string(src)
	if !strings.Contains(text, "digraph ") || !strings.HasSuffix(text, "}\n") {
		t.Fatalf("not a digraph:\n%s", text)
	}
	start := strings.Index(text, "\tgraph [")
	m := graphRE.FindStringSubmatch(text[start:])
	if m == nil {
		t.Fatal("no caption")
	}
	p.caption = unescape(m[1])
	for _, line := range strings.Split(text, "\n") {
		if m := edgeRE.FindStringSubmatch(line); m != nil {
			k := [2]string{m[1], m[2]}
			p.edges[k] = append(p.edges[k], strings.TrimSpace(unescape(m[3])))
			p.nedges++
		} else if m := nodeRE.FindStringSubmatch(line); m != nil {
			p.labels[m[1]] = unescape(m[2])
			p.attrs[m[1]] = m[3]
		}
	}
	return p
}

var costRE = regexp.MustCompile(`^([\d,]+) params · ([\d,]+) MACs$`)

func number(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// commas writes n in decimal with thousands separated by commas.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestStructure reads every spec's drawing back and checks it against the
// graph: one box per node, one edge per operand labelled with the
// operand's shape, the fused layers named, the costs, and totals in the
// caption that agree with cnnc shapes' table (different code).
func TestStructure(t *testing.T) {
	specs, _ := filepath.Glob("../../spec/*.yaml")
	corners, _ := filepath.Glob("../testdata/corners/*.yaml")
	for _, path := range append(specs, corners...) {
		for _, optimised := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/optimised=%v", filepath.Base(path), optimised), func(t *testing.T) {
				g := load(t, path, optimised)
				p := parse(t, graphviz.DOT(g))
				if len(p.labels) != len(g.Nodes)+1 {
					t.Errorf("%d boxes for %d nodes and the output", len(p.labels), len(g.Nodes))
				}
				var params, macs int64
				nedges := 1
				seen := map[[2]string]int{}
				for _, n := range g.Nodes {
					id := "L_" + n.Name
					if n.Op == ir.OpInput {
						id = "input"
					}
					label, ok := p.labels[id]
					if !ok {
						t.Fatalf("no box for %s", n.Name)
					}
					lines := strings.Split(label, "\n")
					if n.Op != ir.OpInput && !strings.HasPrefix(lines[0], n.Name+" · "+n.Op.String()) && n.PreLRN == nil {
						t.Errorf("%s: label %q does not start with its name and op", n.Name, lines[0])
					}
					if n.Act.Kind != ir.ActNone && !strings.HasSuffix(lines[0], " + "+n.Act.String()) {
						t.Errorf("%s: label %q does not end with its fused activation %s", n.Name, lines[0], n.Act)
					}
					if n.PreLRN != nil && !strings.Contains(lines[0], fmt.Sprintf("lrn %d (alpha %g, beta %g, k %g) + maxpool", n.PreLRN.Size, n.PreLRN.Alpha, n.PreLRN.Beta, n.PreLRN.K)) {
						t.Errorf("%s: label %q does not show the LRN before the pooling", n.Name, lines[0])
					}
					if (n.FoldBN != nil) != strings.Contains(lines[0], "batchnorm (folded") {
						t.Errorf("%s: label %q: folded batchnorm shown wrongly", n.Name, lines[0])
					}
					grouped := n.Op == ir.OpConv && n.Conv.Groups > 1
					if grouped != strings.Contains(p.attrs[id], "peripheries=2") || grouped != strings.Contains(lines[0], " groups") {
						t.Errorf("%s: grouped convolution not marked, or marked wrongly: %q %s", n.Name, lines[0], p.attrs[id])
					}
					if len(n.Fused) > 0 && lines[len(lines)-1] != "fused: "+strings.Join(n.Fused, ", ") {
						t.Errorf("%s: label does not name the fused layers %v:\n%s", n.Name, n.Fused, label)
					}
					for _, l := range lines[1:] {
						if m := costRE.FindStringSubmatch(l); m != nil {
							params += number(t, m[1])
							macs += number(t, m[2])
						}
					}
					for _, in := range n.Inputs {
						from := "L_" + in.Name
						if in.Op == ir.OpInput {
							from = "input"
						}
						nedges++
						k := [2]string{from, id}
						if i := seen[k]; i >= len(p.edges[k]) || p.edges[k][i] != in.Shape.String() {
							t.Errorf("edge %s -> %s: labels %q, want the shape %s", in.Name, n.Name, p.edges[k], in.Shape)
						}
						seen[k]++
					}
				}
				if p.nedges != nedges {
					t.Errorf("%d edges, want %d", p.nedges, nedges)
				}
				if got := p.edges[[2]string{"L_" + g.Output.Name, "output"}]; len(got) != 1 || got[0] != g.Output.Shape.String() {
					t.Errorf("output edge %q, want %s", got, g.Output.Shape)
				}
				// The totals, from the shape table of the graph as written.
				written, err := compiler.Load(path)
				if err != nil {
					t.Fatal(err)
				}
				table := compiler.ShapeTable(written, nil)
				total := regexp.MustCompile(`(?m)^total\s+([\d,]+)\s+([\d,]+)`).FindStringSubmatch(table)
				if total == nil {
					t.Fatalf("no total in\n%s", table)
				}
				wantMACs := total[2]
				if dead := strings.Contains(p.caption, "dashed"); !dead {
					// Every layer is live, so the boxes add up to the table's
					// totals; after the passes, to no more multiply-adds
					// (poolBeforeConv computes fewer), and the caption says
					// the boxes' sum.
					switch {
					case params != number(t, total[1]) || macs > number(t, total[2]) || !optimised && macs != number(t, total[2]):
						t.Errorf("boxes add up to %d params, %d MACs; cnnc shapes says %s, %s", params, macs, total[1], total[2])
					case optimised:
						wantMACs = commas(macs)
					}
				}
				want := fmt.Sprintf("%s parameters", total[1])
				if !strings.Contains(p.caption, want) || !strings.Contains(p.caption, wantMACs+" multiply-adds") {
					t.Errorf("caption %q lacks the totals %s, %s", p.caption, total[1], wantMACs)
				}
			})
		}
	}
}

// TestDeadLayers draws a spec with a layer that reaches nothing: as
// written it is dashed and left out of the totals; the passes remove it.
func TestDeadLayers(t *testing.T) {
	src := "name: m\ninput: [1, 4, 4]\nlayers:\n" +
		"  - {name: side, op: conv, filters: 2, kernel: 1}\n" +
		"  - {name: main, op: conv, filters: 3, kernel: 3, input: input}\n"
	s, err := spec.Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	written, err := compiler.CompileSpec(s, passes.Options{Stop: "inferShapes"})
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, graphviz.DOT(written))
	if !strings.Contains(p.attrs["L_side"], "dashed") || strings.Contains(p.attrs["L_main"], "dashed") {
		t.Errorf("only side should be dashed: side %s, main %s", p.attrs["L_side"], p.attrs["L_main"])
	}
	// main: 3*1*3*3 weights + 3 biases = 30; side's 4 are not counted.
	if !strings.Contains(p.caption, "1 layers") || !strings.Contains(p.caption, "\n30 parameters") || !strings.Contains(p.caption, "dashed: output never used") {
		t.Errorf("caption:\n%s", p.caption)
	}
	s, _ = spec.Parse("m.yaml", []byte(src))
	opt, err := compiler.CompileSpec(s, passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p = parse(t, graphviz.DOT(opt))
	if _, ok := p.labels["L_side"]; ok || strings.Contains(p.caption, "dashed") {
		t.Errorf("the passes removed side, but it is drawn:\n%s", graphviz.DOT(opt))
	}
}

// TestGraphvizParses hands every drawing to Graphviz's dot and reads its
// plain-text layout back: every box and edge we wrote must be there. CI
// installs Graphviz (.ci/run); elsewhere the test skips without it.
func TestGraphvizParses(t *testing.T) {
	dot := testenv.LookPath(t, "dot", "apt-get install graphviz")
	specs, _ := filepath.Glob("../../spec/*.yaml")
	for _, path := range specs {
		for _, optimised := range []bool{true, false} {
			g := load(t, path, optimised)
			src := graphviz.DOT(g)
			cmd := exec.Command(dot, "-Tplain")
			cmd.Stdin = bytes.NewReader(src)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("%s: dot: %v\n%s", path, err, stderr.String())
			}
			nodes, edges := 0, 0
			for _, line := range strings.Split(string(out), "\n") {
				switch {
				case strings.HasPrefix(line, "node "):
					nodes++
				case strings.HasPrefix(line, "edge "):
					edges++
				}
			}
			wantEdges := 1
			for _, n := range g.Nodes {
				wantEdges += len(n.Inputs)
			}
			if nodes != len(g.Nodes)+1 || edges != wantEdges {
				t.Errorf("%s (optimised %v): dot laid out %d nodes and %d edges, want %d and %d", path, optimised, nodes, edges, len(g.Nodes)+1, wantEdges)
			}
		}
	}
}
