package codegen

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/compiler/ir"
	wg "github.com/cnnc/cnnc/compiler/winograd"
)

// layersFile writes the layers' task functions and the plans that list
// them. With asm false it writes layers.go: every non-GEMM layer, the pure-Go
// GEMM layers and planGo. With asm true it writes layers_amd64.go: the GEMM
// layers of the assembly implementations and their plans.
func (c *gen) layersFile(asm bool) ([]byte, error) {
	var f *jen.File
	if asm {
		f = c.newFile("amd64 && !purego")
	} else {
		f = c.newFile("")
		if err := c.winoFormVars(f); err != nil {
			return nil, fmt.Errorf("codegen: %w", err)
		}
		c.geometry(f)
	}
	for i, im := range impls {
		if im.asm != asm {
			continue
		}
		var steps []jen.Code
		for li, l := range c.layers {
			for _, s := range c.layerSteps(f, l, i, im) {
				steps = append(steps, s.code(li))
			}
		}
		comment(f, fmt.Sprintf("plan%s lists the steps of one inference with the %s kernels.", im.suffix, im.name))
		f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("plan" + im.suffix).Params().Index().Id("rtStep").Block(
			jen.Return(jen.Index().Id("rtStep").Values(steps...)),
		)
	}
	return render(f)
}

// stepLit is one step before its layer index is known.
type stepLit struct {
	first, tasks int
	fn           string
}

func (s stepLit) code(layer int) jen.Code {
	d := jen.Dict{jen.Id("n"): jen.Lit(s.tasks), jen.Id("f"): jen.Id("m").Dot(s.fn), jen.Id("layer"): jen.Lit(layer)}
	if s.first != 0 {
		d[jen.Id("first")] = jen.Lit(s.first)
	}
	return jen.Values(d)
}

// step is {n: tasks, f: m.fn}; the plan adds the layer index.
func step(tasks int, fn string) stepLit { return stepLit{tasks: tasks, fn: fn} }

// actNames are codegen/rt's names of the activation kinds.
var actNames = [...]string{ir.ActNone: "rtActNone", ir.ActReLU: "rtActReLU", ir.ActLeakyReLU: "rtActLeakyReLU",
	ir.ActSigmoid: "rtActSigmoid", ir.ActTanh: "rtActTanh", ir.ActClip: "rtActClip", ir.ActHardSigmoid: "rtActHardSigmoid",
	ir.ActHardSwish: "rtActHardSwish", ir.ActSiLU: "rtActSiLU", ir.ActGELU: "rtActGELU", ir.ActGELUTanh: "rtActGELUTanh"}

var _ = [1]struct{}{}[len(actNames)-int(ir.NumActKinds)]

// act returns the rtAct literal of an activation: rtAct{} for none.
func act(a ir.Activation) jen.Code {
	d := jen.Dict{}
	if a.Kind != ir.ActNone {
		d[jen.Id("Kind")] = jen.Id(actNames[a.Kind])
	}
	if a.Alpha != 0 {
		d[jen.Id("A")] = jen.Lit(float64(a.Alpha))
	}
	if a.Beta != 0 {
		d[jen.Id("B")] = jen.Lit(float64(a.Beta))
	}
	return jen.Id("rtAct").Values(d)
}

// img returns node n's slice for image img (an identifier), or for the whole
// batch if img is "".
func (c *gen) img(n *ir.Node, img string) jen.Code {
	e := n.Shape.Elems()
	base := jen.Id("m").Dot("arena")
	off := n.Buf * c.batch
	if n.Buf < 0 {
		base, off = jen.Id("m").Dot("src"), 0
	}
	if img == "" {
		return base.Index(jen.Lit(off).Op(":").Lit(off + e*c.batch))
	}
	lo := jen.Id(img).Op("*").Lit(e)
	if off > 0 {
		lo = jen.Lit(off).Op("+").Add(lo)
	}
	return base.Index(lo.Op(":").Lit(off + e).Op("+").Id(img).Op("*").Lit(e))
}

// task declares the method fn(w, t int) with body.
func task(f *jen.File, doc, fn string, body ...jen.Code) {
	comment(f, doc)
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id(fn).Params(jen.Id("w"), jen.Id("t").Int()).Block(body...)
}

