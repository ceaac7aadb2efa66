package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cnnc/cnnc/compiler/diag"
)

// Preprocess is a spec's optional `preprocess:` section: how 8-bit pixels
// become the network's input. Input channel c of a pixel p is
//
//	x = (p·Scale − Mean[c]) / Std[c]
//
// computed in float64 and rounded once to float32.
type Preprocess struct {
	// Channels names the input's channels in order: "rgb" or "bgr" (three
	// channels) or "gray" (one). Interleaved pixels are read in this order.
	Channels string
	Scale    float64   // applied to the raw 0..255 value; nonzero
	Mean     []float64 // one per input channel
	Std      []float64 // one per input channel, each positive
	Pos      diag.Pos  // the mapping
	Fields   map[string]diag.Pos
}

// The channel orders of a Preprocess.
const (
	ChannelsRGB  = "rgb"
	ChannelsBGR  = "bgr"
	ChannelsGray = "gray"
)

// ChannelCount returns how many input channels a channel order needs, or 0
// for an unknown order.
func ChannelCount(channels string) int {
	switch channels {
	case ChannelsRGB, ChannelsBGR:
		return 3
	case ChannelsGray:
		return 1
	}
	return 0
}

// perChannel is a mean or std as written: one number, or a list whose length
// is checked against the input's channels once both are known.
type perChannel struct {
	node   *yaml.Node   // the value, for errors
	nodes  []*yaml.Node // each number's node, for errors
	list   bool
	values []float64
	each   []bool // whether each value decoded
	ok     bool   // whether all did
}

// preprocess decodes the preprocess mapping. Checks that need the input's
// channel count wait for finishPreprocess.
func (d *decoder) preprocess(n *yaml.Node) (*Preprocess, [2]perChannel) {
	const prefix = "preprocess"
	d.cur = prefix
	defer func() { d.cur = "" }()
	var mean, std perChannel
	var scaleNode *yaml.Node // nil while the scale is the default
	scaleOK := true
	node := d.visit(n)
	if node == nil {
		return nil, [2]perChannel{}
	}
	p := &Preprocess{Scale: 1, Pos: d.pos(node), Fields: map[string]diag.Pos{}}
	if node.Kind != yaml.MappingNode {
		d.errorf(node, "want a mapping with channels and optionally scale, mean, std; got %s", kindName(node))
		return nil, [2]perChannel{}
	}
	for _, e := range d.mapping(node, "preprocess") {
		p.Fields[e.key] = d.pos(e.keyNode)
		switch e.key {
		case "channels":
			v, ok := d.str(e.valNode, "channels")
			if !ok {
				continue
			}
			if ChannelCount(v) == 0 {
				d.errorf(d.visit(e.valNode), "channels: want %s, %s or %s; got %q", ChannelsRGB, ChannelsBGR, ChannelsGray, v)
				continue
			}
			p.Channels = v
		case "scale":
			scaleNode = e.valNode
			var v float64
			if v, scaleOK = d.scale(e.valNode); scaleOK {
				p.Scale = v
			}
		case "mean":
			mean = d.perChannel(e.valNode, "mean")
		case "std":
			std = d.perChannel(e.valNode, "std")
			for i, v := range std.values {
				if !std.each[i] {
					continue // not a number: reported
				}
				if v <= 0 {
					at := std.node
					if std.list {
						at = d.visit(std.node.Content[i])
					}
					d.errorf(at, "std: must be positive, got %g", v)
					std.ok = false
				}
			}
		default:
			d.errorf(e.keyNode, "unknown field %q (want channels, scale, mean, std)", e.key)
		}
	}
	if _, ok := p.Fields["channels"]; !ok {
		d.errorf(node, "needs \"channels\" (%s, %s or %s): the order of the input's channels", ChannelsRGB, ChannelsBGR, ChannelsGray)
	}
	if scaleOK && (mean.node == nil || mean.ok) && (std.node == nil || std.ok) {
		d.checkPixelRange(p.Scale, scaleNode, mean, std, node)
	}
	return p, [2]perChannel{mean, std}
}

