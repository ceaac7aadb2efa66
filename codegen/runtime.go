package codegen

import (
	"bytes"
	"embed"
	"fmt"
	"path"
)

// The runtime every generated package carries: real, tested Go in
// codegen/rt, copied with the package clause rewritten.
//
//go:embed rt/depthwise.go rt/gemm.go rt/io.go rt/mem.go rt/mem_linux.go rt/mem_other.go rt/ops.go rt/pack.go rt/pool.go rt/st.go rt/wino.go
var runtimeFS embed.FS

// runtimeFiles returns the runtime for package pkg; rt/wino.go only if the
// package has Winograd convolutions, rt/depthwise.go only if it has
// depthwise ones.
func runtimeFiles(pkg, header string, wino, depthwise bool) ([]File, error) {
	entries, err := runtimeFS.ReadDir("rt")
	if err != nil {
		return nil, err
	}
	var out []File
	for _, e := range entries {
		if e.Name() == "wino.go" && !wino || e.Name() == "depthwise.go" && !depthwise {
			continue
		}
		src, err := runtimeFS.ReadFile(path.Join("rt", e.Name()))
		if err != nil {
			return nil, err
		}
		// Drop any generator notice of the source file; the copy carries cnnc's.
		if bytes.HasPrefix(src, []byte("// Code generated")) {
			src = src[bytes.IndexByte(src, '\n')+1:]
		}
		i := bytes.Index(src, []byte("package rt\n"))
		if i < 0 {
			return nil, fmt.Errorf("codegen: rt/%s has no package clause", e.Name())
		}
		var b bytes.Buffer
		b.WriteString(header + "\n\n")
		b.Write(bytes.TrimLeft(src[:i], "\n"))
		b.WriteString("package " + pkg + "\n")
		b.Write(src[i+len("package rt\n"):])
		out = append(out, File{Name: "rt_" + e.Name(), Data: b.Bytes()})
	}
	return out, nil
}
