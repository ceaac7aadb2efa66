package main

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
Compile writes a Go package to -o in which every dimension of the network is
a constant: the API, the layer code, the weight loader and, for amd64, SIMD
micro-kernels in Go assembly specialised to each layer (AVX-512 and
AVX2+FMA, chosen at run time, with a pure-Go fallback for other CPUs and
-tags purego). The package imports only the standard library and
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
		setup: func(fs *flag.FlagSet, e *env) func([]string) error {
			out := fs.String("o", "", "output `dir` (required)")
			pkg := fs.String("pkg", "", "package `name` (default: the spec's name)")
			batch := fs.Int("batch", 1, "images per Infer call")
			embed := fs.String("embed", "", "weights `file` to embed in the package")
			precision := fs.String("precision", "fp32", "dense layers' weights: fp32, or bf16 (half the memory traffic; see docs)")
			target := fs.String("target", "go", "what to generate: go (a Go package) or cuda (CUDA C++ and a cgo wrapper)")
			gpus := fs.Int("gpus", 1, "with -target cuda: logical GPUs to spread the network over")
			parallel := fs.String("parallel", "model", "with -target cuda and -gpus > 1: model (split layers) or data (split the batch)")
			winograd := fs.Bool("winograd", true, "compute 3x3 and 5x5 stride-1 convolutions (16+ channels), and strided ones through a space-to-depth, with Winograd F(2x2,3x3) or F(4x4,3x3), and F(2x2,5x5), F(3x3,5x5) or F(4x4,5x5); false: by im2col and GEMM")
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

// writeGenerated writes files into dir as one transaction (writePackage),
// adding a go.mod and go.sum where dir is outside any module (or the module
// is one cnnc made), so that `cd dir && go build` works (offline: the
// go.sum is cnnc's).
func writeGenerated(e *env, dir, pkg string, files []codegen.File) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real // stage beside the real directory: renames cannot cross file systems
	}
	if root := moduleRoot(abs); root == "" || root == abs {
		if root == "" || generatedBy(filepath.Join(abs, "go.mod")) || listedUnchanged(abs, "go.mod") {
			files = append(files, codegen.ModuleFiles(codegen.ModulePath(filepath.Base(abs), pkg))...)
		}
	}
	return writePackage(e, abs, files)
}

// hashFile returns the hex SHA-256 of the file at path.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// manifestName is the file in which compile records what it wrote: one
// "SHA-256  name" line per file, as sha256sum prints them (so that
// `sha256sum -c cnnc.sum` checks a package). A later compile into the same
// directory removes a file it no longer generates only if the file is
// listed there and unchanged, so a file edited after generation is kept.
const manifestName = "cnnc.sum"

const manifestHeader = "# Files written by cnnc compile, with their SHA-256 (sha256sum -c cnnc.sum checks them).\n" +
	"# A later compile removes a listed file it no longer generates only if it is unchanged.\n"

// writePackage writes the package into dir as one transaction. Everything
// is first written into a temporary directory beside dir, so an error or
// an interrupt (SIGINT, SIGTERM) leaves dir as it was and no temporary
// behind. A new dir is then that directory, renamed. An existing one gets
// the changed files renamed in (unchanged ones are left alone, so
// regenerating keeps timestamps and build caches), with interrupts held off
// until the renames are done, and loses the files an earlier compile
// generated, recorded in its cnnc.sum, that this one does not, unless they
// were edited since.
func writePackage(e *env, dir string, files []codegen.File) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	stage, rmStage, err := tempDir(filepath.Dir(dir), "."+filepath.Base(dir)+".cnnc-*")
	if err != nil {
		return err
	}
	defer rmStage()
	sums := map[string]string{}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(stage, f.Name), f.Data, 0o644); err != nil {
			return err
		}
		sums[f.Name] = fmt.Sprintf("%x", sha256.Sum256(f.Data))
	}
	names := slices.Sorted(maps.Keys(sums))
	var m strings.Builder
	m.WriteString(manifestHeader)
	for _, name := range names {
		fmt.Fprintf(&m, "%s  %s\n", sums[name], name)
	}
	if err := os.WriteFile(filepath.Join(stage, manifestName), []byte(m.String()), 0o644); err != nil {
		return err
	}
	tensor.SyncDir(stage)
	if err := os.Chmod(stage, 0o755); err != nil {
		return err
	}

	if beforeCommit != nil {
		beforeCommit()
	}
	interrupt.mu.Lock()
	defer interrupt.mu.Unlock()
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(stage, dir); err != nil {
			return err
		}
		tensor.SyncDir(filepath.Dir(dir))
		return nil
	}
	old := readManifest(dir)
	for _, name := range append(names, manifestName) {
		if name != manifestName {
			if sum, err := hashFile(filepath.Join(dir, name)); err == nil && sum == sums[name] {
				continue
			}
		}
		if err := os.Rename(filepath.Join(stage, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	tensor.SyncDir(dir)
	return removeStale(e, dir, sums, old)
}

// readManifest returns the files dir's cnnc.sum lists, with their hashes,
// or nil if it has none (a package written before cnnc kept one).
func readManifest(dir string) map[string]string {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil || len(b) > 1<<20 {
		return nil
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if ok && len(sum) == 64 && !strings.HasPrefix(line, "#") && filepath.Base(name) == name {
			m[name] = sum
		}
	}
	return m
}

// listedUnchanged reports whether dir's cnnc.sum lists name and the file
// still has the listed hash.
func listedUnchanged(dir, name string) bool {
	sum, ok := readManifest(dir)[name]
	if !ok {
		return false
	}
	got, err := hashFile(filepath.Join(dir, name))
	return err == nil && got == sum
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

// removeStale deletes the files in dir that an earlier compile generated
// and this one did not (keep lists this one's). With a manifest of the
// earlier compile (old), those are the files it lists whose hash is
// unchanged; a listed file edited since is kept with a warning. Without one,
// the package came from a cnnc that kept no manifest: those are the files
// whose first line is cnnc's generated-code header, as cnnc did then.
func removeStale(e *env, dir string, keep, old map[string]string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, ent := range entries {
		name := ent.Name()
		if !ent.Type().IsRegular() || name == manifestName {
			continue
		}
		if _, ok := keep[name]; ok {
			continue
		}
		path := filepath.Join(dir, name)
		if old != nil {
			sum, listed := old[name]
			if !listed {
				continue
			}
			if got, err := hashFile(path); err != nil || got != sum {
				e.warnf("%s: an earlier cnnc compile wrote it and this one does not, but it was edited since; not removed", path)
				continue
			}
		} else if !hasGeneratedHeader(path) {
			continue
		}
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return nil
}

// hasGeneratedHeader reports whether the file's first line is cnnc's
// generated-code header.
func hasGeneratedHeader(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return strings.HasPrefix(line, "// Code generated by cnnc ")
}
