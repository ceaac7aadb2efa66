package main

import (
	"io"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/tensor"
)

func init() {
	commands = append(commands, &command{
		name:  "input",
		args:  "spec.yaml -o input.npy",
		short: "make a deterministic random input batch",
		long: `
Input writes a .npy file of shape [batch, C, H, W], batch being -batch,
holding standard normal values determined by -seed: an input for cnnc run
and for tests.`,
		nargs: [2]int{1, 1},
		setup: func(fs *flagSet, e *env) func([]string) error {
			out := outputFlag(fs, "file", true)
			seed := seedFlag(fs)
			batch := batchFlag(fs)
			return func(args []string) error {
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
	})
}
