package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler/tensor"
)

// TestCompareOutputs checks the metrics on outputs worked out by hand.
func TestCompareOutputs(t *testing.T) {
	a := []float32{
		0.10, 0.40, 0.38, 0.05, 0.02, 0.05, // top-5 1 2 0 3 5
		1, 2, 3, 4, 5, 6, // top-5 5 4 3 2 1
	}
	b := []float32{
		0.10, 0.37, 0.39, 0.05, 0.02, 0.05, // top-5 2 1 0 3 5: top-1 flips, same set
		5.5, 2, 3, 4, 5, 6, // top-5 5 0 4 3 2: same top-1, another set
	}
	c := compareOutputs(a, b, 2, 6, 5)
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-6*math.Abs(want) {
			t.Errorf("%s = %.9g, want %.9g", name, got, want)
		}
	}
	near("scale", c.Scale, 6)
	near("max abs", c.MaxAbs, 4.5)
	near("max rel", c.MaxRel, 0.75)
	near("mean abs", c.MeanAbs, (0.03+0.01+4.5)/12)
	if c.N != 2 || c.K != 5 || c.Top1 != 1 || c.TopKSet != 1 || c.TopKOrdered != 0 || c.NonFinite != 0 {
		t.Errorf("n %d k %d top-1 %d top-5 set %d ordered %d non-finite %d, want 2 5 1 1 0 0", c.N, c.K, c.Top1, c.TopKSet, c.TopKOrdered, c.NonFinite)
	}
	if len(c.Disagreements) != 1 {
		t.Fatalf("disagreements %+v, want image 0 only", c.Disagreements)
	}
	d := c.Disagreements[0]
	if d.Image != 0 || d.A1 != 1 || d.A2 != 2 || d.B1 != 2 {
		t.Errorf("disagreement %+v: want image 0, fp32 1 over 2, other 2", d)
	}
	near("a top-1 value", d.A1Value, 0.40)
	near("a top-2 value", d.A2Value, 0.38)
	near("margin", d.Margin, 0.02)
	near("margin rel", d.MarginRel, 0.02/6)

	// Identical outputs: no error, full agreement, also on exact ties
	// (which must break the same way in both).
	same := []float32{0.25, 0.25, 0.25, 0.25, 0, 0, 0}
	c = compareOutputs(same, same, 1, 7, 5)
	if c.MaxAbs != 0 || c.MeanAbs != 0 || c.Top1 != 1 || c.TopKSet != 1 || c.TopKOrdered != 1 || len(c.Disagreements) != 0 {
		t.Errorf("identical outputs: %+v", c)
	}

	// Non-finite values are counted and left out; outputs that are not
	// vectors (k 0) get errors only.
	c = compareOutputs([]float32{float32(math.NaN()), 1, 2}, []float32{0, 1, 2.5}, 1, 3, 0)
	if c.NonFinite != 1 || c.MaxAbs != 0.5 || c.Scale != 2 || c.MeanAbs != 0.25 || c.Top1 != 0 || c.Disagreements != nil {
		t.Errorf("NaN and k 0: %+v", c)
	}
}

func TestTopK(t *testing.T) {
	nan := float32(math.NaN())
	for _, tt := range []struct {
		v    []float32
		k    int
		want []int
	}{
		{[]float32{3, 1, 2}, 2, []int{0, 2}},
		{[]float32{1, 2, 2, 0}, 3, []int{1, 2, 0}},
		{[]float32{nan, -1, 5}, 3, []int{2, 1, 0}},
		{[]float32{7}, 5, []int{0}},
	} {
		if got := topK(tt.v, tt.k); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("topK(%v, %d) = %v, want %v", tt.v, tt.k, got, tt.want)
		}
	}
}

func accuracyJSON(t *testing.T, args ...string) *accuracyReport {
	t.Helper()
	out, errOut, code := cnnc(t, append([]string{"accuracy", lenet, "-json"}, args...)...)
	if code != 0 {
		t.Fatalf("cnnc accuracy %v: exit %d\n%s%s", args, code, out, errOut)
	}
	var r accuracyReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("cnnc accuracy %v: %v\n%s", args, err, out)
	}
	return &r
}

