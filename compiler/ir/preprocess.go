package ir

import (
	"fmt"
	"strconv"
	"strings"
)

// Preprocess is how 8-bit pixels become the network's input (the spec's
// `preprocess:` section): input channel c of a pixel p is
//
//	x = (p·Scale − Mean[c]) / Std[c]
//
// computed in float64 and rounded once to float32. Channels is "rgb",
// "bgr" or "gray", the order of the input's channels; Mean and Std have one
// entry per input channel.
type Preprocess struct {
	Channels  string
	Scale     float64
	Mean, Std []float64
}

// Apply returns the input value of raw pixel value p in channel c: the
// definition that generated code and tests follow. The explicit float64
// conversion keeps the product from being fused with the subtraction.
func (p *Preprocess) Apply(c int, v uint8) float32 {
	return float32((float64(float64(v)*p.Scale) - p.Mean[c]) / p.Std[c])
}

func (p *Preprocess) String() string {
	list := func(v []float64) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.FormatFloat(x, 'g', -1, 64)
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	return fmt.Sprintf("channels=%s scale=%s mean=%s std=%s", p.Channels, strconv.FormatFloat(p.Scale, 'g', -1, 64), list(p.Mean), list(p.Std))
}
