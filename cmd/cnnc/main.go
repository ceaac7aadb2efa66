// Command cnnc compiles convolutional neural networks described in YAML
// into Go packages specialised to their fixed dimensions.
//
// Usage:
//
//	cnnc <command> [flags] [arguments]
//
// Run `cnnc help` for the commands and `cnnc help <command>` for one.
// Flags may stand before or after the arguments. The exit status is 0 on
// success, 1 when the input (a spec, weights, an input file) is at fault,
// 2 when the command line is, and 130 or 143 when SIGINT or SIGTERM stopped
// it. Every command writes its outputs all or none: to temporaries renamed
// into place at the end, removed if it fails or is interrupted.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/cnnc/cnnc/compiler/diag"
)

func main() {
	handleInterrupts(os.Stderr)
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one entry of the command table.
type command struct {
	name  string
	args  string // synopsis of the positional arguments
	short string
	long  string
	// setup registers the command's flags and returns its run function,
	// which receives the positional arguments.
	setup func(fs *flag.FlagSet, env *env) func(args []string) error
	nargs [2]int // minimum and maximum positional arguments
}

// env is what a command may touch: its output streams.
type env struct {
	stdout, stderr io.Writer
}

func (e *env) warnf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "cnnc: warning: "+format+"\n", args...)
}

// usageError is a problem with the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

var commands []*command

func lookup(name string) *command {
	i := slices.IndexFunc(commands, func(c *command) bool { return c.name == name })
	if i < 0 {
		return nil
	}
	return commands[i]
}

// Main runs cnnc with args and returns its exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		printUsage(stdout)
		return 0
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "cnnc: unknown command %q\nRun 'cnnc help' for usage.\n", name)
		return 2
	}
	fs := newFlagSet(c)
	run := c.setup(fs, e)
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		commandHelp(stdout, c, fs)
		return 0
	}
	if err == nil && (len(pos) < c.nargs[0] || len(pos) > c.nargs[1]) {
		err = usagef("%s takes %s", c.name, argCount(c))
	}
	if err != nil {
		fmt.Fprintf(stderr, "cnnc %s: %v\nusage: cnnc %s %s\nRun 'cnnc help %s' for details.\n", c.name, err, c.name, c.args, c.name)
		return 2
	}
	if err := run(pos); err != nil {
		if err == errSilent {
			return 1
		}
		return report(stderr, c, err)
	}
	return 0
}

func newFlagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func argCount(c *command) string {
	if c.nargs[0] == c.nargs[1] {
		if c.nargs[0] == 1 {
			return "one argument: " + c.args
		}
		return fmt.Sprintf("%d arguments: %s", c.nargs[0], c.args)
	}
	return fmt.Sprintf("%d to %d arguments: %s", c.nargs[0], c.nargs[1], c.args)
}

// report prints err and returns the exit status it calls for. Positioned
// errors print bare, one per line, as compilers print them.
func report(w io.Writer, c *command, err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "cnnc %s: %v\nRun 'cnnc help %s' for details.\n", c.name, ue.msg, c.name)
		return 2
	}
	var list diag.List
	var one *diag.Error
	switch {
	case errors.As(err, &list):
		fmt.Fprintln(w, list.Error())
	case errors.As(err, &one):
		fmt.Fprintln(w, one.Error())
	default:
		fmt.Fprintf(w, "cnnc: %v\n", err)
	}
	return 1
}

// parseInterspersed parses flags that may appear before, between and after
// positional arguments, as users type them. "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, rest []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, rest = args[:i], args[i+1:]
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return append(pos, rest...), nil
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

func commandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
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

func init() {
	commands = append(commands, &command{
		name:  "help",
		args:  "[command]",
		short: "describe a command",
		long:  "Help prints the list of commands, or the usage and flags of one.",
		nargs: [2]int{0, 2},
		setup: func(fs *flag.FlagSet, e *env) func([]string) error {
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
