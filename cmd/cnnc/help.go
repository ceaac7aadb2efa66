package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

func init() {
	commands = append(commands, &command{
		name:  "help",
		args:  "[command]",
		short: "describe a command",
		long:  "Help prints the list of commands, or the usage and flags of one.",
		nargs: [2]int{0, 2},
		setup: func(fs *flagSet, e *env) func([]string) error {
			return func(args []string) error {
				if len(args) == 0 {
					printUsage(e.stdout)
					return nil
				}
				c := lookup(args[0])
				if c == nil {
					return usagef("unknown command %q", args[0])
				}
				cfs := newFlagSet(c)
				c.setup(cfs, e)
				commandHelp(e.stdout, c, cfs)
				return nil
			}
		},
	})
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "cnnc compiles convolutional neural networks described in YAML into Go.\n\nUsage:\n\n\tcnnc <command> [flags] [arguments]\n\nThe commands are:\n\n")
	// In the order of the pipeline, whatever the order of the files' init.
	order := []string{"import", "check", "shapes", "passes", "graph", "compile", "run", "bench", "accuracy", "weights", "input", "help"}
	sorted := slices.Clone(commands)
	slices.SortStableFunc(sorted, func(a, b *command) int {
		ia, ib := slices.Index(order, a.name), slices.Index(order, b.name)
		if ia < 0 {
			ia = len(order)
		}
		if ib < 0 {
			ib = len(order)
		}
		return ia - ib
	})
	for _, c := range sorted {
		fmt.Fprintf(w, "\t%-10s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, "\nUse \"cnnc help <command>\" for more about a command.\n")
}

func commandHelp(w io.Writer, c *command, fs *flagSet) {
	fmt.Fprintf(w, "usage: cnnc %s %s\n\n%s\n", c.name, c.args, strings.TrimSpace(c.long))
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}