// layerSteps emits layer l's task functions for implementation i (the
// shared ones only when generating the pure-Go file) and returns its steps.
func (c *gen) layerSteps(f *jen.File, l *layer, i int, im impl) []stepLit {
	n := l.n
	name := n.Name
	shared := !im.asm // shared tasks are emitted once, into layers.go
	doc := fmt.Sprintf("l_%s computes %s: %s %s -> %s.", name, name, n.Op, n.Attrs(), n.Shape)
	B := c.batch
	out := n.Shape
	actC := act(n.Act)
	switch n.Op {
	case ir.OpConv:
		return c.convSteps(f, l, i, im)
	case ir.OpDense:
		return c.denseSteps(f, l, i, im)
	case ir.OpMaxPool, ir.OpAvgPool:
		in := n.Inputs[0].Shape
		if n.PreLRN != nil {
			chunk, tasks := lrnPoolChunk(n)
			if shared {
				task(f, doc+fmt.Sprintf("\nThe LRN before it is computed inside the pooling, for the input rows that\n%d output rows need: one task is those rows of one image.", chunk), c.ident(n, "l"),
					jen.List(jen.Id("img"), jen.Id("oy")).Op(":=").List(jen.Id("t").Op("/").Lit(tasks), jen.Id("t").Op("%").Lit(tasks).Op("*").Lit(chunk)),
					jen.Id("rtLRNPoolRows").Call(c.img(n, "img"), c.img(n.Inputs[0], "img"), jen.Op("&").Id(c.ident(n, "lrn")), jen.Op("&").Id(c.ident(n, "g")),
						jen.Id("oy"), jen.Min(jen.Id("oy").Op("+").Lit(chunk), jen.Lit(out.H)), jen.Id("m").Dot("scratch").Index(jen.Id("w")), jen.Id("m").Dot("tmp").Index(jen.Id("w")), c.kernel("lrn"), c.kernel("maxPool"), actC))
			}
			return []stepLit{step(B*tasks, c.ident(n, "l"))}
		}
		if shared {
			task(f, doc+"\nOne task is one channel of one image.", c.ident(n, "l"),
				jen.List(jen.Id("img"), jen.Id("ch")).Op(":=").List(jen.Id("t").Op("/").Lit(out.C), jen.Id("t").Op("%").Lit(out.C)),
				jen.Id("rtPoolRows").Call(c.img(n, "img"), c.img(n.Inputs[0], "img"), jen.Op("&").Id(c.ident(n, "g")), jen.Lit(0), jen.Lit(in.H),
					jen.Id("ch"), jen.Id("ch").Op("+").Lit(1), jen.Lit(0), jen.Lit(out.H), actC, c.kernel("maxPool")))
		}
		return []stepLit{step(B*out.C, c.ident(n, "l"))}
	case ir.OpLRN:
		hw := out.H * out.W
		if shared {
			task(f, doc+"\nOne task is one row of one image.", c.ident(n, "l"),
				jen.List(jen.Id("img"), jen.Id("y")).Op(":=").List(jen.Id("t").Op("/").Lit(out.H), jen.Id("t").Op("%").Lit(out.H)),
				jen.Id("rtLRN").Call(c.img(n, "img").(*jen.Statement).Index(jen.Id("y").Op("*").Lit(out.W).Op(":")), jen.Lit(hw),
					c.img(n.Inputs[0], "img").(*jen.Statement).Index(jen.Id("y").Op("*").Lit(out.W).Op(":")), jen.Lit(hw), jen.Lit(out.W),
					jen.Op("&").Id(c.ident(n, "lrn")), jen.Id("m").Dot("tmp").Index(jen.Id("w")), c.kernel("lrn")))
		}
		return []stepLit{step(B*out.H, c.ident(n, "l"))}
	case ir.OpFlatten, ir.OpDropout:
		if n.Alias || n.Buf == n.Inputs[0].Buf {
			return nil // shares its input's storage
		}
		if shared {
			task(f, doc, c.ident(n, "l"), jen.Id("img").Op(":=").Id("t"), jen.Copy(c.img(n, "img"), c.img(n.Inputs[0], "img")))
		}
		return []stepLit{step(B, c.ident(n, "l"))}
	}
	// One task per image.
	if shared {
		body := []jen.Code{jen.Id("img").Op(":=").Id("t"), jen.Id("out").Op(":=").Add(c.img(n, "img"))}
		copyIn := func() {
			if !n.Alias {
				body = append(body, jen.Copy(jen.Id("out"), c.img(n.Inputs[0], "img")))
			}
		}
		switch {
		case n.Op.IsActivation():
			a := act(ir.ActivationOf(n))
			copyIn()
			body = append(body, jen.Id("rtActivateAll").Call(jen.Id("out"), a))
		case n.Op == ir.OpSoftmax:
			copyIn()
			body = append(body, jen.Id("rtSoftmax").Call(jen.Id("out"), jen.Lit(out.C), jen.Lit(out.H*out.W)))
		case n.Op == ir.OpPReLU:
			body = append(body, jen.Id("rtPReLU").Call(jen.Id("out"), c.img(n.Inputs[0], "img"), jen.Id("m").Dot(c.ident(n, "w")), jen.Lit(out.H*out.W)))
		case n.Op == ir.OpBatchNorm:
			body = append(body, jen.Id("rtScaleShift").Call(jen.Id("out"), c.img(n.Inputs[0], "img"), jen.Id("m").Dot(c.ident(n, "w")), jen.Id("m").Dot(c.ident(n, "b")), jen.Lit(out.H*out.W), actC))
		case n.Op.Info().Elementwise && len(n.Inputs) > 1:
			// a op b, then (add) + c + ...: the first step reads its
			// operands whole before out, which may be either of them, is
			// written; later ones accumulate into out.
			ops := map[ir.Op]string{ir.OpAdd: "rtOpAdd", ir.OpSub: "rtOpSub", ir.OpMul: "rtOpMul", ir.OpDiv: "rtOpDiv"}
			a := c.img(n.Inputs[0], "img")
			as := bcast(n.Inputs[0].Shape)
			for _, x := range n.Inputs[1:] {
				body = append(body, jen.Id("rtArith").Call(jen.Id("out"), a, c.img(x, "img"), jen.Id(ops[n.Op]),
					jen.Lit(out.C), jen.Lit(out.H), jen.Lit(out.W), as, bcast(x.Shape)))
				a, as = jen.Id("out"), bcast(out)
			}
			if n.Act.Kind != ir.ActNone {
				body = append(body, jen.Id("rtActivateAll").Call(jen.Id("out"), actC))
			}
		case n.Op == ir.OpLayerNorm:
			body = append(body, jen.Id("rtLayerNorm").Call(jen.Id("out"), c.img(n.Inputs[0], "img"), jen.Id("m").Dot(c.ident(n, "w")), jen.Id("m").Dot(c.ident(n, "b")),
				jen.Lit(out.C), jen.Lit(out.H*out.W), jen.Lit(n.BN.Eps)))
		case n.Op == ir.OpSlice:
			hw := out.H * out.W
			body = append(body, jen.Copy(jen.Id("out"), c.img(n.Inputs[0], "img").(*jen.Statement).Index(jen.Lit(n.Slice.Start*hw).Op(":").Lit(n.Slice.End*hw))))
		case n.Op == ir.OpChannelShuffle:
			body = append(body, jen.Id("rtShuffle").Call(jen.Id("out"), c.img(n.Inputs[0], "img"), jen.Lit(out.C), jen.Lit(out.H*out.W), jen.Lit(n.Groups)))
		case n.Op == ir.OpConcat:
			off := 0
			for _, x := range n.Inputs {
				e := x.Shape.Elems()
				body = append(body, jen.Copy(jen.Id("out").Index(jen.Lit(off).Op(":").Lit(off+e)), c.img(x, "img")))
				off += e
			}
			body = append(body, jen.Id("rtActivateAll").Call(jen.Id("out"), actC))
		case n.Op == ir.OpGlobalAvgPool:
			in := n.Inputs[0].Shape
			body = append(body, jen.Id("rtGlobalAvg").Call(jen.Id("out"), c.img(n.Inputs[0], "img"), jen.Lit(in.H*in.W), actC))
		default:
			panic("codegen: no code for op " + n.Op.String())
		}
		task(f, doc+"\nOne task is one image.", c.ident(n, "l"), body...)
	}
	return []stepLit{step(B, c.ident(n, "l"))}
}

// bcast is the rtBcast literal of an operand of shape s of an elementwise
// op: its strides, 0 along broadcast axes.
func bcast(s ir.Shape) jen.Code {
	sc, sh, sw := s.Strides()
	return jen.Id("rtBcast").Values(jen.Lit(sc), jen.Lit(sh), jen.Lit(sw))
}

