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

	"github.com/cnnc/cnnc/compiler/diag"
	"github.com/cnnc/cnnc/compiler/ir"
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
	// which receives the positional arguments. Flags shared with other
	// commands are registered through their functions in flags.go.
	setup func(fs *flagSet, env *env) func(args []string) error
	nargs [2]int // minimum and maximum positional arguments
}

// env is what a command may touch: its command line and output streams.
type env struct {
	args           []string // the arguments Main was given, the command's name first
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
	e := &env{args: args, stdout: stdout, stderr: stderr}
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
	pos, err := parseInterspersed(fs.FlagSet, args[1:])
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
	err = fs.runChecks()
	if err == nil {
		err = run(pos)
	}
	if err != nil {
		if err == errSilent {
			return 1
		}
		return report(stderr, c, err)
	}
	return 0
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
