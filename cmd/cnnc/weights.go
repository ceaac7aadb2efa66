package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/pth"
	"github.com/cnnc/cnnc/compiler/tensor"
)

func init() {
	commands = append(commands, &command{
		name:  "weights",
		args:  "init spec.yaml -o weights.safetensors | import state_dict.pth -spec spec.yaml -o weights.safetensors",
		short: "make deterministic random weights, or import PyTorch's",
		long: `
Weights init writes a safetensors file with a tensor for every parameter the
spec reads, named as a PyTorch state_dict names them (conv1.weight,
conv1.bias, bn1.running_mean, ...). The values are He-initialised and depend
only on -seed and each tensor's name, so they are the same on every machine
and every cnnc version.

Weights import reads a PyTorch state_dict saved with torch.save (a .pth
file) and writes the spec's weights from it, printing which tensor went
where: by order and shape, or by a -map file (docs/import.md).`,
		nargs: [2]int{2, 2},
		setup: func(fs *flagSet, e *env) func([]string) error {
			out := outputFlag(fs, "file", true)
			seed := seedFlag(fs)
			imp := newWeightsImportFlags(fs)
			return func(args []string) error {
				if args[0] == "import" {
					return imp.run(e, args[1], *out)
				}
				if args[0] != "init" {
					return usagef("unknown weights subcommand %q (want init or import)", args[0])
				}
				if err := checkNotInput("-o", *out, args[1]); err != nil {
					return err
				}
				g, err := compiler.Load(args[1])
				if err != nil {
					return err
				}
				ts := params.Init(g, *seed)
				meta := map[string]string{"cnnc.spec": g.Name, "cnnc.seed": fmt.Sprint(*seed)}
				return writeOutput(*out, func(w io.Writer) error {
					return tensor.WriteSafetensors(w, ts, meta)
				})
			}
		},
	})
}

// weightsImportFlags are the flags of `cnnc weights import`, registered on
// the weights command's flag set.
type weightsImportFlags struct {
	spec, mapFile *string
}

func newWeightsImportFlags(fs *flagSet) *weightsImportFlags {
	return &weightsImportFlags{
		spec:    fs.String("spec", "", "import: the spec `file` whose parameters the state_dict holds"),
		mapFile: fs.String("map", "", "import: a map `file` of `SOURCE TARGET` lines (default: match by order and shape)"),
	}
}

// run is `cnnc weights import STATE_DICT.pth -spec SPEC.yaml -o OUT`: it
// reads a PyTorch state_dict, maps its tensors to the spec's parameters,
// prints the mapping and writes the weights.
func (f *weightsImportFlags) run(e *env, src, out string) error {
	if *f.spec == "" {
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
