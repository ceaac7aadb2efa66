package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// flagSet is a command's flags: a flag.FlagSet, and the checks of the
// shared flags registered on it, which Main runs after parsing and before
// the command, so that a flag means, checks and says the same in every
// command that has it.
type flagSet struct {
	*flag.FlagSet
	checks []func() error
}

func newFlagSet(c *command) *flagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flagSet{FlagSet: fs}
}

// check registers a check of the parsed flags; it returns a usageError.
func (fs *flagSet) check(f func() error) { fs.checks = append(fs.checks, f) }

// runChecks runs the checks in the order they were registered and returns
// the first error.
func (fs *flagSet) runChecks() error {
	for _, f := range fs.checks {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// The flags several commands share, one function each: its name, default,
// help and check are here and nowhere else. A new shared flag is one more
// function; a flag of one command stays in that command's file.

// maxBatch bounds -batch (and accuracy's -n): 65536 images.
const maxBatch = 1 << 16

// batchFlag registers -batch: the images in one batch, the compiled code's
// per Infer call (compile, bench, accuracy, run) or the random input's
// (input, run); each command's help says which.
func batchFlag(fs *flagSet) *int {
	batch := fs.Int("batch", 1, fmt.Sprintf("`n` images per batch (1 to %d)", maxBatch))
	fs.check(func() error {
		if *batch < 1 || *batch > maxBatch {
			return usagef("-batch must be in [1, %d]", maxBatch)
		}
		return nil
	})
	return batch
}

// precisionFlag registers -precision, the dense layers' weights in the
// compiled code; def is the command's default.
func precisionFlag(fs *flagSet, def string) *string {
	p := fs.String("precision", def, "dense layers' weights: fp32, or bf16 (half the memory traffic; see the README)")
	fs.check(func() error {
		if *p != "fp32" && *p != "bf16" {
			return usagef("-precision must be fp32 or bf16")
		}
		return nil
	})
	return p
}

// winogradFlag registers -winograd: whether the compiled code computes the
// convolutions that allow it by Winograd's algorithm (codegen.Options.Direct
// is its negation).
func winogradFlag(fs *flagSet) *bool {
	return fs.Bool("winograd", true, "compute 3x3 and 5x5 stride-1 convolutions (16+ channels), and strided ones through a space-to-depth, with Winograd F(2x2,3x3) or F(4x4,3x3), and F(2x2,5x5), F(3x3,5x5) or F(4x4,5x5); false: by im2col and GEMM")
}

// seedFlag registers -seed, which determines the random weights and inputs.
func seedFlag(fs *flagSet) *uint64 {
	return fs.Uint64("seed", 1, "`seed` of the random weights and inputs")
}

// weightsFlag registers -weights, the weights a command reads.
func weightsFlag(fs *flagSet) *string {
	return fs.String("weights", "", "weights `file` (safetensors); default: random weights, as 'cnnc weights init' makes them")
}

// outputFlag registers -o, the file or directory (what: "file", "dir") the
// command writes. A required one is checked before the command runs; an
// optional one defaults to standard output.
func outputFlag(fs *flagSet, what string, required bool) *string {
	if !required {
		return fs.String("o", "", "output `"+what+"`; default: standard output")
	}
	out := fs.String("o", "", "output `"+what+"` (required)")
	fs.check(func() error {
		if *out == "" {
			return usagef("%s needs -o %s", fs.Name(), strings.ToUpper(what))
		}
		return nil
	})
	return out
}

// jsonFlag registers -json: print the report as JSON.
func jsonFlag(fs *flagSet) *bool {
	return fs.Bool("json", false, "print JSON")
}