// geometry declares the read-only geometry of every conv, pooling and LRN.
func (c *gen) geometry(f *jen.File) {
	for _, l := range c.layers {
		n := l.n
		switch n.Op {
		case ir.OpConv:
			if depthwise(n) {
				c.dwGeom(f, l)
				continue
			}
			if l.gemm.wino {
				c.winoGeom(f, l)
				continue
			}
			// The geometry im2col sees: of the padded input (see convSteps).
			a := &n.Conv
			in := n.Inputs[0].Shape
			f.Var().Id(c.ident(n, "g")).Op("=").Id("rtConvGeom").Values(jen.Dict{
				jen.Id("C"): jen.Lit(in.C / a.Groups), jen.Id("H"): jen.Lit(in.H + a.Pad.Top + a.Pad.Bottom), jen.Id("W"): jen.Lit(in.W + a.Pad.Left + a.Pad.Right),
				jen.Id("KH"): jen.Lit(a.KH), jen.Id("KW"): jen.Lit(a.KW), jen.Id("SH"): jen.Lit(a.StrideH), jen.Id("SW"): jen.Lit(a.StrideW),
				jen.Id("DH"): jen.Lit(a.DilH), jen.Id("DW"): jen.Lit(a.DilW), jen.Id("OH"): jen.Lit(n.Shape.H), jen.Id("OW"): jen.Lit(n.Shape.W),
			})
		case ir.OpMaxPool, ir.OpAvgPool:
			a := &n.Pool
			in := n.Inputs[0].Shape
			f.Var().Id(c.ident(n, "g")).Op("=").Id("rtPoolGeom").Values(jen.Dict{
				jen.Id("C"): jen.Lit(in.C), jen.Id("H"): jen.Lit(in.H), jen.Id("W"): jen.Lit(in.W),
				jen.Id("KH"): jen.Lit(a.KH), jen.Id("KW"): jen.Lit(a.KW), jen.Id("SH"): jen.Lit(a.StrideH), jen.Id("SW"): jen.Lit(a.StrideW),
				jen.Id("PT"): jen.Lit(a.Pad.Top), jen.Id("PL"): jen.Lit(a.Pad.Left), jen.Id("OH"): jen.Lit(n.Shape.H), jen.Id("OW"): jen.Lit(n.Shape.W),
				jen.Id("Max"): jen.Lit(n.Op == ir.OpMaxPool), jen.Id("CountPad"): jen.Lit(a.CountPad),
			})
			if n.PreLRN != nil {
				lrnGeom(f, c.ident(n, "lrn"), in.C, n.PreLRN)
			}
		case ir.OpLRN:
			lrnGeom(f, c.ident(n, "lrn"), n.Shape.C, &n.LRN)
		}
	}
}

func lrnGeom(f *jen.File, id string, ch int, a *ir.LRNAttrs) {
	f.Var().Id(id).Op("=").Id("rtLRNGeom").Values(jen.Dict{
		jen.Id("C"): jen.Lit(ch), jen.Id("Size"): jen.Lit(a.Size),
		jen.Id("Alpha"): jen.Lit(float32(a.Alpha / float64(a.Size))), jen.Id("Beta"): jen.Lit(float32(a.Beta)), jen.Id("K"): jen.Lit(float32(a.K)),
	})
}

// kernelCall calls layer l's kernel for the tile at A panel a, B panel b and
// C position dst (slices), choosing the edge variant by the conditions
// lastM and lastN (Go expressions; nil where the layer has no such edge).
func (c *gen) kernelCall(l *layer, i int, im impl, a, b, dst, bias jen.Code, lastM, lastN jen.Code) jen.Code {
	p := l.gemm
	t := p.tile(i)
	call := func(v variant) jen.Code {
		args := []jen.Code{jen.Op("&").Add(a).Index(jen.Lit(0)), jen.Op("&").Add(b).Index(jen.Lit(0)), jen.Op("&").Add(dst).Index(jen.Lit(0))}
		if bias != nil {
			args = append(args, jen.Op("&").Add(bias).Index(jen.Lit(0)))
		}
		return jen.Id(c.kernelName(l, im, v)).Call(args...)
	}
	// Cases from the most specific; the last variant that exists is the
	// default. A variant is missing when its condition cannot hold, or
	// always holds, so the remaining cases still pick the right one.
	conds := map[string]jen.Code{"mn": jen.Add(lastM).Op("&&").Add(lastN), "m": lastM, "n": lastN}
	var exist []variant
	for _, v := range []variant{variants[3], variants[2], variants[1], variants[0]} {
		if p.needed(t, v) {
			exist = append(exist, v)
		}
	}
	if len(exist) == 1 {
		return call(exist[0])
	}
	var cases []jen.Code
	for i, v := range exist {
		if i == len(exist)-1 {
			cases = append(cases, jen.Default().Block(call(v)))
		} else {
			cases = append(cases, jen.Case(conds[v.suffix]).Block(call(v)))
		}
	}
	return jen.Switch().Block(cases...)
}

