package compiler_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/spec"
)

// TestOpCoverage walks every op of ir's op table through the pieces that
// must exist for it, so that a missing one fails here rather than
// surprising a user:
//
//   - the spec decoder accepts the op and every field its row lists;
//   - docs/spec.md's table of ops has a row for it, and its formula table
//     or section names it;
//   - some spec in spec/ or compiler/testdata/corners uses it, after the
//     passes (not fused away), and as written. Those specs are what the
//     other tests run through every back end: the reference engine against
//     PyTorch (TestPyTorchParity), the passes (TestPassesPreserveMeaning),
//     the generated Go on every implementation (codegen's TestEndToEnd),
//     and CUDA's emulation (codegen/cuda).
//
// The importers' coverage is compiler/onnx's TestImportedOps.
func TestOpCoverage(t *testing.T) {
	doc, err := os.ReadFile("../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../spec/*.yaml")
	corners, _ := filepath.Glob("testdata/corners/*.yaml")
	files = append(files, corners...)
	written := map[ir.Op][]string{}
	compiled := map[ir.Op][]string{}
	for _, path := range files {
		g, err := compiler.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range g.Nodes {
			written[n.Op] = append(written[n.Op], filepath.Base(path))
		}
		g, err = compiler.Compile(path, passes.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range g.Nodes {
			compiled[n.Op] = append(compiled[n.Op], filepath.Base(path))
			if n.Act.Kind != ir.ActNone {
				compiled[actOp(n.Act)] = append(compiled[actOp(n.Act)], filepath.Base(path))
			}
		}
	}
	for _, op := range ir.AllOps() {
		info := op.Info()
		t.Run(info.Name, func(t *testing.T) {
			// The decoder: the op and each of its fields.
			var fields []string
			for _, f := range info.Fields {
				fields = append(fields, fmt.Sprintf("%s: %s", f.Name, exampleValue(f.Name)))
			}
			src := fmt.Sprintf("name: m\ninput: [2, 4, 4]\nlayers:\n  - {name: a, op: conv, filters: 2, kernel: 1}\n  - {name: b, op: conv, filters: 2, kernel: 1, input: a}\n  - {name: x, op: %s", info.Name)
			switch info.Arity {
			case ir.Variadic, ir.Binary:
				src += ", inputs: [a, b]"
			default:
				src += ", input: a"
			}
			if len(fields) > 0 {
				src += ", " + strings.Join(fields, ", ")
			}
			src += "}\n"
			if _, err := spec.Parse("cover.yaml", []byte(src)); err != nil {
				t.Errorf("the decoder refuses %s with every field set:\n%s\n%v", info.Name, src, err)
			}

			// The docs.
			if !regexp.MustCompile("(?m)^\\| [^|]*`" + regexp.QuoteMeta(info.Name) + "`").Match(doc) {
				t.Errorf("docs/spec.md has no table row for %s", info.Name)
			}
			for _, f := range info.Fields {
				if !strings.Contains(string(doc), "`"+f.Name+"`") {
					t.Errorf("docs/spec.md never mentions %s's field `%s`", info.Name, f.Name)
				}
			}

			// The specs that carry it through every back end.
			if op == ir.OpDropout {
				// removeDropout takes every dropout out: no back end sees one.
				if len(written[op]) == 0 {
					t.Errorf("no spec uses %s", info.Name)
				}
				return
			}
			if len(compiled[op]) == 0 {
				t.Errorf("no spec in spec/ or compiler/testdata/corners has a %s after the passes, so no back end is tested on it (written in: %v)", info.Name, written[op])
			}
			if info.Act != ir.ActNone && len(written[op]) == 0 {
				t.Errorf("no spec writes a %s layer", info.Name)
			}
		})
	}
}

// actOp is the op whose activation a is.
func actOp(a ir.Activation) ir.Op {
	for _, op := range ir.AllOps() {
		if op.Info().Act == a.Kind && (op != ir.OpReLU6 || a.Alpha == 0 && a.Beta == 6) {
			return op
		}
	}
	if a.Kind == ir.ActGELUTanh {
		return ir.OpGELU
	}
	return ir.OpInput
}

// exampleValue is a valid value for each field of the language.
func exampleValue(field string) string {
	switch field {
	case "kernel", "size", "filters", "units", "groups":
		return "1"
	case "stride", "dilation", "start":
		return "1"
	case "end":
		return "2"
	case "padding":
		return "0"
	case "bias", "ceil", "count_pad", "shared":
		return "true"
	case "approximate":
		return "tanh"
	case "rate":
		return "0.25"
	case "min":
		return "-1"
	case "max":
		return "1"
	}
	return "0.5" // alpha, beta, k, slope, eps
}
