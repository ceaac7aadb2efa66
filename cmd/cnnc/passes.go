package main

import (
	"fmt"
	"strings"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/passes"
)

func init() {
	commands = append(commands, &command{
		name:  "passes",
		args:  "spec.yaml",
		short: "print the IR after each optimisation pass",
		long: `
Passes runs the optimisation pipeline over the spec and prints the graph
after each pass (or, with -final, only the optimised graph). With -list it
prints the pipeline instead. With -plan it prints the code generator's
plan of the optimised graph for the -batch and -winograd that compile
would use: per layer, its algorithm, its GEMM's tiles for each
implementation and the task counts of its steps, then the buffers.`,
		nargs: [2]int{0, 1},
		setup: func(fs *flagSet, e *env) func([]string) error {
			final := fs.Bool("final", false, "print only the optimised graph")
			list := fs.Bool("list", false, "list the passes and exit")
			disable := fs.String("disable", "", "comma-separated `passes` to skip")
			verify := fs.Bool("verify", true, "check the graph's invariants after every pass")
			plan := fs.Bool("plan", false, "print the code generator's plan of the optimised graph")
			batch := batchFlag(fs)
			winograd := winogradFlag(fs)
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
				if !*final && !*plan {
					opt.After = func(pass string, g *ir.Graph) {
						fmt.Fprintf(e.stdout, "== after %s\n%s\n", pass, g.Format())
					}
				}
				g, err := compiler.Compile(args[0], opt)
				if err != nil {
					return err
				}
				printWarnings(e, g)
				if *plan {
					p, err := codegen.NewPlan(g, codegen.Options{Batch: *batch, Direct: !*winograd})
					if err != nil {
						return err
					}
					return p.Format(e.stdout)
				}
				if *final {
					fmt.Fprint(e.stdout, g.Format())
				}
				return nil
			}
		},
	})
}
