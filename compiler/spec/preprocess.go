package spec

import (
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
	node   *yaml.Node // the value, for errors
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
			if v, ok := d.scale(e.valNode); ok {
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
	return p, [2]perChannel{mean, std}
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

// perChannel decodes one number or a non-empty list of numbers.
func (d *decoder) perChannel(n *yaml.Node, key string) perChannel {
	n = d.visit(n)
	if n == nil {
		return perChannel{}
	}
	pc := perChannel{node: n, ok: true}
	if n.Kind != yaml.SequenceNode {
		v, ok := d.number(n, key)
		pc.values, pc.each, pc.ok = []float64{v}, []bool{ok}, ok
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
		pc.values = append(pc.values, v)
		pc.each = append(pc.each, ok)
		pc.ok = pc.ok && ok
	}
	return pc
}
