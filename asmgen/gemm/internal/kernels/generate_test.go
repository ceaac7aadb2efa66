package kernels

import (
	"bytes"
	"fmt"
	"go/format"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/internal/golden"
)

// render returns the generated files of the package by name.
func render() (map[string][]byte, error) {
	asm, stubs, err := gemm.Generate("kernels", configs)
	if err != nil {
		return nil, err
	}
	fallback, err := gemm.GenerateFallback("kernels", configs)
	if err != nil {
		return nil, err
	}
	table, err := renderTable()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		"kernels_amd64.s":       asm,
		"kernels_amd64.go":      stubs,
		"kernels_other.go":      fallback,
		"kernels_table_test.go": table,
	}, nil
}

// renderTable returns the test file mapping every kernel name to an adapter
// with the uniform kernelFunc signature.
func renderTable() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\npackage kernels\n\n", gemm.Header)
	fmt.Fprintf(&b, "// kernelFuncs maps kernel names to adapters to kernelFunc.\n")
	fmt.Fprintf(&b, "var kernelFuncs = map[string]kernelFunc{\n")
	for _, c := range configs {
		args := "a, b, c"
		if c.K == 0 {
			args += ", k"
		}
		if c.LDC == 0 {
			args += ", ldc"
		}
		if c.Bias {
			args += ", bias"
		}
		if c.BF16B {
			n := fmt.Sprintf("max(k, 1)*%d", c.NR)
			if c.K > 0 {
				n = fmt.Sprintf("%d", c.K*c.NR)
			}
			args = strings.Replace(args, "a, b, c", "a, &bb[0], c", 1)
			fmt.Fprintf(&b, "%q: func(a, b, c *float32, k, ldc int, bias *float32) { bb := toBF16(b, %s); %s(%s) },\n", c.Name, n, c.Name, args)
			continue
		}
		fmt.Fprintf(&b, "%q: func(a, b, c *float32, k, ldc int, bias *float32) { %s(%s) },\n", c.Name, c.Name, args)
	}
	fmt.Fprintf(&b, "}\n")
	return format.Source(b.Bytes())
}

// TestGenerated checks that the generated files are up to date; with
// -update it rewrites them.
func TestGenerated(t *testing.T) {
	files, err := render()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		golden.Check(t, name, want)
	}
}
