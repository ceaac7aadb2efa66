package main

import (
	"fmt"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/passes"
)

func init() {
	commands = append(commands, &command{
		name:  "check",
		args:  "spec.yaml...",
		short: "validate specs",
		long: `
Check parses and validates each spec: every field, every shape, every layer
reference. Problems are reported as file:line:col: layer: message, all of
them at once; the exit status is 1 if there were any.`,
		nargs: [2]int{1, 1 << 20},
		setup: func(fs *flagSet, e *env) func([]string) error {
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
	})
}