func (c *gen) convSteps(f *jen.File, l *layer, i int, im impl) []stepLit {
	if depthwise(l.n) {
		return c.dwSteps(f, l, im)
	}
	if l.gemm.wino {
		return c.winoSteps(f, l, i, im)
	}
	n, p := l.n, l.gemm
	t := p.tile(i)
	name := n.Name
	fn := c.ident(n, "l") + "_" + im.suffix
	in := n.Inputs[0].Shape
	nt := t.nTiles
	var body []jen.Code
	if p.G == 1 {
		body = append(body, jen.List(jen.Id("img"), jen.Id("j")).Op(":=").List(jen.Id("t").Op("/").Lit(nt), jen.Id("t").Op("%").Lit(nt)),
			jen.Const().Id("g").Op("=").Lit(0))
	} else {
		body = append(body, jen.List(jen.Id("img"), jen.Id("g"), jen.Id("j")).Op(":=").List(jen.Id("t").Op("/").Lit(p.G*nt), jen.Id("t").Op("/").Lit(nt).Op("%").Lit(p.G), jen.Id("t").Op("%").Lit(nt)))
	}
	var steps []stepLit
	src := c.img(n.Inputs[0], "img")
	plane := in.H * in.W
	if padded(n) {
		a := &n.Conv
		hp, wp := in.H+a.Pad.Top+a.Pad.Bottom, in.W+a.Pad.Left+a.Pad.Right
		chunks := ceilDiv(in.C, padChunk)
		pad := c.ident(n, "pad")
		if !im.asm {
			task(f, fmt.Sprintf("%s copies %s's input into the staging buffer with its padding (%v),\nso that im2col reads no padding: one task is %d channels of one image.", pad, name, a.Pad, padChunk), pad,
				jen.List(jen.Id("img"), jen.Id("c0")).Op(":=").List(jen.Id("t").Op("/").Lit(chunks), jen.Id("t").Op("%").Lit(chunks).Op("*").Lit(padChunk)),
				jen.Id("rtPadPlanes").Call(jen.Id("m").Dot("staging").Index(jen.Id("img").Op("*").Lit(in.C*hp*wp).Op(":")), c.img(n.Inputs[0], "img"),
					jen.Id("c0"), jen.Min(jen.Id("c0").Op("+").Lit(padChunk), jen.Lit(in.C)), jen.Lit(in.H), jen.Lit(in.W), jen.Lit(a.Pad.Top), jen.Lit(a.Pad.Left), jen.Lit(hp), jen.Lit(wp)))
		}
		steps = append(steps, step(c.batch*chunks, pad))
		src = jen.Id("m").Dot("staging").Index(jen.Id("img").Op("*").Lit(in.C * hp * wp).Op(":"))
		plane = hp * wp
	}
	body = append(body,
		jen.Id("src").Op(":=").Add(src).Index(jen.Id("g").Op("*").Lit(in.C/p.G*plane).Op(":")),
		jen.Id("dst").Op(":=").Add(c.img(n, "img")).Index(jen.Id("g").Op("*").Lit(p.M*p.N).Op("+").Id("j").Op("*").Lit(t.NR).Op(":")),
		jen.Id("panel").Op(":=").Id("m").Dot("scratch").Index(jen.Id("w")).Index(jen.Op(":").Lit(p.K*t.NR)),
		jen.Id("rtIm2col").Call(jen.Id("panel"), jen.Id("src"), jen.Op("&").Id(c.ident(n, "g")), jen.Id("j").Op("*").Lit(t.NR), jen.Lit(t.NR), jen.Id("m").Dot("im2col")),
		jen.Id("a").Op(":=").Id("m").Dot(c.ident(n, "w")).Index(jen.Id("g").Op("*").Lit(t.mPanels*t.MR*p.K).Op(":")),
		jen.Id("bias").Op(":=").Id("m").Dot(c.ident(n, "b")).Index(jen.Id("g").Op("*").Lit(p.M).Op(":")),
	)
	actC := act(n.Act)
	var loop jen.Code
	if !im.asm {
		loop = jen.For(jen.Id("p").Op(":=").Range().Lit(t.mPanels)).Block(
			jen.Id("rtGemm").Call(jen.Lit(t.MR), jen.Lit(t.NR), jen.Lit(p.K), jen.Id("a").Index(jen.Id("p").Op("*").Lit(t.MR*p.K).Op(":")), jen.Id("panel"),
				jen.Id("dst").Index(jen.Id("p").Op("*").Lit(t.MR*p.N).Op(":")), jen.Lit(p.N), jen.Id("bias").Index(jen.Id("p").Op("*").Lit(t.MR).Op(":")),
				actC, jen.Min(jen.Lit(t.MR), jen.Lit(p.M).Op("-").Id("p").Op("*").Lit(t.MR)), jen.Min(jen.Lit(t.NR), jen.Lit(p.N).Op("-").Id("j").Op("*").Lit(t.NR))))
	} else {
		loop = jen.For(jen.Id("p").Op(":=").Range().Lit(t.mPanels)).Block(
			c.kernelCall(l, i, im,
				jen.Id("a").Index(jen.Id("p").Op("*").Lit(t.MR*p.K).Op(":")), jen.Id("panel"),
				jen.Id("dst").Index(jen.Id("p").Op("*").Lit(t.MR*p.N).Op(":")), jen.Id("bias").Index(jen.Id("p").Op("*").Lit(t.MR).Op(":")),
				jen.Id("p").Op("==").Lit(t.mPanels-1), jen.Id("j").Op("==").Lit(nt-1)))
	}
	body = append(body, loop)
	if im.asm && !epilogueAct(new(gemm.Config), n.Act) {
		// The kernels apply ReLU and leaky ReLU themselves; others here.
		body = append(body,
			jen.Id("cols").Op(":=").Min(jen.Lit(t.NR), jen.Lit(p.N).Op("-").Id("j").Op("*").Lit(t.NR)),
			jen.For(jen.Id("r").Op(":=").Range().Lit(p.M)).Block(
				jen.Id("rtActivateAll").Call(jen.Id("dst").Index(jen.Id("r").Op("*").Lit(p.N).Op(":").Id("r").Op("*").Lit(p.N).Op("+").Id("cols")), actC)))
	}
	task(f, fmt.Sprintf("%s computes %s (%s %s -> %s) with the %s kernels: per image and group\na GEMM of M=%d filters by N=%d positions by K=%d, in %dx%d tiles; one task\nis one column of tiles: an im2col panel times every filter panel.",
		fn, name, n.Op, n.Attrs(), n.Shape, im.name, p.M, p.N, p.K, t.MR, t.NR), fn, body...)
	return append(steps, step(c.batch*p.G*nt, fn))
}

// padChunk is the number of channels one task of a padding step copies.
const padChunk = 16

// padded reports whether conv n's input is copied, padded, into the staging
// buffer before its im2col.
func padded(n *ir.Node) bool {
	p := n.Conv.Pad
	return p.Top+p.Bottom+p.Left+p.Right > 0
}

// padLen is the staging buffer conv n needs per image: its padded input.
func padLen(n *ir.Node) int {
	if n.Op != ir.OpConv || !padded(n) {
		return 0
	}
	in, p := n.Inputs[0].Shape, n.Conv.Pad
	return in.C * (in.H + p.Top + p.Bottom) * (in.W + p.Left + p.Right)
}

