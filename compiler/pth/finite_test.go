package pth

import (
	"math"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/params"
)

// TestMapNonFinite checks that the mapping warns, in its rows and its
// table, about NaN and ±Inf in the tensors it maps, naming them.
func TestMapNonFinite(t *testing.T) {
	sd := mustLoad(t, "testdata/resnet_small.pth")
	g, err := compiler.Load("../../spec/resnet_small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range sd.Tensors {
		switch x.Name {
		case "conv1.weight": // [16 3 3 3]
			x.Data[2*27+1*9+3] = float32(math.NaN())
			x.Data[400] = float32(math.Inf(1))
		case "fc.bias": // as if read from float64 values beyond float32
			x.DType = "float64"
			x.Data[3] = float32(math.Inf(-1))
		}
	}
	_, rows, err := Map(sd, params.Wants(g), nil)
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	for _, r := range rows {
		if r.Warning != "" {
			warned = append(warned, r.Source)
		}
	}
	if strings.Join(warned, " ") != "conv1.weight fc.bias" {
		t.Errorf("warnings for %q, want conv1.weight and fc.bias", warned)
	}
	table := Table(rows)
	for _, want := range []string{
		"conv1.weight [16 3 3 3]                     -> stem.weight\n" +
			"  warning: tensor conv1.weight: 2 of 432 values are not finite; the first, at [2 1 1 0], is NaN\n",
		"fc.bias [10]                                -> fc.bias\n" +
			"  warning: tensor fc.bias: 1 of 10 values is not finite: at 3, -Inf (float64 values beyond float32's range become ±Inf)\n",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}
