package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestPreprocess(t *testing.T) {
	tests := []struct {
		name, input, pre string
		want             *Preprocess
	}{
		{"none", "[3, 4, 4]", "", nil},
		{"rgb lists", "[3, 4, 4]", "{channels: rgb, scale: 1/255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}",
			&Preprocess{Channels: "rgb", Scale: 1.0 / 255, Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}},
		{"bgr scalars", "[3, 4, 4]", "{channels: bgr, mean: 127.5, std: 128}",
			&Preprocess{Channels: "bgr", Scale: 1, Mean: []float64{127.5, 127.5, 127.5}, Std: []float64{128, 128, 128}}},
		{"gray defaults", "[1, 4, 4]", "{channels: gray}",
			&Preprocess{Channels: "gray", Scale: 1, Mean: []float64{0}, Std: []float64{1}}},
		{"gray list of one", "[1, 4, 4]", "\n  channels: gray\n  scale: 0.00392156862745098\n  mean: [0.286]\n  std: [0.353]",
			&Preprocess{Channels: "gray", Scale: 1.0 / 255, Mean: []float64{0.286}, Std: []float64{0.353}}},
		{"fraction with spaces, negative scale", "[1, 4, 4]", "{channels: gray, scale: -2 / 4e2, mean: -1}",
			&Preprocess{Channels: "gray", Scale: -2 / 4e2, Mean: []float64{-1}, Std: []float64{1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "name: m\ninput: " + tt.input + "\n"
			if tt.pre != "" {
				src += "preprocess: " + tt.pre + "\n"
			}
			src += "layers: [{name: a, op: relu}]\n"
			s, err := Parse("x.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, s.Preprocess, cmpopts.IgnoreFields(Preprocess{}, "Pos", "Fields")); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPreprocessErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"unknown key and missing channels", "input: [3, 4, 4]\npreprocess: {scale: 2, order: rgb}\n",
			[]string{`x.yaml:2:13: preprocess: needs "channels" (rgb, bgr or gray): the order of the input's channels`,
				`x.yaml:2:24: preprocess: unknown field "order" (want channels, scale, mean, std)`}},
		{"bad channels", "input: [3, 4, 4]\npreprocess: {channels: rbg}\n",
			[]string{`x.yaml:2:24: preprocess: channels: want rgb, bgr or gray; got "rbg"`}},
		{"channels against input", "input: [1, 4, 4]\npreprocess: {channels: rgb, mean: [1, 2, 3]}\n",
			[]string{`x.yaml:2:14: preprocess: channels: rgb needs 3 input channels, but input has 1`}},
		{"gray against rgb input", "input: [3, 4, 4]\npreprocess:\n  channels: gray\n",
			[]string{`x.yaml:3:3: preprocess: channels: gray needs 1 input channels, but input has 3`}},
		{"list lengths", "input: [3, 4, 4]\npreprocess: {channels: bgr, mean: [1, 2], std: [1, 2, 3, 4]}\n",
			[]string{`x.yaml:2:35: preprocess: mean: want one number or a list of 3 (one per input channel), got a list of 2`,
				`x.yaml:2:48: preprocess: std: want one number or a list of 3 (one per input channel), got a list of 4`}},
		{"std zero and negative", "input: [3, 4, 4]\npreprocess: {channels: rgb, std: [1, 0, -0.5]}\n",
			[]string{`x.yaml:2:38: preprocess: std: must be positive, got 0`, `x.yaml:2:41: preprocess: std: must be positive, got -0.5`}},
		{"std scalar zero", "input: [1, 4, 4]\npreprocess: {channels: gray, std: 0.0}\n",
			[]string{`x.yaml:2:35: preprocess: std: must be positive, got 0`}},
		{"scale zero", "input: [1, 4, 4]\npreprocess: {channels: gray, scale: 0}\n",
			[]string{`x.yaml:2:37: preprocess: scale: must be a nonzero finite number, got "0"`}},
		{"scale fraction zero", "input: [1, 4, 4]\npreprocess: {channels: gray, scale: 0/3}\n",
			[]string{`x.yaml:2:37: preprocess: scale: must be a nonzero finite number, got "0/3"`}},
		{"bad fraction", "input: [1, 4, 4]\npreprocess: {channels: gray, scale: 1/0, mean: [x], std: .inf}\n",
			[]string{`x.yaml:2:37: preprocess: scale: want a number or a fraction such as 1/255, got "1/0"`,
				`x.yaml:2:49: preprocess: mean: want a number, got the string "x"`,
				`x.yaml:2:58: preprocess: std: ".inf" is not a finite number`}},
		{"not a fraction", "input: [1, 4, 4]\npreprocess: {channels: gray, scale: one half}\n",
			[]string{`x.yaml:2:37: preprocess: scale: want a number or a fraction such as 1/255, got "one half"`}},
		{"wrong kinds", "input: [1, 4, 4]\npreprocess: {channels: [gray], mean: {a: 1}, std: []}\n",
			[]string{`x.yaml:2:24: preprocess: channels: want a string, got a list`,
				`x.yaml:2:38: preprocess: mean: want a number, got a mapping`,
				`x.yaml:2:51: preprocess: std: want one number or a list with one per input channel, got an empty list`}},
		{"not a mapping", "input: [1, 4, 4]\npreprocess: gray\n",
			[]string{`x.yaml:2:13: preprocess: want a mapping with channels and optionally scale, mean, std; got the string "gray"`}},
		{"duplicate key", "input: [1, 4, 4]\npreprocess: {channels: gray, channels: gray}\n",
			[]string{`x.yaml:2:30: preprocess: duplicate key "channels"`}},
		// Inputs beyond float32 (+Inf for every pixel but 0), at the value
		// that puts them there.
		{"subnormal std", "input: [1, 4, 4]\npreprocess: {channels: gray, std: 1e-320}\n",
			[]string{`x.yaml:2:35: preprocess: std: 1e-320 makes the input overflow float32: pixel value 255 gives (255·1 − 0) / 1e-320 = +Inf`}},
		{"tiny std in a list", "input: [3, 4, 4]\npreprocess: {channels: rgb, scale: 1/255, mean: 0.5, std: [0.2, 1e-40, 0.2]}\n",
			[]string{`x.yaml:2:65: preprocess: std: 1e-40 makes the input overflow float32: pixel value 255 of channel 1 gives (255·0.00392156862745098 − 0.5) / 1e-40 = 5e+39`}},
		{"huge mean", "input: [3, 4, 4]\npreprocess: {channels: bgr, mean: [1, -1e300, 1]}\n",
			[]string{`x.yaml:2:39: preprocess: mean: -1e+300 makes the input overflow float32: pixel value 255 of channel 1 gives (255·1 − -1e+300) / 1 = 1e+300`}},
		{"huge scale", "input: [1, 4, 4]\npreprocess: {channels: gray, scale: 1e39, std: 2}\n",
			[]string{`x.yaml:2:37: preprocess: scale: 1e+39 makes the input overflow float32: pixel value 255 gives (255·1e+39 − 0) / 2 = 1.275e+41`}},
		{"scale fraction overflowing", "input: [1, 4, 4]\npreprocess:\n  channels: gray\n  scale: 1e300/1e-8\n",
			[]string{`x.yaml:4:10: preprocess: scale: 1e+308 makes the input overflow float32: pixel value 255 gives (255·1e+308 − 0) / 1 = +Inf`}},
		{"one scalar mean for all channels, reported once", "input: [3, 4, 4]\npreprocess: {channels: rgb, mean: 3.5e38, std: 0.5}\n",
			[]string{`x.yaml:2:35: preprocess: mean: 3.5e+38 makes the input overflow float32: pixel value 255 gives (255·1 − 3.5e+38) / 0.5 = -7e+38`}},
		// Every pixel value the same input: the image cannot matter.
		{"huge std", "input: [1, 4, 4]\npreprocess: {channels: gray, scale: 1/255, std: 1e300}\n",
			[]string{`x.yaml:2:49: preprocess: std: 1e+300 makes every pixel value the same input, (p·0.00392156862745098 − 0) / 1e+300 = 0 for every p from 0 to 255, so the image cannot matter`}},
		{"tiny scale", "input: [1, 4, 4]\npreprocess: {channels: gray, scale: 1e-300, mean: 0.5}\n",
			[]string{`x.yaml:2:37: preprocess: scale: 1e-300 makes every pixel value the same input, (p·1e-300 − 0.5) / 1 = -0.5 for every p from 0 to 255, so the image cannot matter`}},
		{"mean swallowing the pixels", "input: [1, 4, 4]\npreprocess: {channels: gray, mean: [1e20], std: 1e19}\n",
			[]string{`x.yaml:2:37: preprocess: mean: 1e+20 makes every pixel value the same input, (p·1 − 1e+20) / 1e+19 = -10 for every p from 0 to 255, so the image cannot matter`}},
		{"YAML's NaN and infinity", "input: [3, 4, 4]\npreprocess: {channels: rgb, scale: .NaN, mean: [.inf, 0, 0], std: -.Inf}\n",
			[]string{`x.yaml:2:36: preprocess: scale: ".NaN" is not a finite number`,
				`x.yaml:2:49: preprocess: mean: ".inf" is not a finite number`,
				`x.yaml:2:67: preprocess: std: "-.Inf" is not a finite number`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src + "name: m\nlayers: [{name: a, op: relu}]\n"
			_, err := Parse("x.yaml", []byte(src))
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzPreprocess checks that a preprocess section is accepted exactly when
// every pixel value 0..255 of every channel gives a finite float32 input,
// and not the same one for all, as an independent loop over the pixel
// values computes it; and that a refusal has a position.
func FuzzPreprocess(f *testing.F) {
	for _, seed := range [][5]float64{
		{1.0 / 255, 0.485, 0.456, 0.229, 0.224},
		{1, 127.5, 127.5, 50, 60.5},
		{1, 0, 0, 1e-320, 1},
		{1, 1e300, 0, 1, 1},
		{1e39, 0, 0, 1, 1},
		{1e38, 0, 0, 1, 1},
		{1, 0, 0, 1e-36, 1},
		{1, 3.4e38, 0, 1, 1},
		{1e-300, 0.5, 0, 1, 1},
		{1, 0, 0, 1e300, 1},
		{1, 1e20, 0, 1e19, 1},
		{-1, 0, 0, 0, 1},
		{math.Inf(1), 0, 0, 1, 1},
		{1, math.NaN(), 0, 1, 1},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4])
	}
	f.Fuzz(func(t *testing.T, scale, m0, m1, s0, s1 float64) {
		g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		src := fmt.Sprintf("name: m\ninput: [3, 2, 2]\npreprocess: {channels: rgb, scale: %s, mean: [%s, %s, %s], std: [%s, %s, %s]}\nlayers: [{name: a, op: relu}]\n",
			g(scale), g(m0), g(m1), g(m0), g(s0), g(s1), g(s0))
		_, err := Parse("fuzz.yaml", []byte(src))
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml:3:") {
			t.Fatalf("error without a position in the preprocess section: %v\n%s", err, src)
		}
		finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
		ok := finite(scale) && scale != 0 && finite(m0) && finite(m1) && finite(s0) && finite(s1) && s0 > 0 && s1 > 0
		for c := 0; ok && c < 2; c++ {
			mean, std := []float64{m0, m1}[c], []float64{s0, s1}[c]
			first := float32((float64(0*scale) - mean) / std)
			same := true
			for p := range 256 {
				x := float32((float64(float64(p)*scale) - mean) / std)
				ok = ok && !math.IsInf(float64(x), 0) && !math.IsNaN(float64(x))
				same = same && x == first
			}
			ok = ok && !same
		}
		if ok != (err == nil) {
			t.Fatalf("acceptable: %v; Parse: %v\n%s", ok, err, src)
		}
	})
}
