package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/onnx"
	"github.com/cnnc/cnnc/compiler/tensor"
)

func init() {
	commands = append(commands, &command{
		name:  "import",
		args:  "model.onnx -o spec.yaml [-weights weights.safetensors] [-name name]",
		short: "translate an ONNX model into a spec and weights",
		long: `
Import translates an ONNX model into a cnnc spec (-o) and a safetensors file
with its weights (-weights; by default the spec's path with the extension
.safetensors), named as the spec expects: <layer>.weight, <layer>.bias,
<layer>.running_mean, ... Layer names come from the ONNX node names.

Every ONNX node becomes a spec layer with the same meaning, or the import
fails: an operator cnnc does not have is reported with every node that uses
it, and an attribute whose meaning the spec cannot express (asymmetric
padding, LRN with an even size, softmax over another axis than the
channels, ...) is reported with its node, all of them in one error grouped
by operator. The patterns torch.onnx.export writes are recognised: Pad
before a convolution or pooling, ReduceMean over H and W, Reshape to
[batch, -1] computed from Shape, MatMul + Add, constants folded into the
layer before them, permutes around channel-wise ops, channel shuffles, and
GELU, layer norm, SiLU and hardswish written out as several nodes.
docs/import.md lists the operators and the rules.

The spec is checked as 'cnnc check' would before anything is written, and
both files are written atomically. -name sets the spec's name (the Go
package name of 'cnnc compile'); by default it is the spec file's base name.`,
		nargs: [2]int{1, 1},
		setup: func(fs *flagSet, e *env) func([]string) error {
			out := outputFlag(fs, "file", true)
			weights := fs.String("weights", "", "weights `file` to write (default: the spec's path with extension .safetensors)")
			name := fs.String("name", "", "the spec's `name` (default: the spec file's base name, as an identifier)")
			return func(args []string) error {
				wpath := *weights
				if wpath == "" {
					wpath = strings.TrimSuffix(*out, filepath.Ext(*out)) + ".safetensors"
				}
				if wpath == *out {
					return usagef("-weights and -o name the same file")
				}
				if err := errors.Join(checkNotInput("-o", *out, args[0]), checkNotInput("-weights", wpath, args[0])); err != nil {
					return err
				}
				data, err := os.ReadFile(args[0])
				if err != nil {
					return err
				}
				specName := *name
				if specName == "" {
					specName = onnx.NameFrom(*out)
				}
				res, err := onnx.Import(data, onnx.Options{Source: args[0], Name: specName})
				if err != nil {
					return err
				}
				for _, w := range res.Warnings {
					e.warnf("%s: %s", args[0], w)
				}
				// The spec and its weights are one output: both or neither.
				var o outputs
				defer o.discard()
				if err := o.add(*out, func(w io.Writer) error {
					_, err := w.Write(res.Spec)
					return err
				}); err != nil {
					return err
				}
				meta := map[string]string{"cnnc.spec": res.Name, "cnnc.source": filepath.Base(args[0])}
				if err := o.add(wpath, func(w io.Writer) error {
					return tensor.WriteSafetensors(w, res.Weights, meta)
				}); err != nil {
					return err
				}
				if err := o.commit(); err != nil {
					return err
				}
				var n int64
				for _, t := range res.Weights {
					n += int64(len(t.Data))
				}
				fmt.Fprintf(e.stdout, "%s: ONNX opset %d, input %dx%dx%d: %d layers, %s weights\nwrote %s and %s\n",
					args[0], res.Opset, res.Inputs[0], res.Inputs[1], res.Inputs[2], res.Layers, compiler.Group(n), *out, wpath)
				return nil
			}
		},
	})
}