// checkPixelRange reports a scale, mean or std with which a pixel value
// gives an input beyond float32 (a huge scale or mean, a tiny or subnormal
// std), or with which every pixel value gives the same input, so that the
// image cannot matter. Channel c's x = (p·scale − mean) / std is computed as
// the generated code computes it; it is monotonic in p, so p = 0 and
// p = 255 give the extremes. The error is at the value most out of scale
// for the fault: for an overflow the largest of 255·|scale|, |mean| and
// 1/std, for a constant input the largest of 1/(255·|scale|), |mean| and
// std; a default value is reported at the preprocess mapping, at. A mean or
// std of one value pairs with each of the other's; lists of different
// lengths are reported by finishPreprocess.
func (d *decoder) checkPixelRange(scale float64, scaleNode *yaml.Node, mean, std perChannel, at *yaml.Node) {
	type value struct {
		name string
		v    float64
		node *yaml.Node
	}
	get := func(name string, pc perChannel, def float64, c int) value {
		switch {
		case pc.node == nil:
			return value{name, def, at}
		case len(pc.values) == 1:
			return value{name, pc.values[0], pc.nodes[0]}
		}
		return value{name, pc.values[c], pc.nodes[c]}
	}
	n := max(len(mean.values), len(std.values), 1)
	if len(mean.values) > 1 && len(std.values) > 1 && len(mean.values) != len(std.values) {
		return
	}
	sc := value{"scale", scale, scaleNode}
	if sc.node == nil {
		sc.node = at
	}
	channel := ""
	reported := map[*yaml.Node]bool{}
	for c := range n {
		if n > 1 {
			channel = fmt.Sprintf(" of channel %d", c)
		}
		m, sd := get("mean", mean, 0, c), get("std", std, 1, c)
		x := func(p float64) (float64, float32) {
			v := (float64(p*scale) - m.v) / sd.v
			return v, float32(v)
		}
		lo64, lo := x(0)
		hi64, hi := x(255)
		formula := func(p string) string {
			return fmt.Sprintf("(%s·%g − %g) / %g", p, scale, m.v, sd.v)
		}
		mag := func(v float64) float64 { return math.Log10(math.Abs(v)) } // -Inf for 0
		var blame value
		var msg string
		switch {
		case math.IsInf(float64(lo), 0) || math.IsInf(float64(hi), 0):
			p, v := 255, hi64
			if !math.IsInf(float64(hi), 0) {
				p, v = 0, lo64
			}
			blame = worst([]value{sc, m, sd}, []float64{mag(255 * scale), mag(m.v), -mag(sd.v)})
			msg = fmt.Sprintf("makes the input overflow float32: pixel value %d%s gives %s = %.4g", p, channel, formula(fmt.Sprint(p)), v)
		case lo == hi:
			blame = worst([]value{sc, m, sd}, []float64{-mag(255 * scale), mag(m.v), mag(sd.v)})
			msg = fmt.Sprintf("makes every pixel value%s the same input, %s = %.4g for every p from 0 to 255, so the image cannot matter", channel, formula("p"), lo)
		default:
			continue
		}
		if !reported[blame.node] {
			reported[blame.node] = true
			d.errorf(blame.node, "%s: %g %s", blame.name, blame.v, msg)
		}
	}
}

// finishPreprocess checks p against the input's channel count c (0 if the
// input is invalid) and expands mean and std to one value per channel.
func (d *decoder) finishPreprocess(p *Preprocess, ms [2]perChannel, c int) {
	d.cur = "preprocess"
	defer func() { d.cur = "" }()
	if p.Channels != "" && c > 0 && ChannelCount(p.Channels) != c {
		d.errs.Add(p.Fields["channels"], d.cur, "channels: %s needs %d input channels, but input has %d", p.Channels, ChannelCount(p.Channels), c)
		c = 0
	}
	for i, key := range []string{"mean", "std"} {
		m := ms[i]
		def := float64(i) // mean 0, std 1
		var vals []float64
		switch {
		case m.node == nil:
			vals = []float64{def}
		case !m.ok:
			continue
		default:
			vals = m.values
		}
		if m.list && c > 0 && len(vals) != c {
			d.errorf(m.node, "%s: want one number or a list of %d (one per input channel), got a list of %d", key, c, len(vals))
			continue
		}
		if c > 0 && len(vals) == 1 {
			for len(vals) < c {
				vals = append(vals, vals[0])
			}
		}
		if i == 0 {
			p.Mean = vals
		} else {
			p.Std = vals
		}
	}
}

// scale decodes a nonzero finite number, written as a number or as a
// fraction "a/b" of two numbers (1/255).
func (d *decoder) scale(n *yaml.Node) (float64, bool) {
	n = d.visit(n)
	if n == nil {
		return 0, false
	}
	var v float64
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		num, den, ok := strings.Cut(n.Value, "/")
		a, err1 := strconv.ParseFloat(strings.TrimSpace(num), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(den), 64)
		if !ok || err1 != nil || err2 != nil || b == 0 {
			d.errorf(n, "scale: want a number or a fraction such as 1/255, got %q", n.Value)
			return 0, false
		}
		v = a / b
	} else {
		var ok bool
		if v, ok = d.number(n, "scale"); !ok {
			return 0, false
		}
	}
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		d.errorf(n, "scale: must be a nonzero finite number, got %q", n.Value)
		return 0, false
	}
	return v, true
}

// worst returns the value with the highest score, the first of equals.
func worst[T any](vals []T, score []float64) T {
	best := 0
	for i := range vals {
		if score[i] > score[best] {
			best = i
		}
	}
	return vals[best]
}

// perChannel decodes one number or a non-empty list of numbers.
func (d *decoder) perChannel(n *yaml.Node, key string) perChannel {
	n = d.visit(n)
	if n == nil {
		return perChannel{}
	}
	pc := perChannel{node: n, ok: true}
	if n.Kind != yaml.SequenceNode {
		v, ok := d.number(n, key)
		pc.values, pc.each, pc.ok, pc.nodes = []float64{v}, []bool{ok}, ok, []*yaml.Node{n}
		return pc
	}
	pc.list = true
	if len(n.Content) == 0 {
		d.errorf(n, "%s: want one number or a list with one per input channel, got an empty list", key)
		pc.ok = false
		return pc
	}
	for _, c := range n.Content {
		v, ok := d.number(c, key)
		pc.nodes = append(pc.nodes, c)
		pc.values = append(pc.values, v)
		pc.each = append(pc.each, ok)
		pc.ok = pc.ok && ok
	}
	return pc
}
