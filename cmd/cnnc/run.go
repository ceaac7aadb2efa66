package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/ref"
	"github.com/cnnc/cnnc/compiler/tensor"
)

func init() {
	commands = append(commands, &command{
		name:  "run",
		args:  "spec.yaml [-weights W.safetensors] [-input X.npy | -image pic.png,...] [-output Y.npy]",
		short: "run a network on an input",
		long: `
Run evaluates the network on the images in -input (a float32 .npy of shape
[N, C, H, W]) and writes the last layer's output, [N, ...], to -output. The
output file is written only if the run succeeds.

With -image, the input is instead the listed JPEG or PNG files (separated
by commas), each exactly the network's input size, preprocessed as the
spec's preprocess section declares (see docs/spec.md).

Without -weights, run uses the deterministic random weights of
'cnnc weights init -seed S'; without -input, a random batch of -batch
images ('cnnc input -seed S'). When the output is a vector, run prints the
five largest entries of each image.

-engine compiled (the default) generates the package 'cnnc compile' would,
for a batch of the input's size, builds it with the Go toolchain in a cache
directory keyed by the hash of the generated code (so a second run starts at
once), and runs it. -engine interp runs cnnc's reference engine: plain Go,
one op at a time, float64 accumulation; the oracle the compiled code is
tested against. Both read the same files and print the same report.`,
		nargs: [2]int{1, 1},
		setup: func(fs *flagSet, e *env) func([]string) error {
			weights := weightsFlag(fs)
			input := fs.String("input", "", "input `file` (.npy, [N, C, H, W] float32); default: a random batch")
			images := fs.String("image", "", "JPEG or PNG `files`, comma-separated, of the input's size: the input, preprocessed as the spec says")
			output := fs.String("output", "", "write the output to this .npy `file`")
			engine := fs.String("engine", "compiled", "`engine`: compiled (generated code, built and cached) or interp (the reference engine)")
			seed := seedFlag(fs)
			batch := batchFlag(fs)
			top := fs.Int("top", 5, "print the `k` largest outputs of each image (0: none)")
			precision := precisionFlag(fs, "fp32")
			return func(args []string) error {
				if *engine != "interp" && *engine != "compiled" {
					return usagef("unknown -engine %q (want compiled or interp)", *engine)
				}
				inputs := append([]string{args[0], *weights, *input}, strings.Split(*images, ",")...)
				if err := checkNotInput("-output", *output, inputs...); err != nil {
					return err
				}
				load := compiler.Load // the interpreter runs the network as written
				if *engine == "compiled" {
					load = func(path string) (*ir.Graph, error) { return compiler.Compile(path, passes.Options{}) }
				}
				g, err := load(args[0])
				if err != nil {
					return err
				}
				printWarnings(e, g)
				// Bound the batch before the weights, or anything else, are loaded.
				switch {
				case *images != "":
					err = checkBatch(g, len(strings.Split(*images, ",")), "-image")
				case *input == "":
					err = checkBatch(g, *batch, "-batch")
				}
				if err != nil {
					return err
				}
				// Check the weights here, with the same messages for both engines.
				p, err := loadParams(e, g, *weights, *seed)
				if err != nil {
					return err
				}
				var x []float32
				var n int
				if *images != "" {
					if *input != "" {
						return usagef("-input and -image both give the input: use one")
					}
					x, n, err = loadImages(g, *images)
				} else {
					x, n, err = loadInput(g, *input, *batch, *seed)
				}
				if err != nil {
					return err
				}
				var y []float32
				var elapsed time.Duration
				if *engine == "compiled" {
					y, elapsed, err = runCompiled(e, g, *weights, *seed, x, n, *precision)
				} else {
					start := time.Now()
					var res *ref.Result
					res, err = ref.Run(g, p, x, n)
					if err == nil {
						y = res.Output(g)
					}
					elapsed = time.Since(start)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "cnnc: %s: %d image(s) in %v (%s engine)\n", g.Name, n, elapsed.Round(time.Microsecond), *engine)
				if *top > 0 && g.Output.Shape.Flat {
					printTop(e.stdout, y, n, g.Output.Shape.C, *top)
				}
				if *output != "" {
					shape := append([]int{n}, g.Output.Shape.Dims()...)
					return writeOutput(*output, func(w io.Writer) error {
						return tensor.WriteNpy(w, shape, y)
					})
				}
				return nil
			}
		},
	})
}

// loadParams reads and checks the weights file, or makes random weights.
func loadParams(e *env, g *ir.Graph, path string, seed uint64) (*params.Set, error) {
	if path == "" {
		e.warnf("no -weights: using random weights (seed %d)", seed)
		return params.Effective(g, params.Map(params.Init(g, seed))), nil
	}
	f, err := tensor.LoadSafetensors(path)
	if err != nil {
		return nil, err
	}
	p, warnings, err := params.Bind(g, f)
	for _, w := range warnings {
		e.warnf("%s: %s", path, w)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// maxBatchBytes bounds the input batch a command holds in memory: checkBatch
// refuses a larger one before anything is allocated, so a -batch or
// -image list that asks for too much is an error message, not a process
// killed by the out-of-memory handler. 1 GiB is over 1,700 AlexNet images
// (3x227x227) and 268,435,456 float32s; running a batch takes a few times
// its input's size more (the outputs, the compiled engine's copies).
const maxBatchBytes = 1 << 30

// checkBatch returns a usage error naming flag if n images of g's input, as
// float32s, would take more than maxBatchBytes.
func checkBatch(g *ir.Graph, n int, flag string) error {
	s := g.Input().Shape
	per := 4 * int64(s.Elems())
	if int64(n) <= maxBatchBytes/per {
		return nil
	}
	dims := strings.Trim(strings.ReplaceAll(fmt.Sprint(s.Dims()), " ", "x"), "[]")
	return usagef("%s: a batch of %d images of %s float32s would need %s bytes, over cnnc's limit of 1 GiB (%s bytes) for a batch: at most %d images of %s",
		flag, n, dims, compiler.Group(int64(n)*per), compiler.Group(maxBatchBytes), maxBatchBytes/per, g.Name)
}

// loadInput reads the input batch and checks its shape, or makes a random one.
func loadInput(g *ir.Graph, path string, batch int, seed uint64) ([]float32, int, error) {
	want := g.Input().Shape.Dims()
	if path == "" {
		return params.Input(g, batch, seed), batch, nil
	}
	shape, x, err := tensor.LoadNpy(path)
	if err != nil {
		return nil, 0, err
	}
	if len(shape) != 4 || !slices.Equal(shape[1:], want) || shape[0] < 1 {
		return nil, 0, fmt.Errorf("%s: input has shape %v; %s needs [N %d %d %d]", path, shape, g.Name, want[0], want[1], want[2])
	}
	return x, shape[0], nil
}

// printTop prints the k largest entries of each image's output vector.
func printTop(w io.Writer, y []float32, batch, n, k int) {
	k = min(k, n)
	for b := range batch {
		v := y[b*n : (b+1)*n]
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(i, j int) int {
			switch {
			case v[i] > v[j]:
				return -1
			case v[i] < v[j]:
				return 1
			}
			return 0
		})
		fmt.Fprintf(w, "image %d:", b)
		for _, i := range idx[:k] {
			fmt.Fprintf(w, " %d (%.4g)", i, v[i])
		}
		fmt.Fprintln(w)
	}
}