// TestAccuracyLeNet runs the command on LeNet-5. fp32 against fp32 (two
// builds' runs in two processes, batches padded) must agree exactly and
// match the float64 reference on every image; bf16's figures must be what
// the outputs of 'cnnc run' in both precisions give.
func TestAccuracyLeNet(t *testing.T) {
	const n = 12
	r := accuracyJSON(t, "-precision", "fp32", "-n", "12", "-batch", "5", "-ref", "12", "-seed", "3")
	c := r.Compare
	if r.N != n || r.Batch != 5 || r.Seed != 3 || r.OutputLen != 10 || c.N != n || c.K != 5 {
		t.Errorf("report header %+v", r)
	}
	if c.MaxAbs != 0 || c.MeanAbs != 0 || c.MaxRel != 0 || c.Top1 != n || c.TopKSet != n || c.TopKOrdered != n || len(c.Disagreements) != 0 || c.NonFinite != 0 {
		t.Errorf("fp32 against fp32: %+v, want no error and full agreement", c)
	}
	// LeNet ends in softmax: the scale is a probability.
	if !(c.Scale > 0.1 && c.Scale <= 1) {
		t.Errorf("fp32 output scale %g, want a largest probability in (0.1, 1]", c.Scale)
	}
	ref := r.Reference
	if ref == nil || ref.N != n || ref.Top1 != n || !(ref.MaxRel < 1e-5) || !(ref.MeanAbs <= ref.MaxAbs) {
		t.Errorf("fp32 against the reference: %+v, want %d images within 1e-5 of the scale", ref, n)
	}

	// bf16, against figures worked out here from cnnc run's outputs.
	r = accuracyJSON(t, "-n", "12", "-batch", "12")
	dir := t.TempDir()
	var ys [2][]float32
	for i, p := range []string{"fp32", "bf16"} {
		path := filepath.Join(dir, p+".npy")
		if out, errOut, code := cnnc(t, "run", lenet, "-batch", "12", "-precision", p, "-top", "0", "-output", path); code != 0 {
			t.Fatalf("cnnc run -precision %s: exit %d\n%s%s", p, code, out, errOut)
		}
		var err error
		if _, ys[i], err = tensor.LoadNpy(path); err != nil {
			t.Fatal(err)
		}
	}
	var maxAbs, sum, scale float64
	top1 := 0
	for img := range n {
		argmax := [2]int{}
		for i := range 2 {
			v := ys[i][img*10 : img*10+10]
			for j := range v {
				if v[j] > v[argmax[i]] {
					argmax[i] = j
				}
			}
		}
		if argmax[0] == argmax[1] {
			top1++
		}
	}
	for i := range ys[0] {
		d := math.Abs(float64(ys[0][i]) - float64(ys[1][i]))
		maxAbs, sum, scale = max(maxAbs, d), sum+d, max(scale, math.Abs(float64(ys[0][i])))
	}
	c = r.Compare
	if r.Precision != "bf16" || c.MaxAbs != maxAbs || c.Scale != scale || math.Abs(c.MeanAbs-sum/float64(len(ys[0]))) > 1e-12 || c.Top1 != top1 {
		t.Errorf("bf16 report: max %g scale %g mean %g top-1 %d; from cnnc run: %g %g %g %d", c.MaxAbs, c.Scale, c.MeanAbs, c.Top1, maxAbs, scale, sum/float64(len(ys[0])), top1)
	}
	// bf16 keeps 8 significant bits: the dense layers must have changed
	// the output, but only a little.
	if !(maxAbs > 0 && c.MaxRel < 0.02) {
		t.Errorf("bf16 against fp32: max error %g (%g of the scale), want above 0 and under 2%%", maxAbs, c.MaxRel)
	}
	if c.Top1+len(c.Disagreements) != n || c.TopKOrdered > c.TopKSet || c.TopKSet > n {
		t.Errorf("bf16 counts inconsistent: %+v", c)
	}

	// The text report carries the same figures.
	out, _, code := cnnc(t, "accuracy", lenet, "-n", "12", "-batch", "12", "-ref", "0")
	if code != 0 || !strings.Contains(out, "bf16 against fp32 on 12 random inputs") || !strings.Contains(out, "top-1 agreement") || strings.Contains(out, "sanity") {
		t.Errorf("text report (exit %d):\n%s", code, out)
	}
}

func TestAccuracyFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"accuracy"}, 2, "accuracy takes one argument"},
		{[]string{"accuracy", lenet, "-precision", "fp16"}, 2, "-precision must be fp32 or bf16"},
		{[]string{"accuracy", lenet, "-n", "0"}, 2, "-n must be in [1, 65536]"},
		{[]string{"accuracy", lenet, "-n", "many"}, 2, `invalid value "many" for flag -n`},
		{[]string{"accuracy", lenet, "-batch", "0"}, 2, "-batch must be in [1, 65536]"},
		{[]string{"accuracy", lenet, "-ref", "-1"}, 2, "-ref must not be negative"},
		{[]string{"accuracy", lenet, "-frob"}, 2, "flag provided but not defined: -frob"},
		{[]string{"accuracy", filepath.Join(dir, "missing.yaml")}, 1, "no such file"},
		{[]string{"accuracy", lenet, "-weights", filepath.Join(dir, "none.safetensors")}, 1, "no such file"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := cnnc(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.err) || out != "" {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stderr containing %q", code, tt.code, out, errOut, tt.err)
			}
		})
	}
	if out, _, code := cnnc(t, "help"); code != 0 || !strings.Contains(out, "accuracy   measure a reduced precision") {
		t.Errorf("cnnc help does not list accuracy:\n%s", out)
	}
	if out, _, code := cnnc(t, "help", "accuracy"); code != 0 || !strings.Contains(out, "top-5 ordered") || !strings.Contains(out, "-precision") {
		t.Errorf("cnnc help accuracy:\n%s", out)
	}
}
