package spec

import (
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