func (c *gen) denseSteps(f *jen.File, l *layer, i int, im impl) []stepLit {
	n, p := l.n, l.gemm
	t := p.tile(i)
	name := n.Name
	fn := c.ident(n, "l") + "_" + im.suffix
	B, U, K := c.batch, p.N, p.K
	var steps []stepLit
	var aSrc jen.Code
	if t.MR == 1 && B == 1 {
		aSrc = c.img(n.Inputs[0], "") // the input vector is its own panel
	} else {
		pack := c.ident(n, "p") + "_" + im.suffix
		task(f, fmt.Sprintf("%s packs %s's input, %d rows at a time, for its GEMM.", pack, name, t.MR), pack,
			jen.Id("rtPackRows").Call(jen.Id("m").Dot("staging").Index(jen.Id("t").Op("*").Lit(t.MR*K).Op(":")), c.img(n.Inputs[0], ""),
				jen.Id("t").Op("*").Lit(t.MR), jen.Min(jen.Lit(t.MR), jen.Lit(B).Op("-").Id("t").Op("*").Lit(t.MR)), jen.Lit(K), jen.Lit(t.MR)))
		steps = append(steps, step(t.mPanels, pack))
		aSrc = jen.Id("m").Dot("staging")
	}
	actC := act(n.Act)
	// One task is one column of tiles (t.NR units) for every panel of
	// images: the column's weights (K×NR, 1.8 MB for AlexNet's fc6) are
	// read from memory once and again from cache for the other panels.
	// With panels outermost, each worker streamed all of the weights
	// once per panel of images.
	inner := []jen.Code{
		jen.Id("a").Op(":=").Add(aSrc).Index(jen.Id("p").Op("*").Lit(t.MR * K).Op(":")),
		jen.Id("dst").Op(":=").Add(c.img(n, "")).Index(jen.Id("p").Op("*").Lit(t.MR * U).Op("+").Id("j").Op("*").Lit(t.NR).Op(":")),
		jen.Id("rows").Op(":=").Min(jen.Lit(t.MR), jen.Lit(B).Op("-").Id("p").Op("*").Lit(t.MR)),
	}
	if im.asm {
		inner = append(inner, c.kernelCall(l, i, im, jen.Id("a"), jen.Id("b"), jen.Id("dst"), nil,
			jen.Id("p").Op("==").Lit(t.mPanels-1), jen.Id("j").Op("==").Lit(t.nTiles-1)))
	} else {
		gemmFn := "rtGemm"
		if c.bf16() {
			gemmFn = "rtGemmBF16"
		}
		inner = append(inner, jen.Id(gemmFn).Call(jen.Lit(t.MR), jen.Lit(t.NR), jen.Lit(K), jen.Id("a"), jen.Id("b"), jen.Id("dst"), jen.Lit(U), jen.Nil(), jen.Id("rtAct").Values(), jen.Id("rows"), jen.Id("cols")))
	}
	inner = append(inner,
		jen.Comment("The bias is per unit, a column here: added after the kernel."),
		jen.For(jen.Id("r").Op(":=").Range().Id("rows")).Block(
			jen.Id("row").Op(":=").Id("dst").Index(jen.Id("r").Op("*").Lit(U).Op(":").Id("r").Op("*").Lit(U).Op("+").Id("cols")),
			jen.For(jen.List(jen.Id("k"), jen.Id("v")).Op(":=").Range().Id("row")).Block(
				jen.Id("row").Index(jen.Id("k")).Op("=").Id("rtActivate").Call(jen.Id("v").Op("+").Id("bias").Index(jen.Id("k")), actC))),
	)
	body := []jen.Code{
		jen.Id("j").Op(":=").Id("t"),
		jen.Id("b").Op(":=").Id("m").Dot(c.ident(n, "w")).Index(jen.Id("j").Op("*").Lit(t.NR * K).Op(":")),
		jen.Id("bias").Op(":=").Id("m").Dot(c.ident(n, "b")).Index(jen.Id("j").Op("*").Lit(t.NR).Op(":")),
		jen.Id("cols").Op(":=").Min(jen.Lit(t.NR), jen.Lit(U).Op("-").Id("j").Op("*").Lit(t.NR)),
		jen.For(jen.Id("p").Op(":=").Range().Lit(t.mPanels)).Block(inner...),
	}
	task(f, fmt.Sprintf("%s computes %s (%s %s -> %s) with the %s kernels: a GEMM of\n%d images by %d units by K=%d in %dx%d tiles; one task is one column of tiles.",
		fn, name, n.Op, n.Attrs(), n.Shape, im.name, B, U, K, t.MR, t.NR), fn, body...)
	return append(steps, step(t.nTiles, fn))
}

// lrnPoolChunk splits a max pooling with a fused LRN into tasks of chunk
// output rows (about 8 tasks per image): bigger chunks recompute fewer of
// the input rows that neighbouring windows share.
func lrnPoolChunk(n *ir.Node) (chunk, tasks int) {
	oh := n.Shape.H
	chunk = ceilDiv(oh, min(oh, 8))
	return chunk, ceilDiv(oh, chunk)
}

// lrnPoolRows is the number of input rows one chunk of lrnPoolChunk covers.
func lrnPoolRows(n *ir.Node) int {
	chunk, _ := lrnPoolChunk(n)
	return min((chunk-1)*n.Pool.StrideH+n.Pool.KH, n.Inputs[0].Shape.H)
}

// winoMinChannels is the fewest input channels per group for which a 3x3
// or 5x5 convolution uses Winograd: below it the transforms cost more than
// the multiplications they save.
const winoMinChannels = 16

// winograd reports whether conv n is computed with Winograd, with which
// filter size r and which output tiles (winoOutSizes). That takes a square filter, equal strides, no dilation and enough
// channels. A stride-1 convolution needs a 3x3 or 5x5 filter. A stride-s
// one runs as the stride-1 convolution of the input's s×s space-to-depth
// (s² times the channels, filters of r = ceil(KH/s) zero-padded to s*r):
// AlexNet's 11x11 stride-4 conv1 becomes 3x3 over 48 channels. That
// computes (s*r)²/KH² more products than the filter has, so an output
// tile size is taken only where Winograd's saving leaves at most
// winoMaxS2D of the direct algorithm's. sizes lists those that qualify;
// winoPlan chooses among them.
func winograd(n *ir.Node) (r int, sizes []int) {
	a := &n.Conv
	s := a.StrideH
	if a.KW != a.KH || a.StrideW != s || a.DilH != 1 || a.DilW != 1 {
		return 0, nil
	}
	r = ceilDiv(a.KH, s)
	if r != 3 && r != 5 || n.Inputs[0].Shape.C/a.Groups*s*s < winoMinChannels || a.Filters/a.Groups < winoMinChannels {
		return 0, nil
	}
	for _, o := range winoOutSizes(r) {
		// Products per output and input channel: s² channels × (o+r-1)²/o²
		// for Winograd's o×o outputs, against KH² directly.
		if s == 1 || float64(s*s*(o+r-1)*(o+r-1))/float64(o*o) <= winoMaxS2D*float64(a.KH*a.KH) {
			sizes = append(sizes, o)
		}
	}
	return r, sizes
}

// winoOutSizes are the output tile sizes cnnc implements for r×r filters:
// F(2x2, 3x3) and F(4x4, 3x3), F(2x2, 5x5), F(3x3, 5x5) and F(4x4, 5x5).
func winoOutSizes(r int) []int {
	if r == 3 {
		return []int{2, 4}
	}
	return []int{2, 3, 4}
}

// winoHand reports whether F(o×o, r×r)'s transforms are hand-written
// (rtWinoInGo and the like, asmgen/vec's winoIn and the like); the other
// forms' come from their matrices (compiler/winograd; rtWinoGenInGo,
// asmgen/vec's generic kernels).
func winoHand(o, r int) bool { return o == 2 || o == 4 && r == 3 }

