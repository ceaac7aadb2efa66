package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/onnx"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/pth"
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
		setup: func(fs *flag.FlagSet, e *env) func([]string) error {
			out := fs.String("o", "", "spec `file` to write (required)")
			weights := fs.String("weights", "", "weights `file` to write (default: the spec's path with extension .safetensors)")
			name := fs.String("name", "", "the spec's `name` (default: the spec file's base name, as an identifier)")
			return func(args []string) error {
				if *out == "" {
					return usagef("import needs -o SPEC.yaml")
				}
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

// weightsImportFlags are the flags of `cnnc weights import`, registered on
// the weights command's flag set.
type weightsImportFlags struct {
	spec, mapFile *string
}

func newWeightsImportFlags(fs *flag.FlagSet) *weightsImportFlags {
	return &weightsImportFlags{
		spec:    fs.String("spec", "", "import: the spec `file` whose parameters the state_dict holds"),
		mapFile: fs.String("map", "", "import: a map `file` of `SOURCE TARGET` lines (default: match by order and shape)"),
	}
}

// run is `cnnc weights import STATE_DICT.pth -spec SPEC.yaml -o OUT`: it
// reads a PyTorch state_dict, maps its tensors to the spec's parameters,
// prints the mapping and writes the weights.
func (f *weightsImportFlags) run(e *env, src, out string) error {
	if *f.spec == "" || out == "" {
		return usagef("weights import needs -spec SPEC.yaml and -o FILE")
	}
	if err := checkNotInput("-o", out, src, *f.spec, *f.mapFile); err != nil {
		return err
	}
	g, err := compiler.Load(*f.spec)
	if err != nil {
		return err
	}
	var m *pth.MapFile
	if *f.mapFile != "" {
		b, err := os.ReadFile(*f.mapFile)
		if err != nil {
			return err
		}
		if m, err = pth.ParseMap(*f.mapFile, b); err != nil {
			return err
		}
	}
	sd, err := pth.Load(src)
	if err != nil {
		return err
	}
	ts, rows, err := pth.Map(sd, params.Wants(g), m)
	if err != nil {
		return fmt.Errorf("%s -> %s:\n%v", src, *f.spec, err)
	}
	fmt.Fprint(e.stdout, pth.Table(rows))
	for _, r := range rows {
		if r.Warning != "" {
			e.warnf("%s: %s", src, r.Warning)
		}
	}
	meta := map[string]string{"cnnc.spec": g.Name, "cnnc.source": filepath.Base(src)}
	if err := writeOutput(out, func(w io.Writer) error {
		return tensor.WriteSafetensors(w, ts, meta)
	}); err != nil {
		return err
	}
	var n int64
	for _, t := range ts {
		n += int64(len(t.Data))
	}
	fmt.Fprintf(e.stdout, "wrote %s: %d tensors, %s values (%s state_dict)\n", out, len(ts), compiler.Group(n), sd.Format)
	return nil
}
