package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/ref"
)

// accuracyReport is what accuracy -json prints.
type accuracyReport struct {
	Spec      string `json:"spec"`
	Precision string `json:"precision"` // compared against fp32
	N         int    `json:"n"`
	Seed      uint64 `json:"seed"`    // of the inputs, and of the weights when Weights is empty
	Weights   string `json:"weights"` // file; empty: random weights of Seed
	Batch     int    `json:"batch"`
	OutputLen int    `json:"output_len"` // values per image
	// Compare is fp32 (a) against Precision (b) over all N images.
	Compare comparison `json:"compare"`
	// Reference is the float64 reference engine (a) against fp32 (b) over
	// the first Reference.N images; absent with -ref 0.
	Reference *comparison `json:"reference,omitempty"`
}

// comparison holds the differences between a, the baseline, and b over n
// images. Errors are over every output value; scale is max |a|.
type comparison struct {
	N         int     `json:"n"`
	Scale     float64 `json:"scale"`
	MaxAbs    float64 `json:"max_abs_err"`
	MaxRel    float64 `json:"max_abs_err_rel_scale"` // MaxAbs / Scale
	MeanAbs   float64 `json:"mean_abs_err"`
	NonFinite int     `json:"non_finite"` // values where a or b is NaN or ±Inf, left out of the errors
	// Top-k agreement, when the output is a vector: K = min(5, its length);
	// K is 0 and the counts 0 otherwise.
	K             int            `json:"k"`
	Top1          int            `json:"top1_agree"`
	TopKSet       int            `json:"topk_set_agree"`     // same k classes
	TopKOrdered   int            `json:"topk_ordered_agree"` // same k classes in the same order
	Disagreements []disagreement `json:"top1_disagreements,omitempty"`
}

// disagreement is an image whose top class differs between a and b, with
// a's margin between its first and second class: a near-tie in a explains
// a flip.
type disagreement struct {
	Image     int     `json:"image"`
	A1        int     `json:"a_top1"`
	A2        int     `json:"a_top2"`
	A1Value   float64 `json:"a_top1_value"`
	A2Value   float64 `json:"a_top2_value"`
	Margin    float64 `json:"a_margin"`           // A1Value − A2Value
	MarginRel float64 `json:"a_margin_rel_scale"` // Margin / Scale
	B1        int     `json:"b_top1"`
}

func init() {
	commands = append(commands, &command{
		name:  "accuracy",
		args:  "spec.yaml [-precision bf16] [-n 200] [-seed S] [-weights W.safetensors] [-batch B] [-json]",
		short: "measure a reduced precision's error against fp32",
		long: `
Accuracy compiles the network twice, as 'cnnc run' does: once in fp32 and
once with -precision, runs both on the same -n random inputs ('cnnc input
-seed S -batch N' writes them) and reports how far the outputs are apart:

  max |a-b|     over every output value, a = fp32, b = -precision
  rel. scale    max |a-b| / max |a|, the fp32 output's scale
  mean |a-b|    over every output value
  top-1         images whose largest output is the same class
  top-5 set     images with the same five largest classes
  top-5 ordered the same five in the same order

and, for each image whose top-1 class differs, fp32's two best classes and
the margin between them (a near-tie flips easily). When the output is not a
vector, only the errors are reported.

As a sanity check it also compares the fp32 build with the float64
reference engine ('cnnc run -engine interp') on the first -ref images: the
fp32 build's own rounding error, which the reduced precision's adds to
(about 1e-5 of the scale for AlexNet, under 1e-6 for LeNet-5).

Without -weights, both builds use the random weights of 'cnnc weights init
-seed S'. -batch is the batch the network is compiled for; the last batch
is padded with zeros, whose outputs are dropped.`,
		nargs: [2]int{1, 1},
		setup: func(fs *flagSet, e *env) func([]string) error {
			precision := precisionFlag(fs, "bf16")
			n := fs.Int("n", 200, "random input images")
			seed := seedFlag(fs)
			weights := weightsFlag(fs)
			batch := batchFlag(fs)
			refN := fs.Int("ref", 4, "compare the fp32 build with the float64 reference on this many images (0: none)")
			asJSON := jsonFlag(fs)
			return func(args []string) error {
				if *n < 1 || *n > maxBatch {
					return usagef("-n must be in [1, %d]", maxBatch)
				}
				if *refN < 0 {
					return usagef("-ref must not be negative")
				}
				rep, err := measureAccuracy(e, args[0], *precision, *n, *seed, *weights, *batch, min(*refN, *n))
				if err != nil {
					return err
				}
				if *asJSON {
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(rep)
				}
				printAccuracy(e.stdout, rep)
				return nil
			}
		},
	})
}