// winoForms are the forms without hand-written transforms that the
// package's layers use, in a fixed order: a form's index is its
// rtWinoForm.Index, and its variable is winoFormVar's.
func (c *gen) winoForms() []wg.Form {
	var fs []wg.Form
	for _, l := range c.layers {
		if p := l.gemm; p != nil && p.wino && !winoHand(p.o, p.r) {
			if f := (wg.Form{M: p.o, R: p.r}); !slices.Contains(fs, f) {
				fs = append(fs, f)
			}
		}
	}
	slices.SortFunc(fs, func(a, b wg.Form) int { return cmp.Or(a.R-b.R, a.M-b.M) })
	return fs
}

// winoFormVar is the generated variable holding form f's rtWinoForm.
func winoFormVar(f wg.Form) string { return fmt.Sprintf("winoF%dx%d", f.M, f.R) }

// winoFormVars declares the rtWinoForm of every form in winoForms: its
// matrices, exact for the input and output transforms.
func (c *gen) winoFormVars(f *jen.File) error {
	for i, w := range c.winoForms() {
		bt, err := w.BT().Float32()
		if err != nil {
			return err
		}
		at, err := w.AT().Float32()
		if err != nil {
			return err
		}
		lits := func(v []float32) jen.Code {
			var vs []jen.Code
			for _, x := range v {
				vs = append(vs, jen.Lit(float64(x)))
			}
			return jen.Index().Float32().Values(vs...)
		}
		var g []jen.Code
		for _, x := range w.G().Float64() {
			g = append(g, jen.Lit(x))
		}
		f.Comment(fmt.Sprintf("%s is Winograd %v's matrices (compiler/winograd).", winoFormVar(w), w))
		f.Var().Id(winoFormVar(w)).Op("=").Id("rtWinoForm").Values(jen.Dict{
			jen.Id("M"): jen.Lit(w.M), jen.Id("R"): jen.Lit(w.R), jen.Id("Alpha"): jen.Lit(w.Alpha()), jen.Id("Index"): jen.Lit(i),
			jen.Id("BT"): lits(bt), jen.Id("AT"): lits(at), jen.Id("G"): jen.Index().Float64().Values(g...),
		})
	}
	return nil
}

// winoPlan is the Winograd plan of conv n at the batch, or nil if
// Winograd does not compute it: of the output tile sizes winograd allows,
// the one whose GEMMs cost least (winoImgs), the smaller on ties, for its
// accuracy. F(4x4, 3x3) computes 2.25 products per output where F(2x2,
// 3x3) computes 4, but its tiles cover more padding on small maps.
func winoPlan(n *ir.Node, batch int) *gemmPlan {
	r, sizes := winograd(n)
	a := &n.Conv
	s := a.StrideH
	var best *gemmPlan
	cost := 0
	for _, o := range sizes {
		p := &gemmPlan{wino: true, r: r, o: o, s: s, G: a.Groups, M: a.Filters / a.Groups, K: n.Inputs[0].Shape.C / a.Groups * s * s}
		imgs, c := winoImgs(p, batch, winoTiles(n, o))
		p.imgs, p.N = imgs, imgs*winoTiles(n, o)
		if best == nil || c < cost {
			best, cost = p, c
		}
	}
	return best
}

// winoMaxS2D is the largest share of the direct algorithm's products that a
// strided convolution may compute by space-to-depth and Winograd.
const winoMaxS2D = 0.75

// points is the number of Winograd points of plan p, one GEMM each: 16
// for F(2x2, 3x3), 36 for F(4x4, 3x3) and F(2x2, 5x5), 49 for F(3x3, 5x5)
// and 64 for F(4x4, 5x5).
func (p *gemmPlan) points() int { return (p.o + p.r - 1) * (p.o + p.r - 1) }

// winoTileDims are the rows and columns of o×o output tiles of one image
// of conv n (codegen/rt's TH and TW).
func winoTileDims(n *ir.Node, o int) (th, tw int) {
	return ceilDiv(n.Shape.H, o), ceilDiv(n.Shape.W, o)
}

// winoTiles is the number of o×o output tiles of one image of conv n.
func winoTiles(n *ir.Node, o int) int {
	th, tw := winoTileDims(n, o)
	return th * tw
}

// hasWino reports whether any layer uses Winograd.
func (c *gen) hasWino() bool {
	for _, l := range c.layers {
		if l.gemm != nil && l.gemm.wino {
			return true
		}
	}
	return false
}

// hasWinoF reports whether any layer uses Winograd F(o×o, r×r).
func (c *gen) hasWinoF(o, r int) bool {
	for _, l := range c.layers {
		if l.gemm != nil && l.gemm.wino && l.gemm.o == o && l.gemm.r == r {
			return true
		}
	}
	return false
}

