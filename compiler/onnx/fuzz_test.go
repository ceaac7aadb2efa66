package onnx

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzImport runs the importer on arbitrary bytes: it must return a result
// or an error, never panic, and a result must be consistent. The seeds are
// the small exported models and handcrafted graphs; the corpus of inputs
// that found bugs is in testdata/fuzz/FuzzImport.
func FuzzImport(f *testing.F) {
	for _, name := range []string{"ceil_pool", "avgpool_pad", "view_flatten", "same_stride2", "reducemean_gap", "matmul_add", "dropout_softmax", "softmax_opset11", "lrn_small",
		"gelu", "gelu_tanh", "hardswish_13", "prelu", "broadcast", "const_fold", "shuffle", "convnext_13", "convnext_17"} {
		data, err := os.ReadFile(filepath.Join(modelsDir, name+".onnx"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, b := range []*graphBuilder{
		conv1(8, 8, 3, aStr("auto_pad", "SAME_UPPER"), aInts("strides", 2, 2)),
		pool1("AveragePool", 8, 8, aInts("kernel_shape", 3, 3), aInts("pads", 1, 1, 1, 1), aInt("ceil_mode", 1)),
		newGraph(14, 4, 2, 2).ints("s", []int64{2}, -1, 16).node("Reshape", "r", []string{"x", "s"}, []string{"y"}).output("y"),
		newGraph(13, 3, 8, 8).node("ReduceMean", "m", []string{"x"}, []string{"y"}, aInts("axes", 2, 3)).output("y"),
	} {
		f.Add(b.bytes(f))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import(data, Options{Source: "fuzz.onnx"})
		if err != nil {
			if res != nil {
				t.Fatal("a result and an error")
			}
			return
		}
		if len(res.Spec) == 0 || res.Layers < 1 {
			t.Fatalf("empty result: %+v", res)
		}
		for _, w := range res.Weights {
			if prod(w.Shape) != len(w.Data) {
				t.Fatalf("tensor %s: shape %v, %d values", w.Name, w.Shape, len(w.Data))
			}
		}
	})
}