func measureAccuracy(e *env, spec, precision string, n int, seed uint64, weights string, batch, refN int) (*accuracyReport, error) {
	g, err := compiler.Compile(spec, passes.Options{})
	if err != nil {
		return nil, err
	}
	printWarnings(e, g)
	// The network as written, as the interpreter runs it, for the reference:
	// an oracle independent of the optimisation passes. Its weights are
	// checked here, before anything is built.
	gw, err := compiler.Load(spec)
	if err != nil {
		return nil, err
	}
	p, err := loadParams(e, gw, weights, seed)
	if err != nil {
		return nil, err
	}
	tmp, rmTmp, err := tempDir("", "cnnc-accuracy-")
	if err != nil {
		return nil, err
	}
	defer rmTmp()
	wpath, err := weightsFile(g, weights, seed, tmp)
	if err != nil {
		return nil, err
	}
	padded := (n + batch - 1) / batch * batch
	if err := checkBatch(g, padded, "-n"); err != nil {
		return nil, err
	}
	x := params.Input(g, n, seed)
	x = append(x, make([]float32, (padded-n)*g.Input().Shape.Elems())...)
	per := g.Output.Shape.Elems()
	// Two runs even for fp32 against fp32: that must come out exactly equal.
	var outs [2][]float32
	for i, p := range []string{"fp32", precision} {
		y, _, err := runCompiledBatches(e, g, wpath, seed, x, batch, p)
		if err != nil {
			return nil, err
		}
		if len(y) != padded*per {
			return nil, fmt.Errorf("%s build returned %d values, want %d", p, len(y), padded*per)
		}
		outs[i] = y[:n*per]
	}
	k := 0
	if g.Output.Shape.Flat {
		k = min(5, per)
	}
	rep := &accuracyReport{Spec: spec, Precision: precision, N: n, Seed: seed, Weights: weights, Batch: batch, OutputLen: per}
	rep.Compare = compareOutputs(outs[0], outs[1], n, per, k)
	if refN > 0 {
		res, err := ref.Run(gw, p, x[:refN*gw.Input().Shape.Elems()], refN)
		if err != nil {
			return nil, err
		}
		c := compareOutputs(res.Output(gw), outs[0][:refN*per], refN, per, k)
		rep.Reference = &c
	}
	return rep, nil
}

// compareOutputs compares b with a, the baseline: n images of per values
// each, and top-k agreement for k > 0.
func compareOutputs(a, b []float32, n, per, k int) comparison {
	c := comparison{N: n, K: k}
	var sum float64
	finite := 0
	for i := range a[:n*per] {
		x, y := float64(a[i]), float64(b[i])
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			c.NonFinite++
			continue
		}
		finite++
		d := math.Abs(x - y)
		c.MaxAbs = max(c.MaxAbs, d)
		c.Scale = max(c.Scale, math.Abs(x))
		sum += d
	}
	if finite > 0 {
		c.MeanAbs = sum / float64(finite)
	}
	if c.Scale > 0 {
		c.MaxRel = c.MaxAbs / c.Scale
	}
	if k == 0 {
		return c
	}
	for img := range n {
		va, vb := a[img*per:(img+1)*per], b[img*per:(img+1)*per]
		ta, tb := topK(va, max(k, 2)), topK(vb, k)
		if ta[0] == tb[0] {
			c.Top1++
		} else {
			d := disagreement{Image: img, A1: ta[0], A1Value: float64(va[ta[0]]), B1: tb[0]}
			if len(ta) > 1 {
				d.A2, d.A2Value = ta[1], float64(va[ta[1]])
				d.Margin = d.A1Value - d.A2Value
				if c.Scale > 0 {
					d.MarginRel = d.Margin / c.Scale
				}
			}
			c.Disagreements = append(c.Disagreements, d)
		}
		ta = ta[:k]
		if slices.Equal(ta, tb) {
			c.TopKOrdered++
		}
		if slices.Equal(sortedCopy(ta), sortedCopy(tb)) {
			c.TopKSet++
		}
	}
	return c
}

// topK returns the indices of v's k largest values, largest first; ties
// go to the lower index. NaN ranks below every number.
func topK(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		x, y := v[i], v[j]
		switch {
		case x > y || (y != y && x == x):
			return -1
		case x < y || (x != x && y == y):
			return 1
		}
		return 0
	})
	return idx[:min(k, len(v))]
}

func sortedCopy(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func printAccuracy(w io.Writer, r *accuracyReport) {
	wts := "random weights (seed " + fmt.Sprint(r.Seed) + ")"
	if r.Weights != "" {
		wts = "weights " + r.Weights
	}
	fmt.Fprintf(w, "%s: %s against fp32 on %d random inputs (seed %d), %s, batch %d, %d outputs per image\n",
		r.Spec, r.Precision, r.N, r.Seed, wts, r.Batch, r.OutputLen)
	c := r.Compare
	row := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-26s"+format+"\n", append([]any{label}, args...)...)
	}
	row("fp32 output scale max|a|", "%.4g", c.Scale)
	row("max |fp32 - "+r.Precision+"|", "%.2e (%.2e of scale)", c.MaxAbs, c.MaxRel)
	row("mean |fp32 - "+r.Precision+"|", "%.2e", c.MeanAbs)
	if c.NonFinite > 0 {
		row("non-finite values", "%d (left out of the errors)", c.NonFinite)
	}
	if c.K > 0 {
		row("top-1 agreement", "%d/%d", c.Top1, c.N)
		row(fmt.Sprintf("top-%d set agreement", c.K), "%d/%d", c.TopKSet, c.N)
		row(fmt.Sprintf("top-%d ordered agreement", c.K), "%d/%d", c.TopKOrdered, c.N)
		for _, d := range c.Disagreements {
			fmt.Fprintf(w, "  top-1 differs on image %d: fp32 ranks class %d (%.4g) over %d (%.4g), margin %.2e (%.2e of scale); %s picks %d\n",
				d.Image, d.A1, d.A1Value, d.A2, d.A2Value, d.Margin, d.MarginRel, r.Precision, d.B1)
		}
	}
	if c := r.Reference; c != nil {
		fmt.Fprintf(w, "sanity: fp32 against the float64 reference engine on the first %d inputs: max |ref - fp32| %.2e (%.2e of scale), mean %.2e",
			c.N, c.MaxAbs, c.MaxRel, c.MeanAbs)
		if c.K > 0 {
			fmt.Fprintf(w, ", top-1 %d/%d, top-%d set %d/%d", c.Top1, c.N, c.K, c.TopKSet, c.N)
		}
		if c.NonFinite > 0 {
			fmt.Fprintf(w, ", %d non-finite values", c.NonFinite)
		}
		fmt.Fprintln(w)
	}
}
