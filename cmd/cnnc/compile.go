package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/tensor"
)

func init() {
	commands = append(commands, &command{
		name:  "compile",
		args:  "spec.yaml -o dir [-pkg name] [-batch n] [-embed weights.safetensors] [-target go|cuda [-gpus n] [-parallel model|data]]",
		short: "generate a Go package for a network",
		long: `
Compile writes a Go package to -o in which every dimension of the network is
a constant: the API, the layer code, the weight loader and, for amd64, SIMD
micro-kernels in Go assembly specialised to each layer (AVX-512 and
AVX2+FMA, chosen at run time, with a pure-Go fallback for other CPUs and
-tags purego). The package imports only the standard library and
golang.org/x/sys/cpu.

Files are written atomically; generated files of an earlier run that the
new output no longer has are removed. Output is byte-for-byte reproducible.

With -embed, the weights file is copied into the package and embedded with
//go:embed, and the package gains NewEmbedded.

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
		setup: func(fs *flag.FlagSet, e *env) func([]string) error {
			out := fs.String("o", "", "output `dir` (required)")
			pkg := fs.String("pkg", "", "package `name` (default: the spec's name)")
			batch := fs.Int("batch", 1, "images per Infer call")
			embed := fs.String("embed", "", "weights `file` to embed in the package")
			precision := fs.String("precision", "fp32", "dense layers' weights: fp32, or bf16 (half the memory traffic; see docs)")
			target := fs.String("target", "go", "what to generate: go (a Go package) or cuda (CUDA C++ and a cgo wrapper)")
			gpus := fs.Int("gpus", 1, "with -target cuda: logical GPUs to spread the network over")
			parallel := fs.String("parallel", "model", "with -target cuda and -gpus > 1: model (split layers) or data (split the batch)")
			winograd := fs.Bool("winograd", true, "compute 3x3 and 5x5 stride-1 convolutions (16+ channels), and strided ones through a space-to-depth, with Winograd F(2x2,3x3) or F(4x4,3x3) and F(2x2,5x5); false: by im2col and GEMM")
			return func(args []string) error {
				if *out == "" {
					return usagef("compile needs -o DIR")
				}
				if *batch < 1 || *batch > 1<<16 {
					return usagef("-batch must be in [1, 65536]")
				}
				if *target == "cuda" {
					return compileCUDAFlags(e, args[0], *out, *pkg, *batch, *gpus, *parallel, *embed, *precision)
				}
				if *target != "go" {
					return usagef("-target must be go or cuda")
				}
				if *gpus != 1 || *parallel != "model" {
					return usagef("-gpus and -parallel need -target cuda")
				}
				if *precision != "fp32" && *precision != "bf16" {
					return usagef("-precision must be fp32 or bf16")
				}
				return compile(e, args[0], *out, codegen.Options{
					Package:   *pkg,
					Batch:     *batch,
					Args:      "compile " + strings.Join(os.Args[2:], " "),
					Precision: *precision,
					Direct:    !*winograd,
				}, *embed)
			}
		},
	})
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
		if weights, err = os.ReadFile(embed); err != nil {
			return err
		}
		opt.Embed = "weights.safetensors"
		opt.WeightsSHA256 = fmt.Sprintf("%x", sha256.Sum256(weights))
	}
	files, err := codegen.Generate(g, opt)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, f := range files {
		keep[f.Name] = true
		if err := writeIfChanged(filepath.Join(dir, f.Name), f.Data); err != nil {
			return err
		}
	}
	// Outside any module, make the package its own, so that
	// `cd dir && go build` works (offline: the go.sum is cnnc's).
	if root := moduleRoot(dir); root == "" || root == dir {
		abs, _ := filepath.Abs(dir)
		if root == "" || generatedBy(filepath.Join(dir, "go.mod")) {
			for _, f := range codegen.ModuleFiles(filepath.Base(abs)) {
				keep[f.Name] = true
				if err := writeIfChanged(filepath.Join(dir, f.Name), f.Data); err != nil {
					return err
				}
			}
		}
	}
	if weights != nil {
		keep[opt.Embed] = true
		if err := writeIfChanged(filepath.Join(dir, opt.Embed), weights); err != nil {
			return err
		}
	}
	return removeStale(dir, keep)
}

// writeIfChanged writes data to path atomically, unless path already holds
// exactly data (so that regenerating leaves timestamps and build caches alone).
func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return tensor.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// moduleRoot returns the directory of the go.mod governing dir, or "".
func moduleRoot(dir string) string {
	d, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// generatedBy reports whether the file at path was written by cnnc (go.mod
// files it writes have no header, so: whether it is exactly what cnnc writes).
func generatedBy(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.HasPrefix(string(b), "module ") && strings.Contains(string(b), "require golang.org/x/sys "+codegen.SysVersion+"\n") && strings.Count(string(b), "\n") == 5
}

// removeStale deletes files in dir that an earlier cnnc run generated and
// this one did not: files whose first line is cnnc's generated-code header.
func removeStale(dir string, keep map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, ent := range entries {
		if ent.IsDir() || keep[ent.Name()] {
			continue
		}
		path := filepath.Join(dir, ent.Name())
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		if strings.HasPrefix(line, "// Code generated by cnnc ") {
			if err := os.Remove(path); err != nil {
				return err
			}
		}
	}
	return nil
}
