package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strings"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/tensor"
)

func init() {
	commands = append(commands, &command{
		name:  "compile",
		args:  "spec.yaml -o dir [-pkg name] [-batch n] [-embed weights.safetensors] [-target go|cuda [-gpus n] [-parallel model|data]]",
		short: "generate a Go package for a network",
		long: `
Compile writes a Go package to -o in which every dimension of the network,
and the batch of -batch images each Infer call takes, is a constant: the
API, the layer code, the weight loader and, for amd64, SIMD micro-kernels
in Go assembly specialised to each layer (AVX-512 and AVX2+FMA, chosen at
run time, with a pure-Go fallback for other CPUs and -tags purego). The package imports only the standard library and
golang.org/x/sys/cpu.

The package is written as a whole or not at all: into a temporary
directory beside -o first, then renamed into place, so an error, SIGINT or
SIGTERM leaves -o as it was. cnnc.sum records each file written with its
SHA-256; files an earlier compile wrote and this one does not are removed,
unless they were edited since (those are kept, with a warning). Unchanged
files are left alone. Output is byte-for-byte reproducible.

With -embed, the weights file is checked against the spec (as NewEmbedded
would check it), copied into the package and embedded with //go:embed, and
the package gains NewEmbedded.

With -precision bf16, dense layers keep their weights as bfloat16 (rounded
to nearest even at load) and widen them to float32 in the kernels: a
batch-1 inference then streams half the bytes. Activations, accumulation
and convolutions stay float32; the error against fp32 is documented in the
README.

With -target cuda, compile writes CUDA C++ instead, from the same optimised
graph: the kernels with every dimension a compile-time constant, a host side
with a C API (<pkg>.h) and a cgo wrapper built with -tags cuda; see
codegen/cuda. -gpus n spreads it over n logical GPUs (mapped onto the GPUs
present modulo their count): -parallel model splits every layer as
Krizhevsky et al. 2012 did, -parallel data splits the batch.`,
		nargs: [2]int{1, 1},
		setup: func(fs *flagSet, e *env) func([]string) error {
			var f compileFlags
			f.out = outputFlag(fs, "dir", true)
			fs.StringVar(&f.pkg, "pkg", "", "package `name` (default: the spec's name)")
			f.batch = batchFlag(fs)
			fs.StringVar(&f.embed, "embed", "", "weights `file` to embed in the package")
			f.precision = precisionFlag(fs, "fp32")
			fs.StringVar(&f.target, "target", "go", "what to generate: go (a Go package) or cuda (CUDA C++ and a cgo wrapper)")
			fs.IntVar(&f.gpus, "gpus", 1, "with -target cuda: logical GPUs to spread the network over")
			fs.StringVar(&f.parallel, "parallel", "model", "with -target cuda and -gpus > 1: model (split layers) or data (split the batch)")
			f.winograd = winogradFlag(fs)
			return func(args []string) error {
				f.spec = args[0]
				f.cmdline = strings.Join(e.args, " ")
				switch f.target {
				case "go":
					return compileGo(e, &f)
				case "cuda":
					return compileCUDA(e, &f)
				}
				return usagef("-target must be go or cuda")
			}
		},
	})
}

// compileFlags are cnnc compile's flags and arguments, for either target.
type compileFlags struct {
	spec    string // the spec's path
	cmdline string // the command line, from the command's name on, for the generated files' header

	out, precision *string
	batch          *int
	winograd       *bool

	pkg, embed, target, parallel string
	gpus                         int
}

// compileGo checks the flags of cnnc compile -target go and runs it.
func compileGo(e *env, f *compileFlags) error {
	if f.gpus != 1 || f.parallel != "model" {
		return usagef("-gpus and -parallel need -target cuda")
	}
	return compile(e, f.spec, *f.out, codegen.Options{
		Package:   f.pkg,
		Batch:     *f.batch,
		Args:      f.cmdline,
		Precision: *f.precision,
		Direct:    !*f.winograd,
	}, f.embed)
}

func compile(e *env, specPath, dir string, opt codegen.Options, embed string) error {
	src, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	opt.SpecSHA256 = fmt.Sprintf("%x", sha256.Sum256(src))
	g, err := compiler.Compile(specPath, passes.Options{})
	if err != nil {
		return err
	}
	printWarnings(e, g)
	var weights []byte
	if embed != "" {
		// Check the weights now, as NewEmbedded would, rather than ship a
		// package that can only fail; what is checked is what is hashed
		// and embedded.
		if weights, err = os.ReadFile(embed); err != nil {
			return err
		}
		f, err := tensor.ReadSafetensors(weights)
		if err != nil {
			return fmt.Errorf("%s: %w", embed, err)
		}
		_, warnings, err := params.Bind(g, f)
		for _, w := range warnings {
			e.warnf("%s: %s", embed, w)
		}
		if err != nil {
			return fmt.Errorf("%s: cannot be embedded in %s:\n%w", embed, g.Name, err)
		}
		opt.Embed = "weights.safetensors"
		opt.WeightsSHA256 = fmt.Sprintf("%x", sha256.Sum256(weights))
	}
	files, err := codegen.Generate(g, opt)
	if err != nil {
		return err
	}
	if weights != nil {
		files = append(files, codegen.File{Name: opt.Embed, Data: weights})
	}
	pkg := opt.Package
	if pkg == "" {
		pkg = g.Name
	}
	return writeGenerated(e, dir, pkg, files)
}
