package params_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/tensor"
)

// file writes ts as safetensors, adds an int64 tensor as PyTorch's
// batchnorm state_dict has, and reads it back.
func file(t *testing.T, ts []*tensor.Tensor) *tensor.File {
	t.Helper()
	var b bytes.Buffer
	if err := tensor.WriteSafetensors(&b, ts, nil); err != nil {
		t.Fatal(err)
	}
	f, err := tensor.ReadSafetensors(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	f.Tensors["b1_bn1.num_batches_tracked"] = &tensor.Tensor{Name: "b1_bn1.num_batches_tracked"}
	f.DTypes["b1_bn1.num_batches_tracked"] = "I64"
	f.Order = append(f.Order, "b1_bn1.num_batches_tracked")
	return f
}

func TestBind(t *testing.T) {
	g, err := compiler.Compile("../../spec/resnet_small.yaml", passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := params.Init(g, 1)
	if _, warns, err := params.Bind(g, file(t, good)); err != nil || len(warns) != 1 || !strings.Contains(warns[0], "num_batches_tracked") {
		t.Fatalf("good file: err %v, warnings %q", err, warns)
	}

	var bad []*tensor.Tensor
	for _, ts := range good {
		switch ts.Name {
		case "stem.weight": // missing
		case "b1_bn1.running_var": // wrong shape
			bad = append(bad, &tensor.Tensor{Name: ts.Name, Shape: []int{3}, Data: make([]float32, 3)})
		default:
			bad = append(bad, ts)
		}
	}
	bad = append(bad, &tensor.Tensor{Name: "extra", Shape: []int{1}, Data: []float32{1}})
	_, warns, err := params.Bind(g, file(t, bad))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`tensor "stem.weight" ([16 3 3 3], for layer stem) is missing`,
		`tensor "b1_bn1.running_var" has shape [3]; layer b1_conv1 needs [16]`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if len(warns) != 2 || !strings.Contains(strings.Join(warns, "\n"), `"extra" is not used`) {
		t.Errorf("warnings %q", warns)
	}
}

// TestInitDependsOnNameOnly checks that a tensor's values depend on the
// seed and its name alone, not on which passes ran or the layer order.
func TestInitDependsOnNameOnly(t *testing.T) {
	a, _ := compiler.Load("../../spec/resnet_small.yaml")
	b, _ := compiler.Compile("../../spec/resnet_small.yaml", passes.Options{})
	ma, mb := params.Map(params.Init(a, 7)), params.Map(params.Init(b, 7))
	if len(ma) != len(mb) {
		t.Fatalf("%d tensors before the passes, %d after", len(ma), len(mb))
	}
	for name, v := range ma {
		w := mb[name]
		if len(v) != len(w) || v[0] != w[0] || v[len(v)-1] != w[len(w)-1] {
			t.Errorf("%s differs", name)
		}
	}
	if c := params.Map(params.Init(a, 8)); c["stem.weight"][0] == ma["stem.weight"][0] {
		t.Error("seed does not change the weights")
	}
}
