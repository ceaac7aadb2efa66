package params_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
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

// TestBindNonFinite checks that NaN and ±Inf, in a file's tensors or made by
// folding a batchnorm, are errors that name the tensor, the count and the
// first index, and that they are not looked for in tensors nothing reads.
func TestBindNonFinite(t *testing.T) {
	const spec = "../../spec/resnet_small.yaml"
	folded, err := compiler.Compile(spec, passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	asWritten, err := compiler.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name string
		set  map[string]map[int]float32 // tensor -> index -> value
		want []string                   // for both graphs
		// for the graph as written (batchnorm layers) and with the
		// batchnorms folded into the convolutions
		written, folded string
	}{
		{"in the file", map[string]map[int]float32{
			"stem.weight": {1*27 + 2*9 + 1*3 + 2: nan, 100: -inf, 200: nan}, // [16 3 3 3]
			"b1_bn1.bias": {7: inf},
			"extra":       {0: nan}, // not read: only "not used"
		}, []string{
			`tensor "stem.weight": 3 of 432 values are not finite; the first, at [1 2 1 2], is NaN`,
			`tensor "b1_bn1.bias": 1 of 16 values is not finite: at 7, +Inf`,
		}, "", ""},
		{"variance below -eps", map[string]map[int]float32{"b1_bn1.running_var": {5: -1}}, nil,
			`batchnorm b1_bn1's scale weight/sqrt(running_var + eps): 1 of 16 values is not finite: at 5, NaN`,
			`layer b1_conv1's weights with batchnorm b1_bn1 folded in: 144 of 2304 values are not finite; the first, at [5 0 0 0], is NaN`},
		{"scale beyond float32", map[string]map[int]float32{"b2_bn2.weight": {0: 3e38}, "b2_bn2.running_var": {0: 0}}, nil,
			`batchnorm b2_bn2's scale weight/sqrt(running_var + eps): 1 of 32 values is not finite: at 0, +Inf`,
			`layer b2_conv2's weights with batchnorm b2_bn2 folded in: 288 of 9216 values are not finite; the first, at [0 0 0 0], is `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, g := range []*ir.Graph{asWritten, folded} {
				ts := params.Init(g, 1)
				ts = append(ts, &tensor.Tensor{Name: "extra", Shape: []int{1}, Data: []float32{1}})
				for _, x := range ts {
					for k, v := range tt.set[x.Name] {
						x.Data[k] = v
					}
				}
				_, warns, err := params.Bind(g, file(t, ts))
				if len(warns) != 2 {
					t.Errorf("warnings %q", warns)
				}
				want := append([]string{}, tt.want...)
				if w := []string{tt.written, tt.folded}[i]; w != "" {
					want = append(want, w)
				}
				if err == nil {
					t.Fatalf("no error; want %q", want)
				}
				for _, w := range want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error\n%v\ndoes not say\n%s", err, w)
					}
				}
			}
		})
	}
}
