package codegen

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// The runtime every generated package carries: real, tested Go in
// codegen/rt, copied with the package clause rewritten.
//
//go:embed rt/*.go
var runtimeFS embed.FS

// notCopied are the files of codegen/rt that stay there: its
// documentation, its generators, the stand-in for a generated network and
// its copy of every vec kernel and Go Winograd transform (a generated
// package gets its own).
var notCopied = map[string]bool{"doc.go": true, "mkst.go": true, "mkvec.go": true, "network.go": true, "vec_amd64.go": true, "vec_arm64.go": true, "winogo.go": true}

// runtimeFiles returns the runtime for package pkg: every file of
// codegen/rt but notCopied and the tests; of the files of kernel kinds
// (kernelKind.rt) only those of kinds, the ones the network uses; and
// rt/preprocess.go only with preprocess, for specs that declare it.
func runtimeFiles(pkg, header string, kinds []*kernelKind, preprocess bool) ([]File, error) {
	skip := map[string]bool{"preprocess.go": !preprocess}
	for _, k := range kernelKinds {
		for _, name := range k.rt {
			skip[name] = true
		}
	}
	for _, k := range kinds {
		for _, name := range k.rt {
			skip[name] = false
		}
	}
	return CopyPackage(runtimeFS, "rt", pkg, header, func(name string) bool { return notCopied[name] || skip[name] })
}

// CopyPackage returns the Go files of directory dir of fsys, but the tests
// and those skip reports, each as rt_<name> in package pkg: header first,
// any generator notice of the source dropped, and the package clause
// (package <dir's last element>) renamed. codegen copies codegen/rt so,
// and codegen/cuda its gort.
func CopyPackage(fsys fs.FS, dir, pkg, header string, skip func(name string) bool) ([]File, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	clause := []byte("package " + path.Base(dir) + "\n")
	var out []File
	for _, e := range entries {
		name := e.Name()
		if skip(name) || strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		// Drop any generator notice of the source file; the copy carries cnnc's.
		if bytes.HasPrefix(src, []byte("// Code generated")) {
			src = src[bytes.IndexByte(src, '\n')+1:]
		}
		i := bytes.Index(src, clause)
		if i < 0 {
			return nil, fmt.Errorf("codegen: %s/%s has no package clause", dir, name)
		}
		var b bytes.Buffer
		b.WriteString(header + "\n\n")
		b.Write(bytes.TrimLeft(src[:i], "\n"))
		b.WriteString("package " + pkg + "\n")
		b.Write(src[i+len(clause):])
		out = append(out, File{Name: "rt_" + name, Data: b.Bytes()})
	}
	return out, nil
}
