package main

import (
	"fmt"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/passes"
)

func init() {
	commands = append(commands, &command{
		name:  "shapes",
		args:  "spec.yaml",
		short: "print each layer's shape, parameters and cost",
		long: `
Shapes prints a table of the network as written: each layer's op, output
shape (per image; batch is chosen at compile time), learned parameters,
multiply-adds and activation bytes, then the totals and the peak activation
memory after cnnc's memory planning.`,
		nargs: [2]int{1, 1},
		setup: func(fs *flagSet, e *env) func([]string) error {
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
	})
}
