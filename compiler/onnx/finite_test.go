package onnx

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestImportNonFinite checks that NaN and ±Inf in the initializers are
// written as they are, with a warning that names the tensor.
func TestImportNonFinite(t *testing.T) {
	b := newGraph(14, 3, 4, 4).weight("W", 4, 3, 3, 3).weight("B", 4).
		node("Conv", "conv", []string{"x", "W", "B"}, []string{"y"}, aInts("kernel_shape", 3, 3)).output("y")
	w := b.g.Initializer[0].FloatData
	w[1*27+2*9+4] = float32(math.NaN())
	w[100] = float32(math.Inf(-1))
	res, err := Import(b.bytes(t), Options{Name: "m"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"the weights are not all finite; cnnc run and the compiled package's Load refuse them:\n" +
		`tensor "conv.weight": 2 of 108 values are not finite; the first, at [1 2 1 1], is NaN`}
	if diff := cmp.Diff(want, res.Warnings); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
	if got := res.Weights[0].Data; !math.IsNaN(float64(got[1*27+2*9+4])) || !math.IsInf(float64(got[100]), -1) {
		t.Errorf("the weights were changed")
	}
}
