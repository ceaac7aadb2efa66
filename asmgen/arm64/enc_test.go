package arm64

import (
	"debug/elf"
	"encoding/binary"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/internal/testenv"
)

// forms lists every encoder of enc.go with a generator of instances: regs
// are three register numbers and i a lane, a shift or a value index.
var forms = []struct {
	name string
	gen  func(r [3]V, i int) Inst
}{
	{"FADD", func(r [3]V, _ int) Inst { return FADD(r[0], r[1], r[2]) }},
	{"FSUB", func(r [3]V, _ int) Inst { return FSUB(r[0], r[1], r[2]) }},
	{"FMUL", func(r [3]V, _ int) Inst { return FMUL(r[0], r[1], r[2]) }},
	{"FDIV", func(r [3]V, _ int) Inst { return FDIV(r[0], r[1], r[2]) }},
	{"FMAX", func(r [3]V, _ int) Inst { return FMAX(r[0], r[1], r[2]) }},
	{"FMIN", func(r [3]V, _ int) Inst { return FMIN(r[0], r[1], r[2]) }},
	{"FCMGT", func(r [3]V, _ int) Inst { return FCMGT(r[0], r[1], r[2]) }},
	{"FCMGE", func(r [3]V, _ int) Inst { return FCMGE(r[0], r[1], r[2]) }},
	{"FCMEQ", func(r [3]V, _ int) Inst { return FCMEQ(r[0], r[1], r[2]) }},
	{"FMLAElem", func(r [3]V, i int) Inst { return FMLAElem(r[0], r[1], r[2], i%4) }},
	{"FMLSElem", func(r [3]V, i int) Inst { return FMLSElem(r[0], r[1], r[2], i%4) }},
	{"FMULElem", func(r [3]V, i int) Inst { return FMULElem(r[0], r[1], r[2], i%4) }},
	{"FRINTN", func(r [3]V, _ int) Inst { return FRINTN(r[0], r[1]) }},
	{"FCVTZS", func(r [3]V, _ int) Inst { return FCVTZS(r[0], r[1]) }},
	{"SCVTF", func(r [3]V, _ int) Inst { return SCVTF(r[0], r[1]) }},
	{"FNEG", func(r [3]V, _ int) Inst { return FNEG(r[0], r[1]) }},
	{"FABS", func(r [3]V, _ int) Inst { return FABS(r[0], r[1]) }},
	{"FSQRT", func(r [3]V, _ int) Inst { return FSQRT(r[0], r[1]) }},
	{"FCMLTZero", func(r [3]V, _ int) Inst { return FCMLTZero(r[0], r[1]) }},
	{"SSHR", func(r [3]V, i int) Inst { return SSHR(r[0], r[1], []int{1, 2, 23, 31, 32}[i%5]) }},
	{"SHL", func(r [3]V, i int) Inst { return SHL(r[0], r[1], []int{0, 1, 16, 23, 31}[i%5]) }},
	{"SHLL16", func(r [3]V, _ int) Inst { return SHLL16(r[0], r[1]) }},
	{"FADD2D", func(r [3]V, _ int) Inst { return FADD2D(r[0], r[1], r[2]) }},
	{"FCVTL", func(r [3]V, _ int) Inst { return FCVTL(r[0], r[1]) }},
	{"FCVTL2", func(r [3]V, _ int) Inst { return FCVTL2(r[0], r[1]) }},
	{"FADDP2D", func(r [3]V, _ int) Inst { return FADDP2D(r[0], r[1]) }},
	{"FSUB2D", func(r [3]V, _ int) Inst { return FSUB2D(r[0], r[1], r[2]) }},
	{"FMUL2D", func(r [3]V, _ int) Inst { return FMUL2D(r[0], r[1], r[2]) }},
	{"FDIV2D", func(r [3]V, _ int) Inst { return FDIV2D(r[0], r[1], r[2]) }},
	{"FMAX2D", func(r [3]V, _ int) Inst { return FMAX2D(r[0], r[1], r[2]) }},
	{"FSQRT2D", func(r [3]V, _ int) Inst { return FSQRT2D(r[0], r[1]) }},
	{"FCVTN", func(r [3]V, _ int) Inst { return FCVTN(r[0], r[1]) }},
	{"FCVTN2", func(r [3]V, _ int) Inst { return FCVTN2(r[0], r[1]) }},
	{"DUP2D", func(r [3]V, _ int) Inst { return DUP2D(r[0], r[1]) }},
	{"FMOVImm", func(r [3]V, i int) Inst {
		return FMOVImm(r[0], []float32{1, 0.5, -1, 2, 0.125, 31, -0.1875, 0.25}[i%8])
	}},
}

// regSets are the register choices each form is assembled with: the
// extremes of every field and mixtures.
var regSets = [][3]V{{0, 0, 0}, {31, 31, 31}, {1, 2, 3}, {30, 15, 16}, {16, 17, 31}, {7, 24, 8}, {28, 29, 5}, {3, 31, 0}}

// TestEncodings assembles every instance of every form with GNU as and
// compares the bytes it writes with Inst.Bits.
func TestEncodings(t *testing.T) {
	as := testenv.LookPath(t, "aarch64-linux-gnu-as", "apt-get install binutils-aarch64-linux-gnu")
	var insts []Inst
	for _, f := range forms {
		for i, r := range regSets {
			insts = append(insts, f.gen(r, i))
		}
	}
	var src strings.Builder
	for _, in := range insts {
		src.WriteString("\t" + in.Asm + "\n")
	}
	dir := t.TempDir()
	s, o := filepath.Join(dir, "enc.s"), filepath.Join(dir, "enc.o")
	if err := os.WriteFile(s, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(as, "-o", o, s).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", as, err, out)
	}
	f, err := elf.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text, err := f.Section(".text").Data()
	if err != nil {
		t.Fatal(err)
	}
	if len(text) != 4*len(insts) {
		t.Fatalf(".text has %d bytes, want %d", len(text), 4*len(insts))
	}
	for i, in := range insts {
		if want := binary.LittleEndian.Uint32(text[4*i:]); in.Bits != want {
			t.Errorf("%s: encoded %#08x, GNU as %#08x", in.Asm, in.Bits, want)
		}
	}
}

// TestFormsCoverEncoders checks that forms names every exported function of
// enc.go that returns an Inst, so that TestEncodings checks them all.
func TestFormsCoverEncoders(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "enc.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var encoders []string
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || !fn.Name.IsExported() || fn.Type.Results == nil {
			continue
		}
		if id, ok := fn.Type.Results.List[0].Type.(*ast.Ident); ok && id.Name == "Inst" {
			encoders = append(encoders, fn.Name.Name)
		}
	}
	var tested []string
	for _, f := range forms {
		tested = append(tested, f.name)
	}
	slices.Sort(encoders)
	slices.Sort(tested)
	if !slices.Equal(encoders, tested) {
		t.Errorf("encoders of enc.go %v, forms test %v", encoders, tested)
	}
}

func TestFMOVImm(t *testing.T) {
	for _, f := range []float32{0, 0.1, 1.0 / 6, 32, 0.0625 * 1.0625, 1e10} {
		if FMOVImmOK(f) {
			t.Errorf("FMOVImmOK(%v) = true", f)
		}
	}
	for _, f := range []float32{1, -1, 0.5, 2, 0.125, 31, 1.9375, 16} {
		if !FMOVImmOK(f) {
			t.Errorf("FMOVImmOK(%v) = false", f)
		}
	}
}
