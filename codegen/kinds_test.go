package codegen

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/asmgen/vec"
	wg "github.com/cnnc/cnnc/compiler/winograd"
)

// TestKernelKinds checks kernelKinds against what it names: every kind of
// vec.Kernels has one, in order, and every kind's rt files and chooser
// exist in codegen/rt (but for choosers that emit writes).
func TestKernelKinds(t *testing.T) {
	var kinds []*vec.Kernel
	for _, k := range kernelKinds {
		if k.vec != nil {
			kinds = append(kinds, k.vec)
		}
	}
	if !slices.Equal(kinds, vec.Kernels) {
		t.Errorf("kernelKinds' vec kernels are not vec.Kernels, in order")
	}
	decls := rtDecls(t)
	for _, k := range kernelKinds {
		for _, name := range k.rt {
			if _, err := runtimeFS.ReadFile(path.Join("rt", name)); err != nil {
				t.Errorf("kind %s: %v", k.field, err)
			}
		}
		if !decls[strings.TrimPrefix(k.typ, "*")] {
			t.Errorf("kind %s: codegen/rt declares no type %s", k.field, k.typ)
		}
		if k.emit == nil && !decls[k.choose] {
			t.Errorf("kind %s: codegen/rt declares no %s", k.field, k.choose)
		}
	}
}

// TestEveryArchHasEveryKind checks that every GOARCH with assembly has
// routines for every kind and Winograd form (its vec generator takes them
// all), so that no layer of an assembly implementation falls back to Go
// for want of a kernel, and that each kind's rt files include its
// wrappers for the GOARCH.
func TestEveryArchHasEveryKind(t *testing.T) {
	for _, a := range arches {
		if _, _, err := a.vec("p", vec.Set{Kernels: vec.Kernels, Forms: wg.Forms}); err != nil {
			t.Errorf("%s: %v", a.goarch, err)
		}
		for _, k := range kernelKinds {
			if k.vec != nil && !slices.ContainsFunc(k.rt, func(name string) bool { return strings.HasSuffix(name, "_"+a.goarch+".go") }) {
				t.Errorf("kind %s: no rt file for %s among %v", k.field, a.goarch, k.rt)
			}
		}
	}
}

// TestAPINames checks that apiNames, the names a layer's shape constants
// must not take, holds every exported name of codegen/rt's copied files.
func TestAPINames(t *testing.T) {
	for name := range rtDecls(t) {
		if token.IsExported(name) && !slices.Contains(apiNames, name) {
			t.Errorf("codegen/rt exports %s, which apiNames lacks", name)
		}
	}
}

// TestImplNames checks codegen/rt's implNames against impls.
func TestImplNames(t *testing.T) {
	src, err := runtimeFS.ReadFile("rt/model.go")
	if err != nil {
		t.Fatal(err)
	}
	for i, im := range impls {
		want := strconv.Quote(im.name)
		if !strings.Contains(string(src), ": "+want) || !strings.Contains(string(src), "rtImpl"+im.suffix+": "+want) {
			t.Errorf("rt/model.go's implNames lacks rtImpl%s: %s (index %d)", im.suffix, want, i)
		}
	}
}

// rtDecls returns the package-level names of the files runtimeFiles copies.
func rtDecls(t *testing.T) map[string]bool {
	t.Helper()
	entries, err := runtimeFS.ReadDir("rt")
	if err != nil {
		t.Fatal(err)
	}
	decls := map[string]bool{}
	for _, e := range entries {
		if notCopied[e.Name()] || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		src, err := runtimeFS.ReadFile(path.Join("rt", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), e.Name(), src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					decls[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						decls[s.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range s.Names {
							decls[n.Name] = true
						}
					}
				}
			}
		}
	}
	return decls
}
