package codegen

import (
	"bytes"
	"embed"
	"fmt"
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
var notCopied = map[string]bool{"doc.go": true, "mkst.go": true, "mkvec.go": true, "network.go": true, "vec_amd64.go": true, "winogo.go": true}

// runtimeFiles returns the runtime for package pkg: every file of
// codegen/rt but notCopied and the tests; of the files of kernel kinds
// (kernelKind.rt) only those of kinds, the ones the network uses; and
// rt/preprocess.go only with preprocess, for specs that declare it.
func runtimeFiles(pkg, header string, kinds []*kernelKind, preprocess bool) ([]File, error) {
	entries, err := runtimeFS.ReadDir("rt")
	if err != nil {
		return nil, err
	}
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
	var out []File
	for _, e := range entries {
		name := e.Name()
		if notCopied[name] || skip[name] || strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := runtimeFS.ReadFile(path.Join("rt", name))
		if err != nil {
			return nil, err
		}
		// Drop any generator notice of the source file; the copy carries cnnc's.
		if bytes.HasPrefix(src, []byte("// Code generated")) {
			src = src[bytes.IndexByte(src, '\n')+1:]
		}
		i := bytes.Index(src, []byte("package rt\n"))
		if i < 0 {
			return nil, fmt.Errorf("codegen: rt/%s has no package clause", name)
		}
		var b bytes.Buffer
		b.WriteString(header + "\n\n")
		b.Write(bytes.TrimLeft(src[:i], "\n"))
		b.WriteString("package " + pkg + "\n")
		b.Write(src[i+len("package rt\n"):])
		out = append(out, File{Name: "rt_" + name, Data: b.Bytes()})
	}
	return out, nil
}
