package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/tensor"
)

func init() {
	commands = append(commands,
		&command{
			name:  "check",
			args:  "spec.yaml...",
			short: "validate specs",
			long: `
Check parses and validates each spec: every field, every shape, every layer
reference. Problems are reported as file:line:col: layer: message, all of
them at once; the exit status is 1 if there were any.`,
			nargs: [2]int{1, 1 << 20},
			setup: func(fs *flag.FlagSet, e *env) func([]string) error {
				return func(args []string) error {
					var failed error
					for _, path := range args {
						g, err := compiler.Load(path)
						if err == nil {
							var opt *ir.Graph
							opt, err = compiler.Compile(path, passes.Options{Verify: true})
							if err == nil {
								printWarnings(e, opt)
							}
						}
						if err != nil {
							report(e.stderr, lookup("check"), err)
							failed = errSilent
							continue
						}
						var n int64
						for _, x := range g.Nodes {
							n += ir.ParamCount(x)
						}
						fmt.Fprintf(e.stdout, "%s: ok: %s, %d layers, %s parameters\n", path, g.Name, len(g.Nodes)-1, compiler.Group(n))
					}
					if failed != nil {
						return errSilent
					}
					return nil
				}
			},
		},
		&command{
			name:  "shapes",
			args:  "spec.yaml",
			short: "print each layer's shape, parameters and cost",
			long: `
Shapes prints a table of the network as written: each layer's op, output
shape (per image; batch is chosen at compile time), learned parameters,
multiply-adds and activation bytes, then the totals and the peak activation
memory after cnnc's memory planning.`,
			nargs: [2]int{1, 1},
			setup: func(fs *flag.FlagSet, e *env) func([]string) error {
				return func(args []string) error {
					g, err := compiler.Load(args[0])
					if err != nil {
						return err
					}
					opt, err := compiler.Compile(args[0], passes.Options{})
					if err != nil {
						return err
					}
					printWarnings(e, opt)
					fmt.Fprint(e.stdout, compiler.ShapeTable(g, opt.Mem))
					return nil
				}
			},
		},
		&command{
			name:  "passes",
			args:  "spec.yaml",
			short: "print the IR after each optimisation pass",
			long: `
Passes runs the optimisation pipeline over the spec and prints the graph
after each pass (or, with -final, only the optimised graph). With -list it
prints the pipeline instead.`,
			nargs: [2]int{0, 1},
			setup: func(fs *flag.FlagSet, e *env) func([]string) error {
				final := fs.Bool("final", false, "print only the optimised graph")
				list := fs.Bool("list", false, "list the passes and exit")
				disable := fs.String("disable", "", "comma-separated `passes` to skip")
				verify := fs.Bool("verify", true, "check the graph's invariants after every pass")
				return func(args []string) error {
					if *list {
						for _, p := range passes.List() {
							req := ""
							if p.Required {
								req = ", required"
							}
							fmt.Fprintf(e.stdout, "%-18s %s%s: %s\n", p.Name, p.Kind, req, p.Doc)
						}
						return nil
					}
					if len(args) != 1 {
						return usagef("passes takes one argument: spec.yaml")
					}
					opt := passes.Options{Verify: *verify}
					if *disable != "" {
						opt.Disable = strings.Split(*disable, ",")
					}
					if !*final {
						opt.After = func(pass string, g *ir.Graph) {
							fmt.Fprintf(e.stdout, "== after %s\n%s\n", pass, g.Format())
						}
					}
					g, err := compiler.Compile(args[0], opt)
					if err != nil {
						return err
					}
					printWarnings(e, g)
					if *final {
						fmt.Fprint(e.stdout, g.Format())
					}
					return nil
				}
			},
		},
		&command{
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
			setup: func(fs *flag.FlagSet, e *env) func([]string) error {
				seed := fs.Uint64("seed", 1, "random `seed`")
				out := fs.String("o", "", "output `file` (required)")
				imp := newWeightsImportFlags(fs)
				return func(args []string) error {
					if args[0] == "import" {
						return imp.run(e, args[1], *out)
					}
					if args[0] != "init" {
						return usagef("unknown weights subcommand %q (want init or import)", args[0])
					}
					if *out == "" {
						return usagef("weights init needs -o FILE")
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
		},
		&command{
			name:  "input",
			args:  "spec.yaml -o input.npy",
			short: "make a deterministic random input batch",
			long: `
Input writes a .npy file of shape [batch, C, H, W] holding standard normal
values determined by -seed: an input for cnnc run and for tests.`,
			nargs: [2]int{1, 1},
			setup: func(fs *flag.FlagSet, e *env) func([]string) error {
				seed := fs.Uint64("seed", 1, "random `seed`")
				batch := fs.Int("batch", 1, "images in the batch")
				out := fs.String("o", "", "output `file` (required)")
				return func(args []string) error {
					if *out == "" {
						return usagef("input needs -o FILE")
					}
					if *batch < 1 || *batch > 1<<16 {
						return usagef("-batch must be in [1, 65536]")
					}
					g, err := compiler.Load(args[0])
					if err != nil {
						return err
					}
					if err := checkBatch(g, *batch, "-batch"); err != nil {
						return err
					}
					x := params.Input(g, *batch, *seed)
					shape := append([]int{*batch}, g.Input().Shape.Dims()...)
					if err := checkNotInput("-o", *out, args[0]); err != nil {
						return err
					}
					return writeOutput(*out, func(w io.Writer) error {
						return tensor.WriteNpy(w, shape, x)
					})
				}
			},
		},
	)
}

// errSilent is returned by commands that have already reported their errors.
var errSilent = errors.New("")

func printWarnings(e *env, g *ir.Graph) {
	for _, w := range g.Warnings {
		fmt.Fprintf(e.stderr, "%s: %s: warning: %s\n", w.Pos, w.Layer, w.Msg)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