// winoNPad is the Winograd GEMMs' column count rounded up to whole panels of
// every implementation's NR, so that V's layout needs one size.
func winoNPad(p *gemmPlan) int {
	l := 1
	for i := range impls {
		nr := p.tile(i).NR
		l = l / gcd(l, nr) * nr
	}
	return ceilDiv(p.N, l) * l
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// winoLdV is the distance between consecutive matrices of V: K×NPad and a
// cache line more, so that the 16 streams the input transform writes do not
// fall into one cache set (K*NPad floats is often a multiple of 4 KiB).
func winoLdV(p *gemmPlan) int { return p.K*winoNPad(p) + 16 }

// winoGroupBytes is how much of the last-level cache a Winograd layer's
// transformed input V may take between the input transform that writes it
// and the GEMMs that read it; a bigger V goes to memory and back.
const winoGroupBytes = 12 << 20

// winoMACsPerByte prices memory traffic in multiply-adds. An AVX-512 core
// does about 3 multiply-adds in the time it streams a byte from memory
// (58.6 G/s against about 20 GB/s on this project's Zen 4), but the
// prefetchers stream V while the GEMMs compute: on AlexNet at batch 32,
// conv4 ran 45 ms with a 38.5 MB V and 48-50 ms in 8-image groups that
// pad its GEMMs by 6% (1 thread), which 1 per byte predicts and 3 does not.
const winoMACsPerByte = 1

// winoImgs is how many images of the batch Winograd plan p computes at a
// time, each of tiles output tiles, and the cost of the whole batch in
// multiply-adds: the divisor of the batch with the least cost, the
// largest on ties. A group's GEMM columns are rounded up to
// whole panels of AVX-512's tile, so small groups waste multiply-adds; a
// group whose V does not fit in winoGroupBytes writes it to memory and
// reads it back, priced at winoMACsPerByte. On AlexNet at batch 32 that
// takes conv1 and conv2 4 images at a time (V of 77 and 87 MB for the
// whole batch) and conv3-5 whole (N = 1568 tiles fits 32-column panels
// exactly, and 8-image groups would pad 6%). Measured (cnnc bench, batch
// 32, 1 thread): conv1 65 -> 57-60 ms, conv2 78-79 -> 73-79 ms.
func winoImgs(p *gemmPlan, batch, tiles int) (imgs, cost int) {
	vImg := 4 * p.points() * p.G * p.K * tiles
	imgs, cost = 1, -1
	for d := 1; d <= batch; d++ {
		if batch%d != 0 {
			continue
		}
		q := *p
		q.N = d * tiles
		t := winoTile(avx512Impl(), &q)
		c := batch / d * ceilDiv(q.M, t[0]) * t[0] * ceilDiv(q.N, t[1]) * t[1] * q.K * q.G * q.points()
		if d*vImg > winoGroupBytes {
			c += 2 * winoMACsPerByte * batch * vImg
		}
		if cost < 0 || c <= cost {
			imgs, cost = d, c
		}
	}
	return imgs, cost
}

// winoLenV is the size of a Winograd layer's transformed input V (points*G
// matrices of K×NPad, winoLdV apart), which the staging buffer holds.
func winoLenV(p *gemmPlan) int { return p.points() * p.G * winoLdV(p) }

// winoSlack is codegen/rt's rtWinoSlack: what the transform kernels may
// read and write past the ends of their data.
const winoSlack = 16

// winoScratch is the per-worker scratch of Winograd layer n under tile t:
// codegen/rt's rtWinoInScratch for the input transform, or
// rtWinoTileScratch for a block of GEMM results and its output transform.
func winoScratch(n *ir.Node, p *gemmPlan, t tile) int {
	th, tw := winoTileDims(n, p.o)
	plane := (p.o*th+p.r-1)*(tw+(p.r-2)/p.o+1) + winoSlack
	in := p.o*plane + (p.o*th+p.r-1)*p.o*p.s*(tw+(p.r-2)/p.o+1) + p.points()*(th*tw+winoSlack)
	return max(in, winoTileOffY(p, t)+p.o*p.o*(t.NR+winoSlack))
}

// winoTileOffY is where, in a worker's scratch, the output transform's rows
// start: after a chunk's panels' blocks of GEMM results, for every point,
// and slack.
func winoTileOffY(p *gemmPlan, t tile) int {
	size, _ := winoChunk(p, t)
	return size*p.points()*t.MR*t.NR + winoSlack
}

// winoChunk is how many panels of filters one fused Winograd task computes:
// enough tasks (about winoTasks) to balance the workers, as few as that
// allows, so that each task reuses its column of V across panels, and no
// more than fit their GEMM results in winoChunkBytes of scratch (L2 holds
// them until the output transform reads them). Measured on AlexNet at
// batch 32 (conv2-5, 1 thread), caps from 64 KiB to unlimited differ by
// less than the noise.
func winoChunk(p *gemmPlan, t tile) (size, chunks int) {
	const winoTasks, winoChunkBytes = 32, 256 << 10
	chunks = min(t.mPanels, ceilDiv(winoTasks, p.G*t.nTiles))
	size = min(ceilDiv(t.mPanels, chunks), max(1, winoChunkBytes/(4*p.points()*t.MR*t.NR)))
	return size, ceilDiv(t.mPanels, size)
}

// winoGeom declares Winograd layer l's geometry, derived fields included
// (C counts the space-to-depth's channels).
func (c *gen) winoGeom(f *jen.File, l *layer) {
	n, p := l.n, l.gemm
	a := &n.Conv
	in := n.Inputs[0].Shape
	actC := act(n.Act)
	th, tw := winoTileDims(n, p.o)
	d := jen.Dict{
		jen.Id("R"): jen.Lit(p.r), jen.Id("O"): jen.Lit(p.o), jen.Id("S"): jen.Lit(p.s), jen.Id("KH"): jen.Lit(a.KH), jen.Id("KW"): jen.Lit(a.KW),
		jen.Id("Imgs"): jen.Lit(p.imgs), jen.Id("C"): jen.Lit(p.G * p.K), jen.Id("H"): jen.Lit(in.H), jen.Id("W"): jen.Lit(in.W),
		jen.Id("PT"): jen.Lit(a.Pad.Top), jen.Id("PL"): jen.Lit(a.Pad.Left), jen.Id("G"): jen.Lit(p.G), jen.Id("K"): jen.Lit(p.K), jen.Id("M"): jen.Lit(p.M),
		jen.Id("OH"): jen.Lit(n.Shape.H), jen.Id("OW"): jen.Lit(n.Shape.W), jen.Id("TH"): jen.Lit(th), jen.Id("TW"): jen.Lit(tw),
		jen.Id("N"): jen.Lit(p.N), jen.Id("NPad"): jen.Lit(winoNPad(p)), jen.Id("Act"): actC,
		jen.Id("ldV"): jen.Lit(winoLdV(p)), jen.Id("inImg"): jen.Lit(in.Elems()), jen.Id("outIm"): jen.Lit(n.Shape.Elems()),
	}
	if !winoHand(p.o, p.r) {
		d[jen.Id("F")] = jen.Op("&").Id(winoFormVar(wg.Form{M: p.o, R: p.r}))
	}
	f.Var().Id(c.ident(n, "g")).Op("=").Id("rtWinoGeom").Values(d)
}

// winoInChunk is the number of channels one task of a Winograd input
// transform handles.
const winoInChunk = 4

// winoSteps emits Winograd layer l's two steps: the input transform into V,
// then the points*G GEMMs fused with the output transform (with bias and
// activation): one task computes, for one column of tiles of one group and
// a chunk of panels of filters, each panel's MR×NR block of all the GEMMs
// into the worker's scratch and transforms it there, so that the GEMMs'
// results never go to memory.
func (c *gen) winoSteps(f *jen.File, l *layer, i int, im impl) []stepLit {
	n, p := l.n, l.gemm
	t := p.tile(i)
	name := n.Name
	wi := c.ident(n, "wi")
	inTasks := ceilDiv(p.G*p.K, winoInChunk)
	groups := c.batch / p.imgs
	// With groups of images, task t of a step is task t%tasks of group
	// t/tasks (the step's first task says which group).
	var img0 jen.Code = jen.Lit(0)
	if groups > 1 {
		img0 = jen.Id("ig").Op("*").Lit(p.imgs)
	}
	if !im.asm {
		doc := fmt.Sprintf("%s is %s's Winograd input transform (V = B^T d B) of %d channels\nof every image: one task.", wi, name, winoInChunk)
		body := []jen.Code{jen.Id("c0").Op(":=").Id("t").Op("*").Lit(winoInChunk)}
		if groups > 1 {
			doc = fmt.Sprintf("%s is %s's Winograd input transform (V = B^T d B) of %d channels\nof a group of %d images: one task.", wi, name, winoInChunk, p.imgs)
			body = []jen.Code{jen.List(jen.Id("ig"), jen.Id("c0")).Op(":=").List(jen.Id("t").Op("/").Lit(inTasks), jen.Id("t").Op("%").Lit(inTasks).Op("*").Lit(winoInChunk))}
		}
		task(f, doc, wi, append(body,
			jen.Id("rtWinoInput").Call(jen.Id("m").Dot("staging"), c.img(n.Inputs[0], ""), jen.Op("&").Id(c.ident(n, "g")),
				jen.Id("c0"), jen.Min(jen.Id("c0").Op("+").Lit(winoInChunk), jen.Lit(p.G*p.K)), img0, tileTable(p, true, jen.Id("m").Dot("impl")), jen.Id("m").Dot("scratch").Index(jen.Id("w")), jen.Op("&").Id("m").Dot("wino")))...)
	}
	fn := c.ident(n, "l") + "_" + im.suffix
	nt := t.nTiles
	size, chunks := winoChunk(p, t)
	block := t.MR * t.NR
	aStep := t.MR * p.K // from ξ to ξ+1 in the packed filters
	gTasks := p.G * nt * chunks
	var body []jen.Code
	if groups > 1 {
		body = append(body, jen.List(jen.Id("ig"), jen.Id("t")).Op(":=").List(jen.Id("t").Op("/").Lit(gTasks), jen.Id("t").Op("%").Lit(gTasks)))
	}
	body = append(body,
		jen.List(jen.Id("grp"), jen.Id("j"), jen.Id("c")).Op(":=").List(jen.Id("t").Op("/").Lit(nt*chunks), jen.Id("t").Op("/").Lit(chunks).Op("%").Lit(nt), jen.Id("t").Op("%").Lit(chunks)),
		jen.Id("s").Op(":=").Id("m").Dot("scratch").Index(jen.Id("w")),
		jen.Id("b").Op(":=").Id("m").Dot("staging").Index(jen.Id("grp").Op("*").Lit(winoLdV(p)).Op("+").Id("j").Op("*").Lit(p.K*t.NR).Op(":")),
	)
	// The output transform's first column, counted over the batch.
	n0 := jen.Id("j").Op("*").Lit(t.NR)
	if groups > 1 {
		n0 = jen.Id("ig").Op("*").Lit(p.N).Op("+").Add(n0)
	}
	var gemm jen.Code
	a := jen.Id("a").Index(jen.Id("xi").Op("*").Lit(aStep).Op(":"))
	bx := jen.Id("b").Index(jen.Id("xi").Op("*").Lit(p.G * winoLdV(p)).Op(":"))
	sx := jen.Id("s").Index(jen.Id("xi").Op("*").Lit(block).Op(":"))
	if !im.asm {
		gemm = jen.Id("rtGemm").Call(jen.Lit(t.MR), jen.Lit(t.NR), jen.Lit(p.K), a, bx, sx, jen.Lit(t.NR), jen.Nil(), jen.Id("rtAct").Values(), jen.Lit(t.MR), jen.Lit(t.NR))
	} else {
		gemm = c.kernelCall(l, i, im, a, bx, sx, nil, jen.False(), jen.False())
	}
	// The chunk's panels p, and panel p's blocks (every point's) in the
	// worker's scratch.
	panels := func() jen.Code {
		return jen.For(jen.Id("p").Op(":=").Id("c").Op("*").Lit(size), jen.Id("p").Op("<").Min(jen.Id("c").Op("*").Lit(size).Op("+").Lit(size), jen.Lit(t.mPanels)), jen.Id("p").Op("++"))
	}
	blocks := func() jen.Code {
		return jen.Id("s").Index(jen.Parens(jen.Id("p").Op("-").Id("c").Op("*").Lit(size)).Op("*").Lit(p.points() * block).Op(":"))
	}
	body = append(body,
		jen.Add(panels()).Block(
			jen.Id("a").Op(":=").Id("m").Dot(c.ident(n, "w")).Index(jen.Parens(jen.Id("grp").Op("*").Lit(t.mPanels).Op("+").Id("p")).Op("*").Lit(p.points()*t.MR*p.K).Op(":")),
			jen.Id("s").Op(":=").Add(blocks()),
			jen.For(jen.Id("xi").Op(":=").Range().Lit(p.points())).Block(gemm)),
		jen.Add(panels()).Block(
			jen.Id("rtWinoOutTile").Call(c.img(n, ""), blocks(), jen.Id("m").Dot(c.ident(n, "b")), jen.Op("&").Id(c.ident(n, "g")),
				jen.Id("grp").Op("*").Lit(p.M).Op("+").Id("p").Op("*").Lit(t.MR), jen.Min(jen.Lit(t.MR), jen.Lit(p.M).Op("-").Id("p").Op("*").Lit(t.MR)),
				jen.Lit(t.NR), jen.Lit(block), n0, jen.Min(jen.Lit(t.NR), jen.Lit(p.N).Op("-").Id("j").Op("*").Lit(t.NR)),
				jen.Id("s").Index(jen.Lit(winoTileOffY(p, t)).Op(":")), jen.Op("&").Id("m").Dot("wino")),
		))
	s2d := ""
	if p.s > 1 {
		s2d = fmt.Sprintf(" of the input's %dx%d space-to-depth", p.s, p.s)
	}
	task(f, fmt.Sprintf("%s computes %s's %dx%d Winograd GEMMs (%s %s -> %s, F(%dx%d, %dx%d)%s)\nwith the %s kernels, fused with the output transform: M=%d filters by N=%d tiles (%d of the\nbatch's %d images) by K=%d channels, in %dx%d blocks; one task is one column of tiles\nof one group and %d panels of filters.",
		fn, name, p.points(), p.G, n.Op, n.Attrs(), n.Shape, p.o, p.o, p.r, p.r, s2d, im.name, p.M, p.N, p.imgs, c.batch, p.K, t.MR, t.NR, size), fn, body...)
	var steps []stepLit
	for ig := range groups {
		steps = append(steps, stepLit{first: ig * inTasks, tasks: inTasks, fn: wi}, stepLit{first: ig * gTasks, tasks: gTasks, fn: fn})
	}
	return steps
}

// avx512Impl is the AVX-512 implementation, whose tiles plans are tuned for.
func avx512Impl() impl {
	for _, im := range impls {
		if im.isa == gemm.AVX512 && im.asm {
			return im
		}
	}
	panic("codegen: no avx512 implementation")
}
