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
// them. With arch "" it writes layers.go: every non-GEMM layer, the pure-Go
// GEMM layers and planGo. With arch amd64 (arm64) it writes layers_amd64.go
// (layers_arm64.go): the GEMM layers of that GOARCH's assembly
// implementations and their plans.
func (c *gen) layersFile(arch string) ([]byte, error) {
	var f *jen.File
	if arch != "" {
		f = c.newFile(archOf(arch).constraint)
	} else {
		f = c.newFile("")
		c.winoFormVars(f)
		c.geometry(f)
	}
	for i, im := range impls {
		if im.arch != arch {
			continue
		}
		var steps []jen.Code
		for li, l := range c.layers {
			c.emitLayer(f, l, i, im)
			for _, s := range l.steps[i] {
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

// code is the rtStep literal of step s of layer number layer.
func (s step) code(layer int) jen.Code {
	d := jen.Dict{jen.Id("n"): jen.Lit(s.tasks), jen.Id("f"): jen.Id("m").Dot(s.fn), jen.Id("layer"): jen.Lit(layer)}
	if s.first != 0 {
		d[jen.Id("first")] = jen.Lit(s.first)
	}
	if s.img {
		d[jen.Id("img")] = jen.True()
	}
	return jen.Values(d)
}

// actNames are codegen/rt's names of the activation kinds.
var actNames = [...]string{ir.ActNone: "rtActNone", ir.ActReLU: "rtActReLU", ir.ActLeakyReLU: "rtActLeakyReLU",
	ir.ActSigmoid: "rtActSigmoid", ir.ActTanh: "rtActTanh", ir.ActClip: "rtActClip", ir.ActHardSigmoid: "rtActHardSigmoid",
	ir.ActHardSwish: "rtActHardSwish", ir.ActSiLU: "rtActSiLU", ir.ActGELU: "rtActGELU", ir.ActGELUTanh: "rtActGELUTanh"}

var _ = [1]struct{}{}[len(actNames)-int(ir.NumActKinds)]

// act returns the rtAct literal of an activation: rtAct{} for none.
func act(a ir.Activation) jen.Code { return jen.Id("rtAct").Values(actDict(a)) }

// actDict is act's fields.
func actDict(a ir.Activation) jen.Dict {
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
	return d
}

// img returns node n's slice for image img (an identifier), or for the whole
// batch if img is "": from the first image's start to the last one's end.
// Images are n.ImgLen apart, which is more than an image's size if n is a
// window on a larger one (a slice viewed in place, ir.Node.Strided), so a
// reader of the whole batch must step by n.ImgLen.
//
// In the image-major prefix (layer.img) a step computes the image of its
// worker's lane, m.lanes[w].img: a task's img (0) counts from it, and the
// whole batch is that image. The prefix's own storage holds only that
// image (Plan.at), in the lane's own copy of it, m.lanes[w].own.
func (c *gen) img(n *ir.Node, img string) jen.Code {
	e := n.Shape.Elems()
	off, l, src := c.at(n)
	base := jen.Id("m").Dot("arena")
	if src {
		base = jen.Id("m").Dot("src")
	}
	prefix := c.cur != nil && c.cur.img
	var i jen.Code
	switch {
	case l == 0 && !prefix:
		panic("codegen: " + n.Name + " is in the image-major prefix's own storage but read after it")
	case !prefix && img == "":
		return base.Index(jen.Lit(off).Op(":").Lit(off + (c.Batch-1)*l + e))
	case l == 0 && img == "":
		return lane("own").Index(jen.Lit(off).Op(":").Lit(off + e))
	case l == 0:
		i, l, base = jen.Id(img), n.ImgLen, lane("own") // img is 0
	case img == "":
		i = lane("img")
	case prefix:
		i = jen.Parens(jen.Id(img).Op("+").Add(lane("img")))
	default:
		i = jen.Id(img)
	}
	lo := jen.Add(i).Op("*").Lit(l)
	if off > 0 {
		lo = jen.Lit(off).Op("+").Add(lo)
	}
	return base.Index(lo.Op(":").Lit(off + e).Op("+").Add(i).Op("*").Lit(l))
}

// stagingBuf is the staging buffer of the layer being written: its worker's
// lane's in the image-major prefix (Model.runPrefix).
func (c *gen) stagingBuf() *jen.Statement {
	if c.cur != nil && c.cur.img {
		return lane("staging")
	}
	return jen.Id("m").Dot("staging")
}

// lane is field of the worker's lane, m.lanes[w], which a task of the
// image-major prefix reads (codegen/rt's rtLane).
func lane(field string) *jen.Statement { return jen.Id("m").Dot("lanes").Index(jen.Id("w")).Dot(field) }

// packRows is the call that packs rows [row0, row0+rows) of src, rows of k
// elements ld apart, into dst (codegen/rt's rtPackRows and rtPackRowsLd).
func packRows(src jen.Code, ld int, dst, row0, rows jen.Code, k, mr int) jen.Code {
	if ld == k {
		return jen.Id("rtPackRows").Call(dst, src, row0, rows, jen.Lit(k), jen.Lit(mr))
	}
	return jen.Id("rtPackRowsLd").Call(dst, src, row0, rows, jen.Lit(k), jen.Lit(ld), jen.Lit(mr))
}

// task declares the method fn(w, t int) with body.
func task(f *jen.File, doc, fn string, body ...jen.Code) {
	comment(f, doc)
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id(fn).Params(jen.Id("w"), jen.Id("t").Int()).Block(body...)
}

// emitLayer emits the task functions of layer l's steps (l.steps) for
// implementation i: the shared ones only into the pure-Go file.
func (c *gen) emitLayer(f *jen.File, l *layer, i int, im impl) {
	c.cur = l
	defer func() { c.cur = nil }()
	n := l.n
	name := n.Name
	shared := !im.asm // shared tasks are emitted once, into layers.go
	doc := fmt.Sprintf("l_%s computes %s: %s %s -> %s.", name, name, n.Op, n.Attrs(), n.Shape)
	out := n.Shape
	actC := act(n.Act)
	switch l.algo {
	case algoNone, algoFused, algoGathered:
		return
	case algoDepthwise:
		c.dwSteps(f, l, im)
		return
	case algoWinograd:
		c.winoSteps(f, l, i, im)
		return
	case algoGEMM:
		c.convSteps(f, l, i, im)
		return
	case algoDense:
		c.denseSteps(f, l, i, im)
		return
	case algoLRNPool:
		chunk := l.chunk
		if shared {
			task(f, doc+fmt.Sprintf("\nThe LRN before it is computed inside the pooling, for the input rows that\n%d output rows need: one task is those rows of one image.", chunk), c.ident(n, "l"),
				chunkStart(l, "oy"),
				jen.Id("rtLRNPoolRows").Call(c.img(n, "img"), c.img(n.Inputs[0], "img"), jen.Op("&").Id(c.ident(n, "lrn")), jen.Op("&").Id(c.ident(n, "g")),
					jen.Id("oy"), jen.Min(jen.Id("oy").Op("+").Lit(chunk), jen.Lit(out.H)), jen.Id("m").Dot("scratch").Index(jen.Id("w")), jen.Id("m").Dot("tmp").Index(jen.Id("w")), c.kernel("lrn"), c.kernel("pooling"), actC))
		}
		return
	case algoPool:
		chunk := l.chunk
		if shared {
			task(f, doc+fmt.Sprintf("\nOne task is %d channels of one image.", chunk), c.ident(n, "l"),
				chunkStart(l, "c0"),
				jen.Id("rtPoolChannels").Call(c.img(n, "img"), c.img(n.Inputs[0], "img"), jen.Op("&").Id(c.ident(n, "g")),
					jen.Id("c0"), jen.Min(jen.Id("c0").Op("+").Lit(chunk), jen.Lit(out.C)), actC, c.kernel("pooling"), jen.Id("m").Dot("scratch").Index(jen.Id("w"))))
		}
		return
	case algoRows:
		hw := out.H * out.W
		if shared {
			task(f, doc+"\nOne task is one row of one image.", c.ident(n, "l"),
				jen.List(jen.Id("img"), jen.Id("y")).Op(":=").List(jen.Id("t").Op("/").Lit(out.H), jen.Id("t").Op("%").Lit(out.H)),
				jen.Id("rtLRN").Call(c.img(n, "img").(*jen.Statement).Index(jen.Id("y").Op("*").Lit(out.W).Op(":")), jen.Lit(hw),
					c.img(n.Inputs[0], "img").(*jen.Statement).Index(jen.Id("y").Op("*").Lit(out.W).Op(":")), jen.Lit(hw), jen.Lit(out.W),
					jen.Op("&").Id(c.ident(n, "lrn")), jen.Id("m").Dot("tmp").Index(jen.Id("w")), c.kernel("lrn")))
		}
		return
	}
	// One task per image.
	if n.Op == ir.OpFlatten || n.Op == ir.OpDropout {
		if shared {
			task(f, doc, c.ident(n, "l"), jen.Id("img").Op(":=").Id("t"), jen.Copy(c.img(n, "img"), c.img(n.Inputs[0], "img")))
		}
		return
	}
	if shared && l.tasks > 0 {
		c.eltChunkTask(f, l, doc)
		return
	}
	if shared {
		body := []jen.Code{jen.Id("img").Op(":=").Id("t"), jen.Id("out").Op(":=").Add(c.img(n, "img"))}
		elt := jen.Op("&").Id("m").Dot("elt") // the elementwise kernels (eltOp)
		copyIn := func() {
			if !n.Alias {
				body = append(body, jen.Copy(jen.Id("out"), c.img(n.Inputs[0], "img")))
			}
		}
		switch {
		case n.Op == ir.OpSoftmax:
			copyIn()
			body = append(body, jen.Id("rtSoftmax").Call(jen.Id("out"), jen.Lit(out.C), jen.Lit(out.H*out.W)))
		case n.Op.Info().Elementwise && len(n.Inputs) > 1:
			// a op b, then (add) + c + ...: the first step reads its
			// operands whole before out, which may be either of them, is
			// written; later ones accumulate into out. The last applies
			// the activation.
			ops := map[ir.Op]string{ir.OpAdd: "rtOpAdd", ir.OpSub: "rtOpSub", ir.OpMul: "rtOpMul", ir.OpDiv: "rtOpDiv"}
			a := c.img(n.Inputs[0], "img")
			as := bcast(n.Inputs[0].Shape)
			for i, x := range n.Inputs[1:] {
				a1 := act(ir.Activation{})
				if i == len(n.Inputs)-2 {
					a1 = actC
				}
				body = append(body, jen.Id("rtArith").Call(jen.Id("out"), a, c.img(x, "img"), jen.Id(ops[n.Op]),
					jen.Lit(out.C), jen.Lit(out.H), jen.Lit(out.W), as, bcast(x.Shape), a1, elt))
				a, as = jen.Id("out"), bcast(out)
			}
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
		default: // eltChunked ops are eltChunkTask's
			panic("codegen: no code for op " + n.Op.String())
		}
		task(f, doc+"\nOne task is one image.", c.ident(n, "l"), body...)
	}
}

// chunkStart declares img and v, the first unit (channel, row) of task
// t of layer l, whose images are split into l.tasks tasks of l.chunk
// units (chunkOf).
func chunkStart(l *layer, v string) jen.Code {
	return jen.List(jen.Id("img"), jen.Id(v)).Op(":=").List(jen.Id("t").Op("/").Lit(l.tasks), jen.Id("t").Op("%").Lit(l.tasks).Op("*").Lit(l.chunk))
}

// eltChunkTask emits the task of an eltChunked layer: chunk channels of
// one image, or for layernorm chunk positions of every channel.
func (c *gen) eltChunkTask(f *jen.File, l *layer, doc string) {
	n, out, in := l.n, l.n.Shape, l.n.Inputs[0].Shape
	elt := jen.Op("&").Id("m").Dot("elt")
	units, _ := eltUnits(n)
	body := []jen.Code{
		chunkStart(l, "u0"),
		jen.Id("u1").Op(":=").Min(jen.Id("u0").Op("+").Lit(l.chunk), jen.Lit(units)),
	}
	// part is channels [u0, u1) of x's image, of per elements each.
	part := func(x *ir.Node, per int) jen.Code {
		return c.img(x, "img").(*jen.Statement).Index(jen.Id("u0").Op("*").Lit(per).Op(":").Id("u1").Op("*").Lit(per))
	}
	hw := in.H * in.W
	what := "channels"
	w := func(field string) jen.Code {
		return jen.Id("m").Dot(c.ident(n, field)).Index(jen.Id("u0").Op(":").Id("u1"))
	}
	switch {
	case n.Op.IsActivation():
		body = append(body, jen.Id("rtActivateTo").Call(part(n, hw), part(n.Inputs[0], hw), act(ir.ActivationOf(n)), elt))
	case n.Op == ir.OpBatchNorm:
		body = append(body, jen.Id("rtScaleShift").Call(part(n, hw), part(n.Inputs[0], hw), w("w"), w("b"), jen.Lit(hw), act(n.Act), elt))
	case n.Op == ir.OpPReLU:
		slope := w("w")
		if n.Shared {
			slope = jen.Id("m").Dot(c.ident(n, "w"))
		}
		body = append(body, jen.Id("rtPReLU").Call(part(n, hw), part(n.Inputs[0], hw), slope, jen.Lit(hw)))
	case n.Op == ir.OpGlobalAvgPool:
		body = append(body, jen.Id("rtGlobalAvg").Call(part(n, 1), part(n.Inputs[0], hw), jen.Lit(hw), act(n.Act), elt))
	case n.Op == ir.OpLayerNorm:
		what = "positions"
		body = append(body, jen.Id("rtLayerNorm").Call(c.img(n, "img"), c.img(n.Inputs[0], "img"), jen.Id("m").Dot(c.ident(n, "w")), jen.Id("m").Dot(c.ident(n, "b")),
			jen.Lit(out.C), jen.Lit(out.H*out.W), jen.Id("u0"), jen.Id("u1"), jen.Lit(n.BN.Eps), elt))
	default:
		panic("codegen: no chunked code for op " + n.Op.String())
	}
	task(f, doc+fmt.Sprintf("\nOne task is %d %s of one image.", l.chunk, what), c.ident(n, "l"), body...)
}

// eltOp reports whether layer l calls the elementwise kernels (the kind
// elt): an activation, a batchnorm or arithmetic of its own, a global
// average pooling or a layernorm.
func eltOp(l *layer) bool {
	n := l.n
	return l.algo == algoImage && (n.Op.IsActivation() || n.Op == ir.OpBatchNorm || n.Op == ir.OpGlobalAvgPool || n.Op == ir.OpLayerNorm || n.Op.Info().Elementwise && len(n.Inputs) > 1)
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
func (c *gen) kernelCall(l *layer, i int, im impl, kb kblock, a, b, dst, bias jen.Code, lastM, lastN jen.Code) jen.Code {
	p := l.gemm
	t := p.tile(i)
	call := func(v variant) jen.Code {
		args := []jen.Code{jen.Op("&").Add(a).Index(jen.Lit(0)), jen.Op("&").Add(b).Index(jen.Lit(0)), jen.Op("&").Add(dst).Index(jen.Lit(0))}
		if bias != nil {
			args = append(args, jen.Op("&").Add(bias).Index(jen.Lit(0)))
		}
		return jen.Id(c.kernelName(l, im, v, kb)).Call(args...)
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

func (c *gen) convSteps(f *jen.File, l *layer, i int, im impl) {
	n, p := l.n, l.gemm
	t := p.tile(i)
	name := n.Name
	fn := c.ident(n, "l") + "_" + im.suffix
	in := n.Inputs[0].Shape
	nt := t.nTiles
	size, chunks := gemmChunk(p, t, l.batch, im)
	// taskIndex splits task t into its image, group, chunk of filter
	// panels (ch, where chunks > 1) and column of tiles j, in that order
	// from the outermost; with blocks of columns (tile.pack), its block
	// jb instead of j.
	taskIndex := func(chunks int, blocks bool) jen.Code {
		nt, j := nt, jen.Id("j")
		if blocks {
			nt, j = t.blocks(), jen.Id("jb")
		}
		switch {
		case chunks > 1 && p.G == 1:
			return jen.List(jen.Id("img"), jen.Id("ch"), j).Op(":=").List(jen.Id("t").Op("/").Lit(chunks*nt), jen.Id("t").Op("/").Lit(nt).Op("%").Lit(chunks), jen.Id("t").Op("%").Lit(nt)).Line().Const().Id("g").Op("=").Lit(0)
		case chunks > 1:
			return jen.List(jen.Id("img"), jen.Id("g"), jen.Id("ch"), j).Op(":=").List(jen.Id("t").Op("/").Lit(p.G*chunks*nt), jen.Id("t").Op("/").Lit(chunks*nt).Op("%").Lit(p.G), jen.Id("t").Op("/").Lit(nt).Op("%").Lit(chunks), jen.Id("t").Op("%").Lit(nt))
		case p.G == 1:
			return jen.List(jen.Id("img"), j).Op(":=").List(jen.Id("t").Op("/").Lit(nt), jen.Id("t").Op("%").Lit(nt)).Line().Const().Id("g").Op("=").Lit(0)
		}
		return jen.List(jen.Id("img"), jen.Id("g"), j).Op(":=").List(jen.Id("t").Op("/").Lit(p.G*nt), jen.Id("t").Op("/").Lit(nt).Op("%").Lit(p.G), jen.Id("t").Op("%").Lit(nt))
	}
	blocks := t.pack > 1
	body := []jen.Code{taskIndex(chunks, blocks)}
	src := c.img(n.Inputs[0], "img")
	plane := in.H * in.W
	filters := jen.Id("m").Dot(c.ident(n, "w"))
	if l.gate != nil {
		// A multiply by a per-channel factor folded into the filters
		// (Plan.channelScales): each image's are scaled first, into the
		// staging buffer. The multiply was in place over its input, so src
		// is that input.
		per := p.packedFilters(t)
		sc := c.ident(n, "s") + "_" + im.suffix
		task(f, fmt.Sprintf("%s scales %s's filters by %s's factors for one image (the multiply\n%s, folded into them): one task is one image.", sc, name, l.gate.Name, n.Inputs[0].Name), sc,
			jen.Id("img").Op(":=").Id("t"),
			jen.Id("rtScalePanels").Call(c.stagingBuf().Index(jen.Id("img").Op("*").Lit(per).Op(":").Parens(jen.Id("img").Op("+").Lit(1)).Op("*").Lit(per)),
				jen.Id("m").Dot(c.ident(n, "w")), c.img(l.gate, "img"), jen.Lit(p.G), jen.Lit(t.mPanels), jen.Lit(t.MR), jen.Lit(p.K), jen.Lit(n.Conv.KH*n.Conv.KW)))
		filters = c.stagingBuf().Index(jen.Id("img").Op("*").Lit(per).Op(":"))
	}
	if padded(n) {
		a := &n.Conv
		hp, wp := in.H+a.Pad.Top+a.Pad.Bottom, in.W+a.Pad.Left+a.Pad.Right
		chunk, chunks := l.chunk, l.tasks
		pad := c.ident(n, "pad")
		if !im.asm {
			task(f, fmt.Sprintf("%s copies %s's input into the staging buffer with its padding (%v),\nso that im2col reads no padding: one task is %d channels of one image.", pad, name, a.Pad, chunk), pad,
				jen.List(jen.Id("img"), jen.Id("c0")).Op(":=").List(jen.Id("t").Op("/").Lit(chunks), jen.Id("t").Op("%").Lit(chunks).Op("*").Lit(chunk)),
				jen.Id("rtPadPlanes").Call(c.stagingBuf().Index(jen.Id("img").Op("*").Lit(in.C*hp*wp).Op(":")), c.img(n.Inputs[0], "img"),
					jen.Id("c0"), jen.Min(jen.Id("c0").Op("+").Lit(chunk), jen.Lit(in.C)), jen.Lit(in.H), jen.Lit(in.W), jen.Lit(a.Pad.Top), jen.Lit(a.Pad.Left), jen.Lit(hp), jen.Lit(wp)))
		}
		src = c.stagingBuf().Index(jen.Id("img").Op("*").Lit(in.C * hp * wp).Op(":"))
		plane = hp * wp
	}
	srcDecl := jen.Id("src").Op(":=").Add(src).Index(jen.Id("g").Op("*").Lit(in.C / p.G * plane).Op(":"))
	bSrc := bSourceOf(p, t, l.batch, im)
	if bSrc != bStaged {
		body = append(body, srcDecl)
	}
	// Where a task takes a block of columns, what follows is per column.
	perColumn := len(body)
	body = append(body, jen.Id("dst").Op(":=").Add(c.img(l.out(), "img")).Index(jen.Id("g").Op("*").Lit(p.M*p.N).Op("+").Id("j").Op("*").Lit(t.NR).Op(":")))
	// pack packs column j's im2col panel of src into dst.
	pack := func(dst jen.Code) jen.Code {
		return jen.Id("rtIm2col").Call(dst, jen.Id("src"), jen.Op("&").Id(c.ident(n, "g")), jen.Id("j").Op("*").Lit(t.NR), jen.Lit(t.NR), jen.Id("m").Dot("im2col"))
	}
	im2col := func(op string) []jen.Code {
		return []jen.Code{jen.Id("panel").Op(op).Id("m").Dot("scratch").Index(jen.Id("w")).Index(jen.Op(":").Lit(p.K * t.NR)), pack(jen.Id("panel"))}
	}
	switch bSrc {
	case bInPlace:
		// The kernels read every tile's B in place (gemm.Config.LDB).
		body = append(body, jen.Id("panel").Op(":=").Id("src").Index(jen.Id("j").Op("*").Lit(t.NR).Op(":")))
	case bStaged:
		off, _ := stagedB(l, t, l.batch)
		column := jen.Id("img").Op("*").Lit(nt).Op("+").Id("j")
		if p.G > 1 {
			column = jen.Parens(jen.Id("img").Op("*").Lit(p.G).Op("+").Id("g")).Op("*").Lit(nt).Op("+").Id("j")
		}
		at := jen.Parens(column).Op("*").Lit(p.K * t.NR)
		if off > 0 {
			at = jen.Lit(off).Op("+").Add(at)
		}
		panel := c.stagingBuf().Index(at.Op(":"))
		pk := c.ident(n, "pk") + "_" + im.suffix
		task(f, fmt.Sprintf("%s packs %s's im2col panels into the staging buffer for %s: one task\nis one column of tiles of one image and group.", pk, name, fn), pk,
			taskIndex(1, false), srcDecl, pack(panel))
		body = append(body, jen.Id("panel").Op(":=").Add(panel))
	case bInPlaceButRagged:
		// In place but for the ragged last column, whose whole-vector
		// loads would run past the caller's input: that one is packed.
		body = append(body, jen.Id("panel").Op(":=").Id("src").Index(jen.Id("j").Op("*").Lit(t.NR).Op(":")),
			jen.If(jen.Id("j").Op("==").Lit(nt-1)).Block(im2col("=")...))
	case bPack:
		if blocks {
			body = append(body, jen.Id("panel").Op(":=").Id("blk").Index(jen.Parens(jen.Id("j").Op("-").Id("jb").Op("*").Lit(t.pack)).Op("*").Lit(t.NR).Op(":")))
			break
		}
		fallthrough
	default:
		body = append(body, im2col(":=")...)
	}
	body = append(body,
		jen.Id("a").Op(":=").Add(filters).Index(jen.Id("g").Op("*").Lit(t.mPanels*t.MR*p.K).Op(":")),
		jen.Id("bias").Op(":=").Id("m").Dot(c.ident(n, "b")).Index(jen.Id("g").Op("*").Lit(p.M).Op(":")),
	)
	// The panels of filters, and the rows of the output, of this task.
	panels := jen.For(jen.Id("p").Op(":=").Range().Lit(t.mPanels))
	rows := jen.For(jen.Id("r").Op(":=").Range().Lit(p.M))
	if chunks > 1 {
		body = append(body, jen.List(jen.Id("p0"), jen.Id("p1")).Op(":=").List(jen.Id("ch").Op("*").Lit(size), jen.Min(jen.Id("ch").Op("*").Lit(size).Op("+").Lit(size), jen.Lit(t.mPanels))))
		panels = jen.For(jen.Id("p").Op(":=").Id("p0"), jen.Id("p").Op("<").Id("p1"), jen.Id("p").Op("++"))
		rows = jen.For(jen.Id("r").Op(":=").Id("p0").Op("*").Lit(t.MR), jen.Id("r").Op("<").Min(jen.Id("p1").Op("*").Lit(t.MR), jen.Lit(p.M)), jen.Id("r").Op("++"))
	}
	actC := act(l.act())
	copyRes := l.sum != nil && !l.inPlace()
	goAct := im.asm && !epilogueAct(new(gemm.Config), l.act())
	if copyRes || goAct {
		// The tile's columns, which both read.
		body = append(body, jen.Id("cols").Op(":=").Min(jen.Lit(t.NR), jen.Lit(p.N).Op("-").Id("j").Op("*").Lit(t.NR)))
	}
	if l.sum != nil {
		// The kernels add C: a residual add fused into the epilogue
		// (Plan.residualAdds). C holds the residual already when the add
		// is in place over it; otherwise this tile's share is copied in.
		d := actDict(l.act())
		d[jen.Id("Add")] = jen.True()
		actC = jen.Id("rtAct").Values(d)
		if copyRes {
			body = append(body,
				jen.Id("res").Op(":=").Add(c.img(l.res, "img")).Index(jen.Id("g").Op("*").Lit(p.M*p.N).Op("+").Id("j").Op("*").Lit(t.NR).Op(":")),
				rows.Clone().Block(
					jen.Copy(jen.Id("dst").Index(jen.Id("r").Op("*").Lit(p.N).Op(":").Id("r").Op("*").Lit(p.N).Op("+").Id("cols")),
						jen.Id("res").Index(jen.Id("r").Op("*").Lit(p.N).Op(":").Id("r").Op("*").Lit(p.N).Op("+").Id("cols")))))
		}
	}
	taskB, taskA, taskCols := "an im2col panel", "every filter panel", "one column of tiles"
	if blocks {
		taskB, taskCols = "their im2col panel, packed at once,", fmt.Sprintf("a block of %d columns of tiles", t.pack)
	}
	switch bSrc {
	case bInPlace, bInPlaceButRagged:
		taskB = "the input, read in place,"
	case bStaged:
		taskB = "its im2col panel, staged,"
	}
	if chunks > 1 {
		taskA = fmt.Sprintf("a chunk of %d of the %d filter panels", size, t.mPanels)
	}
	var loop jen.Code
	if !im.asm {
		loop = panels.Block(
			jen.Id("rtGemm").Call(jen.Lit(t.MR), jen.Lit(t.NR), jen.Lit(p.K), jen.Id("a").Index(jen.Id("p").Op("*").Lit(t.MR*p.K).Op(":")), jen.Id("panel"),
				jen.Id("dst").Index(jen.Id("p").Op("*").Lit(t.MR*p.N).Op(":")), jen.Lit(p.N), jen.Id("bias").Index(jen.Id("p").Op("*").Lit(t.MR).Op(":")),
				actC, jen.Min(jen.Lit(t.MR), jen.Lit(p.M).Op("-").Id("p").Op("*").Lit(t.MR)), jen.Min(jen.Lit(t.NR), jen.Lit(p.N).Op("-").Id("j").Op("*").Lit(t.NR))))
	} else {
		// The K blocks, each over every panel of filters (see
		// kBlocking); block kb's part of B is kb*kc rows down.
		ldb := p.ldbOf(bSrc, t, false) // (K blocks are never bInPlaceButRagged)
		call := func(kb kblock, k0 jen.Code) jen.Code {
			a := jen.Id("p").Op("*").Lit(t.MR * p.K)
			b := jen.Id("panel")
			var bias jen.Code
			switch kb {
			case kWhole, kFirst:
				bias = jen.Id("bias").Index(jen.Id("p").Op("*").Lit(t.MR).Op(":"))
			default:
				a = a.Op("+").Add(k0).Op("*").Lit(t.kc * t.MR)
				b = b.Index(jen.Add(k0).Op("*").Lit(t.kc * ldb).Op(":"))
			}
			return panels.Clone().Block(c.kernelCall(l, i, im, kb,
				jen.Id("a").Index(a.Op(":")), b,
				jen.Id("dst").Index(jen.Id("p").Op("*").Lit(t.MR*p.N).Op(":")), bias,
				jen.Id("p").Op("==").Lit(t.mPanels-1), jen.Id("j").Op("==").Lit(nt-1)))
		}
		var blocks []jen.Code
		for _, kb := range t.kblocks() {
			switch kb {
			case kWhole, kFirst:
				blocks = append(blocks, call(kb, nil))
			case kMid:
				blocks = append(blocks, jen.For(jen.Id("kb").Op(":=").Lit(1), jen.Id("kb").Op("<").Lit(t.kBlocks-1), jen.Id("kb").Op("++")).Block(call(kb, jen.Id("kb"))))
			case kLast:
				blocks = append(blocks, call(kb, jen.Lit(t.kBlocks-1)))
			}
		}
		loop = jen.Add(blocks[0])
		for _, b := range blocks[1:] {
			loop = jen.Add(loop).Line().Add(b)
		}
	}
	body = append(body, loop)
	if goAct {
		// The kernels apply ReLU, clip, sigmoid, GELU and the like
		// themselves; others (tanh) here.
		body = append(body,
			rows.Clone().Block(
				jen.Id("rtActivateAll").Call(jen.Id("dst").Index(jen.Id("r").Op("*").Lit(p.N).Op(":").Id("r").Op("*").Lit(p.N).Op("+").Id("cols")), actC)))
	}
	if blocks {
		// The block's panel, packed by one rtIm2col call, and a loop over
		// its columns.
		j0 := jen.Id("jb").Op("*").Lit(t.pack)
		inner := slices.Clone(body[perColumn:])
		body = append(body[:perColumn],
			jen.Id("blk").Op(":=").Id("m").Dot("scratch").Index(jen.Id("w")).Index(jen.Op(":").Lit(p.K*t.pack*t.NR)),
			jen.Id("rtIm2col").Call(jen.Id("blk"), jen.Id("src"), jen.Op("&").Id(c.ident(n, "g")), j0.Clone().Op("*").Lit(t.NR), jen.Lit(t.pack*t.NR), jen.Id("m").Dot("im2col")),
			jen.For(jen.Id("j").Op(":=").Add(j0.Clone()), jen.Id("j").Op("<").Min(j0.Clone().Op("+").Lit(t.pack), jen.Lit(nt)), jen.Id("j").Op("++")).Block(inner...))
	}
	task(f, fmt.Sprintf("%s computes %s (%s %s -> %s) with the %s kernels: per image and group\na GEMM of M=%d filters by N=%d positions by K=%d, in %dx%d tiles; one task\nis %s: %s times %s.",
		fn, name, n.Op, n.Attrs(), n.Shape, im.name, p.M, p.N, p.K, t.MR, t.NR, taskCols, taskB, taskA), fn, body...)
}

func (c *gen) denseSteps(f *jen.File, l *layer, i int, im impl) {
	n, p := l.n, l.gemm
	t := p.tile(i)
	name := n.Name
	fn := c.ident(n, "l") + "_" + im.suffix
	B, U, K := c.Batch, p.N, p.K
	var aSrc jen.Code
	if t.MR == 1 && B == 1 {
		aSrc = c.img(n.Inputs[0], "") // the input vector is its own panel
	} else {
		pack := c.ident(n, "p") + "_" + im.suffix
		task(f, fmt.Sprintf("%s packs %s's input, %d rows at a time, for its GEMM.", pack, name, t.MR), pack,
			packRows(c.img(n.Inputs[0], ""), n.Inputs[0].ImgLen, c.stagingBuf().Index(jen.Id("t").Op("*").Lit(t.MR*K).Op(":")),
				jen.Id("t").Op("*").Lit(t.MR), jen.Min(jen.Lit(t.MR), jen.Lit(B).Op("-").Id("t").Op("*").Lit(t.MR)), K, t.MR))
		aSrc = c.stagingBuf()
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
		inner = append(inner, c.kernelCall(l, i, im, kWhole, jen.Id("a"), jen.Id("b"), jen.Id("dst"), nil,
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
}

// winoForms are the Winograd forms that the package's layers use, in a
// fixed order: a form's index is its rtWinoForm.Index, and its variable
// is winoFormVar's.
func (c *gen) winoForms() []wg.Form {
	var fs []wg.Form
	for _, l := range c.layers {
		if p := l.gemm; p != nil && p.wino {
			if f := (wg.Form{M: p.o, R: p.r}); !slices.Contains(fs, f) {
				fs = append(fs, f)
			}
		}
	}
	slices.SortFunc(fs, func(a, b wg.Form) int { return cmp.Or(a.R-b.R, a.M-b.M) })
	return fs
}

// winoFormVar is the generated variable holding form f's rtWinoForm.
func winoFormVar(f wg.Form) string { return "wino" + f.Name() }

// winoFormVars declares the rtWinoForm of every form in winoForms: its
// filter transform, and its index in the transforms' table.
func (c *gen) winoFormVars(f *jen.File) {
	for i, w := range c.winoForms() {
		var g []jen.Code
		for _, x := range w.G().Float64() {
			g = append(g, jen.Lit(x))
		}
		f.Comment(fmt.Sprintf("%s is Winograd %v's filter transform (compiler/winograd).", winoFormVar(w), w))
		f.Var().Id(winoFormVar(w)).Op("=").Id("rtWinoForm").Values(jen.Dict{
			jen.Id("M"): jen.Lit(w.M), jen.Id("R"): jen.Lit(w.R), jen.Id("Alpha"): jen.Lit(w.Alpha()), jen.Id("Index"): jen.Lit(i),
			jen.Id("G"): jen.Index().Float64().Values(g...),
		})
	}
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
		jen.Id("ldV"): jen.Lit(winoLdV(p)), jen.Id("inImg"): jen.Lit(n.Inputs[0].ImgLen), jen.Id("outIm"): jen.Lit(n.ImgLen),
	}
	d[jen.Id("F")] = jen.Op("&").Id(winoFormVar(wg.Form{M: p.o, R: p.r}))
	f.Var().Id(c.ident(n, "g")).Op("=").Id("rtWinoGeom").Values(d)
}

// winoSteps emits Winograd layer l's two steps: the input transform into V,
// then the points*G GEMMs fused with the output transform (with bias and
// activation): one task computes, for one column of tiles of one group and
// a chunk of panels of filters, each panel's MR×NR block of all the GEMMs
// into the worker's scratch and transforms it there, so that the GEMMs'
// results never go to memory.
func (c *gen) winoSteps(f *jen.File, l *layer, i int, im impl) {
	n, p := l.n, l.gemm
	t := p.tile(i)
	name := n.Name
	wi := c.ident(n, "wi")
	inTasks, gTasks := winoTasks(p, t)
	groups := l.batch / p.imgs
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
			jen.Id("rtWinoInput").Call(c.stagingBuf(), c.img(n.Inputs[0], ""), jen.Op("&").Id(c.ident(n, "g")),
				jen.Id("c0"), jen.Min(jen.Id("c0").Op("+").Lit(winoInChunk), jen.Lit(p.G*p.K)), img0, tileTable(p, true, jen.Id("m").Dot("impl")), jen.Id("m").Dot("scratch").Index(jen.Id("w")), jen.Op("&").Id("m").Dot("wino")))...)
	}
	fn := c.ident(n, "l") + "_" + im.suffix
	nt := t.nTiles
	size, chunks := winoChunk(p, t)
	block := t.MR * t.NR
	aStep := t.MR * p.K // from ξ to ξ+1 in the packed filters
	var body []jen.Code
	if groups > 1 {
		body = append(body, jen.List(jen.Id("ig"), jen.Id("t")).Op(":=").List(jen.Id("t").Op("/").Lit(gTasks), jen.Id("t").Op("%").Lit(gTasks)))
	}
	body = append(body,
		jen.List(jen.Id("grp"), jen.Id("j"), jen.Id("c")).Op(":=").List(jen.Id("t").Op("/").Lit(nt*chunks), jen.Id("t").Op("/").Lit(chunks).Op("%").Lit(nt), jen.Id("t").Op("%").Lit(chunks)),
		jen.Id("s").Op(":=").Id("m").Dot("scratch").Index(jen.Id("w")),
		jen.Id("b").Op(":=").Add(c.stagingBuf()).Index(jen.Id("grp").Op("*").Lit(winoLdV(p)).Op("+").Id("j").Op("*").Lit(p.K*t.NR).Op(":")),
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
		gemm = c.kernelCall(l, i, im, kWhole, a, bx, sx, nil, jen.False(), jen.False())
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
		fn, name, p.points(), p.G, n.Op, n.Attrs(), n.Shape, p.o, p.o, p.r, p.r, s2d, im.name, p.M, p.N, p.imgs, c.Batch, p.K, t.MR, t.NR, size), fn, body...)
}
