package codegen

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/asmgen/vec"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/spec"
	wg "github.com/cnnc/cnnc/compiler/winograd"
)

// A Plan is how the generated code runs a graph, decided before any code
// is written: every layer's algorithm, its GEMM blocking for each
// implementation, the steps of one inference with their task counts, and
// the sizes of the buffers they share. The emitters (layers.go,
// weights.go, api.go, dispatch.go) read it and decide nothing; cnnc
// plan prints it (Plan.Format).
type Plan struct {
	Batch  int // images per inference
	g      *ir.Graph
	direct bool
	layers []*layer
	index  map[*ir.Node]int // 1-based position among the layers

	scratch []int // per implementation: each worker's scratch, in float32s
	// The arena (layoutArena): ArenaLen floats; the tensors whose storage
	// the image-major prefix alone uses (own, by ir.Node.Store) hold one
	// image at their memory plan's offsets, the others a batch from
	// element base on.
	arenaLen, base int
	own            map[*ir.Node]bool
	staging        []int // per implementation: one layer's reshaped input (see weights.go)
	laneStaging    []int // per implementation: staging's part the prefix's layers use, which every worker's lane has (Model.runPrefix)
	tmp            int   // each worker's LRN scratch: squares of the channels and their sum
}

// algo is the way a layer is computed.
type algo int

const (
	algoNone      algo = iota // shares its input's storage: no code
	algoImage                 // one task per image: elementwise ops, softmax, concat, ...
	algoPool                  // pooling: chunks of channels of an image (rtPoolChannels)
	algoRows                  // LRN: one task per row of an image
	algoLRNPool               // max pooling with the LRN before it inside: chunks of output rows
	algoGEMM                  // a padding copy (if padded), then im2col panels times the filters
	algoWinograd              // input transform, then the points' GEMMs fused with the output transform
	algoDense                 // input packing (if batched), then a GEMM of images by units
	algoDepthwise             // rtDepthwise: chunks of channels of an image
	algoFused                 // taken into a convolution (layer.into): an add into the one before it, a multiply into the one after
	algoGathered              // a concat whose inputs are computed into its storage (ir.Node.Gather): no code
)

var algoNames = [...]string{algoNone: "view", algoImage: "per image", algoPool: "pool channels", algoRows: "per row",
	algoLRNPool: "lrn+pool rows", algoGEMM: "im2col+gemm", algoWinograd: "winograd", algoDense: "gemm", algoDepthwise: "depthwise", algoFused: "fused into", algoGathered: "gathered"}

func (a algo) String() string { return algoNames[a] }

// step is one step of an inference: tasks tasks of the Model's method fn,
// numbered from first.
type step struct {
	first, tasks int
	fn           string
	img          bool // in the image-major prefix: the tasks of one image, run for each (layer.img)
}

// CheckBatch returns the batch size a back end compiles g for: batch, or 1
// if it is 0 or less. It is an error if batch images do not fit in
// ir.MaxElems elements of activations, or g has no memory plan. codegen
// and codegen/cuda both call it.
func CheckBatch(g *ir.Graph, batch int) (int, error) {
	if g.Mem == nil {
		return 0, fmt.Errorf("graph %s has no memory plan (run the passes first)", g.Name)
	}
	if batch <= 0 {
		batch = 1
	}
	if int64(g.Mem.ArenaElems)*int64(batch) > ir.MaxElems || int64(g.Input().Shape.Elems())*int64(batch) > ir.MaxElems {
		return 0, fmt.Errorf("batch %d makes the activations larger than %d elements", batch, ir.MaxElems)
	}
	return batch, nil
}

// PackageName returns the Go package a back end writes for g: pkg, or
// the graph's name if pkg is empty, checked by spec.CheckPackageName.
func PackageName(g *ir.Graph, pkg string) (string, error) {
	if pkg == "" {
		pkg = g.Name
	}
	if err := spec.CheckPackageName(pkg); err != nil {
		return "", fmt.Errorf("package name %v", err)
	}
	return pkg, nil
}

// NewPlan plans graph g, which has been through the passes, for the
// options' batch and algorithm choice (Options.Direct).
func NewPlan(g *ir.Graph, opt Options) (*Plan, error) {
	batch, err := CheckBatch(g, opt.Batch)
	if err != nil {
		return nil, fmt.Errorf("codegen: %w", err)
	}
	p := &Plan{Batch: batch, g: g, direct: opt.Direct, index: map[*ir.Node]int{}, scratch: make([]int, len(impls)), staging: make([]int, len(impls)), laneStaging: make([]int, len(impls)), tmp: 1}
	// The image-major prefix (layer.img): the layers from the first on
	// whose every step splits by image run one image at a time, so that a
	// batch's early, large activations stay in cache as one image's do.
	prefix := batch > 1
	adds := p.residualAdds()
	sums := map[*ir.Node]*ir.Node{}
	for add, conv := range adds {
		sums[conv] = add
	}
	muls := p.channelScales()
	gates := map[*ir.Node]*ir.Node{}
	for mul, conv := range muls {
		gates[conv] = mul
	}
	for i, n := range g.Nodes[1:] {
		p.index[n] = i + 1
		l := &layer{n: n, algo: p.algoOf(n)}
		if conv := adds[n]; conv != nil {
			l.algo, l.into = algoFused, conv
		}
		if conv := muls[n]; conv != nil {
			l.algo, l.into = algoFused, conv
		}
		if mul := gates[n]; mul != nil {
			_, l.gate = scaleOperands(mul)
		}
		if add := sums[n]; add != nil {
			l.sum = add
			l.res = add.Inputs[0]
			if l.res == n {
				l.res = add.Inputs[1]
			}
		}
		prefix = prefix && p.imageMajor(l)
		l.img, l.batch = prefix, batch
		if prefix {
			l.batch = 1
		}
		l.gemm = p.gemmOf(l)
		l.chunk, l.tasks = chunkOf(l)
		p.layers = append(p.layers, l)
		for i, im := range impls {
			steps := p.stepsOf(l, i, im)
			for k := range steps {
				steps[k].img = l.img
			}
			l.steps = append(l.steps, steps)
		}
		p.buffers(l)
	}
	// A prefix of layers without code (a flatten of the input) is none.
	if !slices.ContainsFunc(p.layers, func(l *layer) bool { return l.img && len(l.steps[0]) > 0 }) {
		for _, l := range p.layers {
			l.img = false
		}
		clear(p.laneStaging)
	}
	p.layoutArena()
	if int64(p.arenaLen) > ir.MaxElems {
		return nil, fmt.Errorf("codegen: batch %d makes the activations larger than %d elements", batch, ir.MaxElems)
	}
	return p, nil
}

// prefixLen is the number of layers in the image-major prefix.
func (p *Plan) prefixLen() int {
	k := 0
	for k < len(p.layers) && p.layers[k].img {
		k++
	}
	return k
}

// imageMajor reports whether every step of layer l splits its work by
// image, image by image (or l has no steps), so that it can run in the
// image-major prefix. A dense layer's GEMM takes the batch as its rows. A
// Winograd layer's plan for the batch may transform groups of images, for
// longer GEMMs on small maps (winoImgs); planned for one image instead, it
// qualifies if it loses nothing (the batch's plan takes one image at a
// time) or if its batch's input and output together are larger than
// winoGroupBytes: such a batch goes to memory and back between layers,
// where one image's stays in cache. (ResNet-50 at batch 32 took the same
// time on one thread with its Winograd layers all per image, all in
// groups, and as here.)
func (p *Plan) imageMajor(l *layer) bool {
	switch l.algo {
	case algoDense:
		return false
	case algoWinograd:
		return winoPlan(l.n, p.Batch).imgs == 1 || 4*p.Batch*(l.n.Inputs[0].Shape.Elems()+l.n.Shape.Elems()) > winoGroupBytes
	}
	return true
}

// layoutArena places the activations in the arena. Without an image-major
// prefix that is the memory plan's per-image layout scaled by the batch:
// a tensor's storage at Buf×Batch, its images ImgLen apart. With one, the
// prefix's layers run image by image (Model.run), so the storage that
// only they use (own) needs to hold one image, the one in flight: it
// keeps the per-image layout, reused by every image, from element 0. The
// rest, which holds images from one pass to the next or is used after the
// prefix, is laid out for the batch from element base, past it. A
// storage is the prefix's own if every node it holds (ir.Node.Store) is
// written in the prefix, read only there (a fused layer reads where the
// conv it is fused into runs), and is not the network's output.
func (p *Plan) layoutArena() {
	p.arenaLen = p.g.Mem.ArenaElems * p.Batch
	last := p.prefixLen() - 1 // the prefix's last layer
	if last < 0 {
		return
	}
	pos := map[*ir.Node]int{} // where a node's inputs are read
	for i, l := range p.layers {
		pos[l.n] = i
	}
	for _, l := range p.layers {
		if l.into != nil {
			pos[l.n] = pos[l.into]
		}
	}
	after := map[*ir.Node]bool{} // storage used after the prefix
	for i, l := range p.layers {
		n := l.n
		if i > last || n == p.g.Output {
			after[n.Store] = true
		}
		for _, x := range n.Inputs {
			if pos[n] > last {
				after[x.Store] = true
			}
		}
	}
	p.own = map[*ir.Node]bool{}
	ownEnd, batchEnd := 0, 0
	for _, n := range p.g.Nodes {
		if n.Buf < 0 {
			continue
		}
		if after[n.Store] {
			batchEnd = max(batchEnd, n.Buf+n.ImgLen)
			continue
		}
		p.own[n.Store] = true
		ownEnd = max(ownEnd, n.Buf+n.ImgLen)
	}
	p.base = ceilDiv(ownEnd, 16) * 16
	p.arenaLen = p.base + batchEnd*p.Batch
}

// at is where node n's output is: the arena's element off holds its
// first image, and the next ones are stride apart (0: the prefix's own
// storage holds one image). src says it is the caller's input.
func (p *Plan) at(n *ir.Node) (off, stride int, src bool) {
	switch {
	case n.Buf < 0:
		return n.Off, n.ImgLen, true
	case p.own[n.Store]:
		return n.Buf + n.Off, 0, false
	}
	return p.base + n.Buf*p.Batch + n.Off, n.ImgLen, false
}

// algoOf chooses how node n is computed.
func (p *Plan) algoOf(n *ir.Node) algo {
	switch n.Op {
	case ir.OpConv:
		switch {
		case depthwise(n):
			return algoDepthwise
		case !p.direct && winoPlan(n, p.Batch) != nil:
			return algoWinograd
		}
		return algoGEMM
	case ir.OpDense:
		return algoDense
	case ir.OpMaxPool, ir.OpAvgPool:
		if n.PreLRN != nil {
			return algoLRNPool
		}
		return algoPool
	case ir.OpLRN:
		return algoRows
	case ir.OpFlatten, ir.OpDropout, ir.OpSlice:
		if n.Alias {
			return algoNone
		}
	case ir.OpConcat:
		if n.Gather {
			return algoGathered
		}
	}
	return algoImage
}

// residualAdds finds the additions that a convolution computes in its
// GEMM's epilogue, as conv(x) + r: the kernels accumulate into C, so C
// starts as the residual r and ends as the sum, activated by the add's
// activation. It maps each such add to its convolution: an im2col+gemm
// conv with no activation of its own whose only reader is the add, the
// later of the add's two operands (so that r is ready when it runs), of
// the add's shape. The conv then writes the add's output storage, which
// must not be its input's; r is copied there tile by tile unless the add
// is in place over r. The add runs no code (algoFused).
func (p *Plan) residualAdds() map[*ir.Node]*ir.Node {
	g := p.g
	pos := map[*ir.Node]int{}
	for i, n := range g.Nodes {
		pos[n] = i
	}
	readers := readersOf(g)
	adds := map[*ir.Node]*ir.Node{}
	for _, n := range g.Nodes {
		if n.Op != ir.OpAdd || len(n.Inputs) != 2 {
			continue
		}
		conv, r := n.Inputs[0], n.Inputs[1]
		if pos[r] > pos[conv] {
			conv, r = r, conv
		}
		switch {
		case conv == r || conv.Shape != n.Shape || r.Shape != n.Shape:
		case conv.Op != ir.OpConv || p.algoOf(conv) != algoGEMM || conv.Act.Kind != ir.ActNone || len(readers[conv]) != 1:
		case sameStorage(conv.Inputs[0], n):
			// The conv would write the sum over its own input: x + f(x)
			// in place, or the sum placed where x was once x died.
		case r.Buf == n.Buf && (r.Off != n.Off || r.ImgLen != n.ImgLen) && r.Overlaps(n):
			// r and the sum overlap without coinciding. (Disjoint
			// windows of one storage, two inputs of a gathered
			// concat, are apart.)
		case !p.kernelsFit(&layer{n: conv, algo: algoGEMM, sum: n}):
			// Adding C needs an epilogue register that some tile lacks.
		default:
			adds[n] = conv
		}
	}
	return adds
}

// readersOf lists the layers that read each node's output, once per
// operand; the network's output has a nil reader too (Infer copies it).
func readersOf(g *ir.Graph) map[*ir.Node][]*ir.Node {
	readers := map[*ir.Node][]*ir.Node{g.Output: {nil}}
	for _, n := range g.Nodes {
		for _, x := range n.Inputs {
			readers[x] = append(readers[x], n)
		}
	}
	return readers
}

// sameStorage reports whether nodes a and b have their outputs in
// overlapping storage: per image, a node's storage is [Buf, Buf+ImgLen) of
// the arena (a view's and an alias's that of the node they share). The
// network's input is the caller's.
func sameStorage(a, b *ir.Node) bool {
	return a.Buf >= 0 && b.Buf >= 0 && a.Buf < b.Buf+b.ImgLen && b.Buf < a.Buf+a.ImgLen
}

// channelScales finds the multiplies by a per-channel factor that the
// convolution reading them folds into its weights: a squeeze-excite
// block's x·s, s of shape [C,1,1], before the 1x1 projection. Scaling
// input channel c of x by s[c] is scaling the filters' channel c by it,
// which costs filters × channels × kernel multiplies per image instead of
// x's C·H·W. It maps each such multiply to its conv: an unpadded
// im2col+gemm conv, the multiply's only reader, with more pixels in x
// than weights in the conv. The multiply must be in place over x (the
// memory plan does that where x dies with it), so that x outlives it and
// the conv reads x where the product would have been; it runs no code
// (algoFused).
func (p *Plan) channelScales() map[*ir.Node]*ir.Node {
	g := p.g
	readers := readersOf(g)
	muls := map[*ir.Node]*ir.Node{}
	for _, n := range g.Nodes {
		x, _ := scaleOperands(n)
		if x == nil || len(readers[n]) != 1 || n.Act.Kind != ir.ActNone || !n.Alias || n.Inputs[n.AliasIn] != x {
			continue
		}
		f := readers[n][0]
		if f == nil || f.Op != ir.OpConv || f.Inputs[0] != n || p.algoOf(f) != algoGEMM || padded(f) {
			continue
		}
		a := &f.Conv
		if a.Filters*x.Shape.C/a.Groups*a.KH*a.KW >= x.Shape.Elems() {
			continue
		}
		muls[n] = f
	}
	return muls
}

// scaleOperands returns x and s if n is a multiply x·s of a [C,H,W]
// tensor by a per-channel [C,1,1] one, in either order, else nil, nil.
func scaleOperands(n *ir.Node) (x, s *ir.Node) {
	if n.Op != ir.OpMul || len(n.Inputs) != 2 || n.Shape.Flat {
		return nil, nil
	}
	x, s = n.Inputs[0], n.Inputs[1]
	if x.Shape != n.Shape {
		x, s = s, x
	}
	if x.Shape != n.Shape || s.Shape != (ir.Shape{C: n.Shape.C, H: 1, W: 1}) || x == s {
		return nil, nil
	}
	return x, s
}

// kernelsFit reports whether every assembly kernel of GEMM layer l fits
// its ISA's registers.
func (p *Plan) kernelsFit(l *layer) bool {
	l.gemm = p.gemmOf(l)
	for i, im := range impls {
		if im.asm && !p.tileFits(l, i, im) {
			return false
		}
	}
	return true
}

// tileFits reports whether every kernel of GEMM layer l's tile for
// implementation im (impls[i]), each variant and K block, validates.
func (p *Plan) tileFits(l *layer, i int, im impl) bool {
	t := l.gemm.tile(i)
	for _, v := range variants {
		for _, kb := range t.kblocks() {
			if l.gemm.needed(t, v) && p.gemmConfig(l, i, im, v, kb, false).Validate() != nil {
				return false
			}
		}
	}
	return true
}

// gemmOf is layer l's GEMM plan, with its tiles for every implementation,
// or nil if it computes no GEMM. It sets l.gemm to it.
func (p *Plan) gemmOf(l *layer) *gemmPlan {
	n := l.n
	var g *gemmPlan
	switch l.algo {
	case algoWinograd:
		g = winoPlan(n, l.batch)
	case algoGEMM:
		a := &n.Conv
		g = &gemmPlan{G: a.Groups, M: a.Filters / a.Groups, N: n.Shape.H * n.Shape.W, K: n.Inputs[0].Shape.C / a.Groups * a.KH * a.KW,
			direct: pointwise(n)}
		g.raggedPacked = g.direct && n.Inputs[0].Buf < 0
	case algoDense:
		g = &gemmPlan{dense: true, G: 1, M: p.Batch, N: n.Dense.Units, K: n.Inputs[0].Shape.Elems()}
	default:
		return nil
	}
	for _, im := range impls {
		t := im.conv
		if g.dense {
			t = im.dense
			t[0] = min(t[0], p.Batch)
		}
		if g.wino {
			t = winoTile(im, g)
		}
		tl := tile{MR: t[0], NR: t[1], mPanels: ceilDiv(g.M, t[0]), nTiles: ceilDiv(g.N, t[1]), kc: g.K, kBlocks: 1, pack: 1}
		if !g.dense && !g.wino && im.asm {
			src := bSourceOf(g, tl, l.batch, im)
			if src != bInPlaceButRagged {
				tl.kc, tl.kBlocks = kBlocking(g.K, tl.NR)
			}
			if src == bPack {
				tl.pack = packColumns(g, tl, l.batch)
			}
		}
		g.tiles = append(g.tiles, tl)
	}
	// A block that accumulates needs a register more in its epilogue
	// than a whole kernel: keep K whole where that does not fit (AVX2's
	// 6x16 with SiLU).
	l.gemm = g
	for i, im := range impls {
		if t := &g.tiles[i]; t.kBlocks > 1 && !p.tileFits(l, i, im) {
			t.kc, t.kBlocks = g.K, 1
		}
	}
	return g
}

// chunkOf is how layer l splits an image's work outside its GEMMs: its
// chunk and the number of tasks (layer.chunk, layer.tasks), or 0, 0.
func chunkOf(l *layer) (chunk, tasks int) {
	n := l.n
	switch {
	case l.algo == algoLRNPool:
		return lrnPoolChunk(n)
	case l.algo == algoDepthwise:
		return dwChunk(n)
	case l.algo == algoPool:
		return poolChunk(n)
	case l.algo == algoImage && eltChunked(n):
		return eltChunk(n)
	case l.algo == algoGEMM && padded(n):
		return padChunk, ceilDiv(n.Inputs[0].Shape.C, padChunk)
	}
	return 0, 0
}

// ident returns the identifier of kind (l: task method, p: packing task, g
// and lrn: geometry, w and b: weight fields, k: kernel) for node n: the
// kind, the layer's index and its name. The index makes identifiers of
// different layers distinct whatever their names ("c" + "_Go" and "c_Go"
// would not be); the name keeps them readable.
func (p *Plan) ident(n *ir.Node, kind string) string {
	return fmt.Sprintf("%s%d_%s", kind, p.index[n], n.Name)
}

// stepsOf lists layer l's steps with implementation im (impls[i]).
func (p *Plan) stepsOf(l *layer, i int, im impl) []step {
	n, B := l.n, l.batch
	task := func(tasks int) []step { return []step{{tasks: tasks, fn: p.ident(n, "l")}} }
	switch l.algo {
	case algoNone, algoFused, algoGathered:
		return nil
	case algoRows:
		return task(B * n.Shape.H)
	case algoLRNPool, algoDepthwise, algoPool:
		return task(B * l.tasks)
	case algoGEMM:
		g := l.gemm
		var s []step
		if padded(n) {
			s = append(s, step{tasks: B * l.tasks, fn: p.ident(n, "pad")})
		}
		if l.gate != nil {
			s = append(s, step{tasks: B, fn: p.ident(n, "s") + "_" + im.suffix})
		}
		if bSourceOf(g, g.tile(i), B, im) == bStaged {
			s = append(s, step{tasks: B * g.G * g.tile(i).nTiles, fn: p.ident(n, "pk") + "_" + im.suffix})
		}
		_, chunks := gemmChunk(g, g.tile(i), B, im)
		return append(s, step{tasks: B * g.G * chunks * g.tile(i).blocks(), fn: p.ident(n, "l") + "_" + im.suffix})
	case algoDense:
		t := l.gemm.tile(i)
		var s []step
		if t.MR != 1 || B != 1 {
			s = append(s, step{tasks: t.mPanels, fn: p.ident(n, "p") + "_" + im.suffix})
		}
		return append(s, step{tasks: t.nTiles, fn: p.ident(n, "l") + "_" + im.suffix})
	case algoWinograd:
		g := l.gemm
		inTasks, gTasks := winoTasks(g, g.tile(i))
		var s []step
		for ig := range B / g.imgs {
			s = append(s, step{first: ig * inTasks, tasks: inTasks, fn: p.ident(n, "wi")},
				step{first: ig * gTasks, tasks: gTasks, fn: p.ident(n, "l") + "_" + im.suffix})
		}
		return s
	}
	if l.tasks > 0 {
		return task(B * l.tasks) // eltChunk's
	}
	return task(B)
}

// winoTasks are the tasks of one group of images of Winograd plan g's two
// steps with tile t: the input transform's, winoInChunk channels each,
// and the GEMMs', one column of tiles of one group of filters and a
// chunk of panels each (winoChunk).
func winoTasks(g *gemmPlan, t tile) (in, gemms int) {
	_, chunks := winoChunk(g, t)
	return ceilDiv(g.G*g.K, winoInChunk), g.G * t.nTiles * chunks
}

// buffers grows the plan's shared buffers to what layer l needs.
func (p *Plan) buffers(l *layer) {
	n := l.n
	switch {
	case n.PreLRN != nil:
		in := n.Inputs[0].Shape
		p.tmp = max(p.tmp, (in.C+1)*lrnPoolRows(n)*in.W)
	case n.Op == ir.OpLRN:
		p.tmp = max(p.tmp, (n.Shape.C+1)*n.Shape.W)
	}
	for i := range impls {
		switch l.algo {
		case algoDepthwise:
			p.scratch[i] = max(p.scratch[i], dwScratch(n, impls[i]))
		case algoPool:
			p.scratch[i] = max(p.scratch[i], poolScratch(l, impls[i]))
		}
		if g := l.gemm; g != nil {
			t := g.tile(i)
			staging := 0
			switch {
			case g.dense:
				staging = t.mPanels * t.MR * g.K
			case g.wino:
				staging = winoLenV(g)
				p.scratch[i] = max(p.scratch[i], winoScratch(n, g, t))
			default:
				staging = l.batch * padLen(n)
				if l.gate != nil {
					// Each image's scaled filters (the conv is unpadded).
					staging = max(staging, l.batch*g.packedFilters(t))
				}
				p.scratch[i] = max(p.scratch[i], g.K*t.NR*t.pack)
				if bSourceOf(g, t, l.batch, impls[i]) == bStaged {
					off, n := stagedB(l, t, l.batch)
					staging = max(staging, off+n)
				}
			}
			p.staging[i] = max(p.staging[i], staging)
			if l.img {
				p.laneStaging[i] = max(p.laneStaging[i], staging)
			}
		}
		if n.PreLRN != nil {
			in := n.Inputs[0].Shape
			p.scratch[i] = max(p.scratch[i], in.C*lrnPoolRows(n)*in.W)
		}
	}
}

// Format writes the plan as a table: per layer, its algorithm and, per
// implementation, its tile and its steps' task counts; then the buffers.
func (p *Plan) Format(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "layer\top\talgorithm"
	for _, im := range impls {
		head += "\t" + im.name
	}
	fmt.Fprintln(tw, head)
	for _, l := range p.layers {
		alg := l.algo.String()
		if a := &l.n.Conv; l.algo == algoDepthwise && l.n.Inputs[0].Shape.C > a.Groups {
			alg = fmt.Sprintf("grouped direct %dx%d", a.Groups, l.n.Inputs[0].Shape.C/a.Groups)
		}
		if g := l.gemm; g != nil {
			switch {
			case g.direct:
				alg = "direct gemm"
			case g.wino:
				alg += fmt.Sprintf(" F%dx%d", g.o, g.r)
				if g.s > 1 {
					alg += fmt.Sprintf(" s2d%d", g.s)
				}
				if g.imgs < l.batch {
					alg += fmt.Sprintf(" %d imgs", g.imgs)
				}
			}
			alg += fmt.Sprintf(" %dx(M%d N%d K%d)", g.G, g.M, g.N, g.K)
		}
		switch {
		case l.into != nil:
			alg += " " + l.into.Name
		case l.sum != nil:
			alg += " +" + l.res.Name
			if l.inPlace() {
				alg += " in place"
			}
		}
		if l.gate != nil {
			alg += " ×" + l.gate.Name
		}
		row := []string{l.n.Name, l.n.Op.String(), alg}
		for i := range impls {
			var cell []string
			if g := l.gemm; g != nil {
				t := g.tile(i)
				if t.kBlocks > 1 {
					// K in blocks of kc (kBlocking).
					cell = append(cell, fmt.Sprintf("%dx%d/%d:", t.MR, t.NR, t.kc))
				} else {
					cell = append(cell, fmt.Sprintf("%dx%d:", t.MR, t.NR))
				}
			}
			steps, groups := l.steps[i], 1
			if g := l.gemm; g != nil && g.wino {
				// The same two steps for each group of images.
				groups = l.batch / g.imgs
				steps = steps[:2]
			}
			var tasks []string
			sum := 0
			for _, s := range steps {
				tasks = append(tasks, fmt.Sprint(s.tasks))
				sum += s.tasks
			}
			switch {
			case groups > 1:
				cell = append(cell, fmt.Sprintf("%d×(%s) tasks", groups, strings.Join(tasks, "+")))
			case sum == 1:
				cell = append(cell, "1 task")
			case sum > 1:
				cell = append(cell, strings.Join(tasks, "+")+" tasks")
			}
			if g := l.gemm; g != nil && g.tile(i).pack > 1 {
				cell = append(cell, fmt.Sprintf("of %d columns", g.tile(i).pack))
			}
			row = append(row, strings.Join(cell, " "))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	k := p.prefixLen()
	for i, im := range impls {
		lane := ""
		if k > 0 {
			lane = fmt.Sprintf(" (%d of them the prefix's)", p.laneStaging[i])
		}
		if _, err := fmt.Fprintf(w, "%s: scratch %d floats per worker, staging %d floats%s\n", im.name, p.scratch[i], p.staging[i], lane); err != nil {
			return err
		}
	}
	if k > 0 {
		if _, err := fmt.Fprintf(w, "image by image: layers 1-%d (%s to %s), tasks per image; arena %d floats, %d of them the prefix's own (one image);\n"+
			"  each worker beyond the first has its own copy of the prefix's own and staging\n",
			k, p.layers[0].n.Name, p.layers[k-1].n.Name, p.arenaLen, p.base); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "LRN scratch %d floats per worker; batch %d\n", p.tmp, p.Batch)
	return err
}

// impl is one implementation of the GEMM layers: its name (as users pass
// it), the suffix of its identifiers, and its register tiles.
type impl struct {
	name   string
	suffix string
	asm    bool   // GEMMs by assembly kernels, for arch
	arch   string // the GOARCH of the kernels (arches), "" for purego
	isa    gemm.ISA
	conv   [2]int // MR, NR for convolutions
	dense  [2]int // MR (at most), NR for dense layers
}

// impls lists the implementations in index order; Options.Impl and the
// generated code's impl index refer to them. The tiles come from
// asmgen/gemm's presets, the one place they are tuned.
var impls = []impl{
	{name: "purego", suffix: "Go", conv: [2]int{4, 16}, dense: [2]int{4, 16}},
	{name: "avx2", suffix: "AVX2", asm: true, arch: "amd64", isa: gemm.AVX2, conv: tileOf("avx2_6x16"), dense: tileOf("avx2_4x24")},
	{name: "avx512", suffix: "AVX512", asm: true, arch: "amd64", isa: gemm.AVX512, conv: tileOf("avx512_8x48"), dense: tileOf("avx512_8x48")},
	{name: "neon", suffix: "NEON", asm: true, arch: "arm64", isa: gemm.NEON, conv: tileOf("neon_8x12"), dense: tileOf("neon_8x12")},
}

func tileOf(preset string) [2]int {
	for _, p := range gemm.Presets {
		if p.Name == preset {
			return [2]int{p.MR, p.NR}
		}
	}
	panic("codegen: no gemm preset " + preset)
}

// winoTileChoices are the tiles a Winograd GEMM may use per implementation, the
// first the default. Its N (batch × output tiles) is often just past a
// multiple of 48 (49 2x2 tiles at batch 1 on 13x13 maps) or small (16 4x4
// tiles there), and a ragged tile costs as much as a full one, so the
// narrower, taller tiles can waste less. NEON takes its 12x8 tile: 8
// divides every other implementation's NR, so that V's padding to all of
// them (winoNPad) stays what it was without NEON (12 would pad a GEMM of
// 32-wide AVX-512 tiles to 96 columns).
var winoTileChoices = map[string][][2]int{
	"avx512": {tileOf("avx512_8x48"), tileOf("avx512_14x32"), tileOf("avx512_28x16")},
	"neon":   {tileOf("neon_12x8")},
}

// winoTile picks, for implementation im, the tile of winoTileChoices that computes
// the fewest padded elements of Winograd GEMM p (ties: the first).
func winoTile(im impl, p *gemmPlan) [2]int {
	best, cost := im.conv, -1
	for _, t := range winoTileChoices[im.name] {
		if c := ceilDiv(p.M, t[0]) * t[0] * ceilDiv(p.N, t[1]) * t[1]; cost < 0 || c < cost {
			best, cost = t, c
		}
	}
	return best
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

// layer is one layer's plan: its node, how it is computed, its GEMM plan
// if it has one, and its steps for each implementation.
type layer struct {
	n     *ir.Node
	algo  algo
	gemm  *gemmPlan
	steps [][]step // per implementation
	// img puts the layer in the image-major prefix (Plan.layoutArena):
	// its steps' tasks are one image's, and Model.run runs the prefix's
	// steps once per image. batch is the number of images one of its
	// steps covers: 1 there, else Plan.Batch.
	img   bool
	batch int
	// chunk and tasks split one image's work of the step that is not a
	// GEMM (chunkOf): tasks tasks of chunk channels (depthwise, pooling,
	// padding) or output rows (lrn+pool) each.
	chunk, tasks int
	// sum is the add that an im2col+gemm conv computes in its epilogue
	// (residualAdds), with res its other operand: the conv writes sum's
	// output, res plus the convolution, activated by sum's activation.
	sum, res *ir.Node
	// into is the conv that computes an algoFused add or multiply.
	into *ir.Node
	// gate is the per-channel factor of a multiply folded into an
	// im2col+gemm conv's weights (channelScales): the conv's steps scale
	// its packed filters by it, per image, and read the multiply's input.
	gate *ir.Node
}

// out is the node whose output layer l's kernels write: its own, or the
// add fused into it.
func (l *layer) out() *ir.Node {
	if l.sum != nil {
		return l.sum
	}
	return l.n
}

// act is the activation layer l's epilogue applies: its own, or that of
// the add fused into it (the conv's own is then none).
func (l *layer) act() ir.Activation {
	return l.out().Act
}

// inPlace reports whether the add fused into layer l writes over its
// residual, so that C already holds it.
func (l *layer) inPlace() bool {
	return l.res.Buf == l.sum.Buf && l.res.Buf >= 0
}

// gemmPlan is a conv or dense layer as G GEMMs of M x N x K per image.
type gemmPlan struct {
	dense bool
	// direct marks an im2col+gemm convolution whose im2col matrix is its
	// input: a 1x1 stride-1 convolution without padding, whose K rows are
	// the input planes, N floats apart. Its assembly kernels read B there
	// (gemm.Config.LDB). A ragged last column of tiles loads whole vectors,
	// up to 15 floats past the last plane's end: that is read in place too
	// when the input is in the arena, which has rtArenaSlack floats after
	// it, and packed by im2col when it is the caller's input (raggedPacked).
	direct       bool
	raggedPacked bool
	wino         bool // a Winograd convolution: points*G GEMMs of M filters by N = batch*tiles by K channels
	r            int  // a Winograd convolution's filter size: 3 or 5
	o            int  // and its output tiles' size: 2 or 4 for r = 3, 2, 3 or 4 for r = 5
	s            int  // and its stride: K counts the s×s space-to-depth's channels
	imgs         int  // and the images it computes at a time: N = imgs*tiles
	G            int
	M, N, K      int
	tiles        []tile // per impl
}

// tile is a GEMM's blocking for one implementation.
type tile struct {
	MR, NR          int
	mPanels, nTiles int
	// kc is the length of the K blocks of an im2col+gemm convolution's
	// kernels, kBlocks their number (kBlocking); K and 1 where K is short,
	// and for other GEMMs.
	kc, kBlocks int
	// pack is how many columns of tiles one task of an im2col+gemm
	// convolution packs at once (bPack; packColumns), side by side in
	// one panel, rows pack*NR apart; 1 for other GEMMs.
	pack int
}

// blocks is the number of blocks of columns of tiles t that the tasks of
// an im2col+gemm convolution take, pack columns each.
func (t tile) blocks() int { return ceilDiv(t.nTiles, t.pack) }

// packBytes bounds the im2col panel of pack columns of tiles that a task
// packs at once (packColumns): it stays in a 256 KiB or larger L2 while
// the task's GEMMs read it.
const packBytes = 128 << 10

// packColumns is how many columns of tiles t a task of im2col+gemm
// convolution p packs at once, one im2col call a row of K for all of
// them: rtIm2col's calls cost as much as the copying on narrow panels
// (the row kernel is called K times a panel), so packing 8 columns at once
// took a 3-channel stem's im2col 2.5x less time, and a 3x3 stride-2
// layer's on 14x14 maps 1.7x (BenchmarkIm2col). Up to 8 columns, as many
// as keep the panel within packBytes and leave every image and group
// gemmTasks/4 tasks, so that two or more workers still share a layer.
func packColumns(p *gemmPlan, t tile, batch int) int {
	q := 1
	for q < 8 && p.K*(q+1)*t.NR*4 <= packBytes && batch*p.G*ceilDiv(t.nTiles, q+1) >= gemmTasks/4 {
		q++
	}
	return q
}

// kBlockBytes is the size of the block of B that a K block of a
// convolution's kernels reads: half of a 48 KiB L1, so that it stays
// there while every panel of filters passes over it.
const kBlockBytes = 24 << 10

// kBlocking cuts a reduction of length k, with tiles nr columns wide, into
// blocks of kc steps (a multiple of 4, the last block shorter): as long
// as kBlockBytes of B allow, equal but for the last. Without it, a long
// reduction's panel of B (K×NR, 221 KB for ResNet-50's 4608) comes from
// L2 for each panel of filters, while the filters stream from memory: a
// kernel benchmark of 512 filters with cold weights ran at 136-169
// GFLOP/s unblocked and 177-205 in blocks of 128 (K from 512 to 4608,
// 8x48 tiles, Zen 5). A reduction up to 1.5 blocks long stays whole.
func kBlocking(k, nr int) (kc, blocks int) {
	most := kBlockBytes / (4 * nr) / 4 * 4
	if 2*k <= 3*most {
		return k, 1
	}
	blocks = ceilDiv(k, most)
	kc = ceilDiv(ceilDiv(k, blocks), 4) * 4
	return kc, ceilDiv(k, kc)
}

// kblock is a K block's role in a convolution's loop over its blocks.
type kblock int

const (
	kWhole kblock = iota // the only block: bias, the residual in C, the activation
	kFirst               // bias and the residual in C, no activation
	kMid                 // accumulates into C
	kLast                // accumulates into C, then the activation
)

// kblocks lists the kinds of K block of tile t.
func (t tile) kblocks() []kblock {
	switch t.kBlocks {
	case 1:
		return []kblock{kWhole}
	case 2:
		return []kblock{kFirst, kLast}
	}
	return []kblock{kFirst, kMid, kLast}
}

func (p *gemmPlan) tile(i int) tile { return p.tiles[i] }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// padChunk is the number of channels one task of a padding step copies.
const padChunk = 16

// pointwise reports whether conv n is a direct GEMM over its input, with
// no im2col: 1x1, stride 1, unpadded.
func pointwise(n *ir.Node) bool {
	a := &n.Conv
	return a.KH == 1 && a.KW == 1 && a.StrideH == 1 && a.StrideW == 1 && !padded(n)
}

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

// lrnPoolChunk splits a max pooling with a fused LRN into tasks of chunk
// output rows (about 8 tasks per image): bigger chunks recompute fewer of
// the input rows that neighbouring windows share.
func lrnPoolChunk(n *ir.Node) (chunk, tasks int) {
	oh := n.Shape.H
	chunk = ceilDiv(oh, min(oh, 8))
	return chunk, ceilDiv(oh, chunk)
}

// poolChunk splits a pooling into tasks of chunk channels: at least
// poolTaskIn input elements a task, at most 8 tasks an image where that
// allows. A task pools its channels in a few long kernel calls
// (rtPoolPlanes); one task a channel, as before, cost more in calls than
// in pooling on 7x7 and 14x14 maps.
func poolChunk(n *ir.Node) (chunk, tasks int) {
	in := n.Inputs[0].Shape
	return channelChunk(in.C, in.H*in.W, poolTaskIn)
}

// eltChunked reports whether per-image layer n splits an image into
// tasks (eltChunk): the ops that work channel by channel (activations,
// batchnorm, PReLU, global average pooling) or, layernorm, position by
// position. With a task an image, one worker did a batch-1 network's
// batchnorms while the other waited, and read what both had written:
// DenseNet-121's 62 took 1.1 ms on one thread and 4.9 on two.
func eltChunked(n *ir.Node) bool {
	switch {
	case n.Op.IsActivation(), n.Op == ir.OpBatchNorm, n.Op == ir.OpPReLU, n.Op == ir.OpGlobalAvgPool, n.Op == ir.OpLayerNorm:
		return true
	}
	return false
}

// eltChunk splits eltChunked layer n's image into tasks of chunk channels
// (layernorm: positions, a multiple of vec.LayerNormStep where there are
// that many, so that the SIMD kernel takes all but the image's last few):
// one task a eltTaskElems elements of input, at most 8.
func eltChunk(n *ir.Node) (chunk, tasks int) {
	units, per := eltUnits(n)
	tasks = max(1, min(8, units*per/eltTaskElems, units))
	chunk = ceilDiv(units, tasks)
	if n.Op == ir.OpLayerNorm && chunk > vec.LayerNormStep {
		chunk = ceilDiv(chunk, vec.LayerNormStep) * vec.LayerNormStep
	}
	return chunk, ceilDiv(units, chunk)
}

// eltUnits is what eltChunk splits eltChunked layer n's image into, and
// the input elements of each: channels of H·W, or for layernorm positions
// of C.
func eltUnits(n *ir.Node) (units, per int) {
	in := n.Inputs[0].Shape
	if n.Op == ir.OpLayerNorm {
		return in.H * in.W, in.C
	}
	return in.C, in.H * in.W
}

// eltTaskElems is the input elements an elementwise task takes at least.
const eltTaskElems = 8192

// poolTaskIn is the input elements a pooling task takes at least, where
// its channels are that many.
const poolTaskIn = 16384

// poolScratch is the per-worker scratch of pooling layer l with
// implementation im: room for the vertical pass of rtPoolPlanes over
// the task's channels, or over as many as poolScratchLen holds, at least
// one. The Go path (no SIMD kernels) needs none.
func poolScratch(l *layer, im impl) int {
	if !im.asm {
		return 0
	}
	plane := l.n.Shape.H * l.n.Inputs[0].Shape.W
	return plane * min(l.chunk, max(1, poolScratchLen/plane))
}

// poolScratchLen is the scratch, in floats, beyond which a pooling task
// takes its channels' vertical passes in several blocks: 32 KiB, an L1.
const poolScratchLen = 8192

// lrnPoolRows is the number of input rows one chunk of lrnPoolChunk covers.
func lrnPoolRows(n *ir.Node) int {
	chunk, _ := lrnPoolChunk(n)
	return min((chunk-1)*n.Pool.StrideH+n.Pool.KH, n.Inputs[0].Shape.H)
}

// depthwise reports whether conv n runs as rtDepthwise: more than one
// group, each with one input channel (a depthwise conv, with K =
// filters/groups filters of its own) or with at most dwMaxGroup input
// channels and filters and an im2col to spare (not pointwise: those are
// GEMMs straight over the input). A conv over one channel is a GEMM of K
// rows, which the GEMM kernels compute well.
func depthwise(n *ir.Node) bool {
	a := &n.Conv
	if n.Op != ir.OpConv || a.Groups <= 1 {
		return false
	}
	cg := n.Inputs[0].Shape.C / a.Groups
	return cg == 1 || cg <= dwMaxGroup && a.Filters/a.Groups <= dwMaxGroup && !pointwise(n)
}

// dwMaxGroup is the most input channels and filters per group of a
// grouped convolution that runs as rtDepthwise, its taps CG*KH*KW per
// output (RegNetY's groups of 8 channels, ResNeXt 32x4d's of 4 to 16). As
// GEMMs, one per group, of M = K rows and K = CG*KH*KW, such layers were
// im2col-bound: RegNetY-400MF's 3x3 ones ran at 7-24 GFLOP/s on one Zen 4
// thread, and at 26-47 as rtDepthwise. rtDepthwise's kernel runs at about
// 50 GFLOP/s whatever the group (a misaligned load per FMA), so the GEMMs
// win once groups are large: 3x3 convs on 28x28 and 14x14 took (GEMM or
// Winograd against rtDepthwise) 1.8 against 1.15 ms at 16 channels and
// filters a group, 2.3 against 2.3 at 32, 1.3 against 1.8 at 32 channels
// and 24 filters, and 2.3 against 4.6 at 64.
const dwMaxGroup = 16

// dwTaskMACs is about the work one task of a depthwise layer should have,
// in multiply-adds: enough to outweigh a task's dispatch on small maps
// (MobileNetV2's 7x7 maps of 960 channels hold 441 per channel).
const dwTaskMACs = 32 << 10

// dwChunk is how many input channels one task of depthwise conv n
// computes (with their K output channels each): dwTaskMACs' worth, but
// at most an eighth of the channels, so that several workers share an
// image, and the number of tasks per image.
func dwChunk(n *ir.Node) (chunk, tasks int) {
	a := &n.Conv
	g, cg := a.Groups, n.Inputs[0].Shape.C/a.Groups
	chunk, tasks = channelChunk(g, a.Filters/g*n.Shape.H*n.Shape.W*cg*a.KH*a.KW, dwTaskMACs)
	if dwLanes(n) && chunk%16 != 0 {
		// Whole sets of 16 channels side by side (8 with AVX2).
		chunk = min(ceilDiv(chunk, 16)*16, g)
		tasks = ceilDiv(g, chunk)
	}
	return chunk, tasks
}

// dwLanesOut and dwLanesOutWide are codegen/rt's rtDWLanesOut and
// rtDWLanesOutWide: the most outputs a channel of a depthwise convolution
// with one filter a channel may have for rtDepthwise to compute it over
// 16 or 8 channels side by side, with filters of up to 25 taps and with
// larger ones.
const (
	dwLanesOut     = 14 * 14
	dwLanesOutWide = 8 * 8
)

// dwLanes reports whether depthwise conv n goes over channels side by side
// where the implementation can (codegen/rt's rtDWLanesGeom).
func dwLanes(n *ir.Node) bool {
	a := &n.Conv
	out := n.Shape.H * n.Shape.W
	return n.Inputs[0].Shape.C == a.Groups && a.Filters == a.Groups &&
		(out <= dwLanesOutWide || out <= dwLanesOut && a.KH*a.KW <= 25)
}

// channelChunk splits c channels of per units of work each (multiply-adds,
// elements) into tasks of chunk channels: least units a task, but at most
// an eighth of the channels, so that several workers share an image.
func channelChunk(c, per, least int) (chunk, tasks int) {
	chunk = max(1, min(ceilDiv(least, per), ceilDiv(c, 8)))
	return chunk, ceilDiv(c, chunk)
}

// dwScratch is the per-worker scratch of depthwise conv n with
// implementation im's SIMD kernels: codegen/rt's rtDWScratch.
func dwScratch(n *ir.Node, im impl) int {
	if !im.asm {
		return 0 // rtDepthwiseGo needs none
	}
	const slack = 16 // rtDWSlack
	a := &n.Conv
	hp := (n.Shape.H-1)*a.StrideH + (a.KH-1)*a.DilH + 1
	wp := (n.Shape.W-1)*a.StrideW + (a.KW-1)*a.DilW + 1
	lp, hq := ceilDiv(wp, a.StrideW), ceilDiv(hp, a.StrideH)
	cg := n.Inputs[0].Shape.C / a.Groups
	// rtDWOuts staged outputs; rtDWGroupedOuts filters' packed weights.
	outs, packed := 1, 0
	if a.Filters/a.Groups >= vec.GroupedOuts {
		outs, packed = vec.GroupedOuts, vec.GroupedOuts*cg*a.KH*a.KW
	}
	lanes := 0
	if dwLanes(n) {
		// rtDWLanesScratch: 16 channels' staged input, a slot, outputs,
		// weights, biases, and a vector to align them.
		lanes = 16 * (a.StrideH*a.StrideW*hq*lp + 3 + n.Shape.H*n.Shape.W + a.KH*a.KW)
	}
	return cg*a.StrideH*a.StrideW*hq*lp + slack + outs*(n.Shape.H*lp+slack) + packed + lanes
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
	if winoOutSizes(r) == nil || n.Inputs[0].Shape.C/a.Groups*s*s < winoMinChannels || a.Filters/a.Groups < winoMinChannels {
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

// winoOutSizes are the output tile sizes of cnnc's forms for r×r filters
// (winograd.Forms): 2 and 4 for 3x3, 2, 3 and 4 for 5x5, nil for others.
func winoOutSizes(r int) []int {
	var sizes []int
	for _, f := range wg.Forms {
		if f.R == r {
			sizes = append(sizes, f.M)
		}
	}
	return sizes
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

// bSource is where the tasks of an im2col+gemm convolution find their B
// panels (the im2col matrix's columns of tiles).
type bSource int

const (
	// bPack: each task packs its column's panel into its scratch.
	bPack bSource = iota
	// bInPlace: the kernels read the input itself (a direct convolution,
	// gemm.Config.LDB).
	bInPlace
	// bInPlaceButRagged: likewise, but a ragged last column is packed, as
	// with bPack: its whole-vector loads would run past the caller's
	// input (gemmPlan.raggedPacked).
	bInPlaceButRagged
	// bStaged: a step packs every column's panel into the staging buffer
	// first (its tasks are columns), so that the GEMM's tasks, chunks of
	// panels of filters (gemmChunk), do not each pack their column again.
	bStaged
)

// gemmTasks is about how many tasks gemmChunk gives a convolution with
// few columns of tiles, if it computes at least gemmChunkMACs
// multiply-adds (20-40 µs on one core): in smaller ones the staging step's
// hand-off would cost more than an idle worker.
const gemmTasks, gemmChunkMACs = 32, 1 << 22

// bSourceOf is where convolution p's tasks find their B panels with tile
// t at batch batch, for implementation im. A task is one column of tiles,
// but a layer with few columns (a 7x7 map at batch 1 has 1-2, a 14x14 one
// 4-5) is cut into chunks of panels of filters as well, so that every
// worker gets a share of similar size; then its panels are read in place
// or staged (but for small layers, see gemmChunkMACs: they keep whole
// columns). Packing in each chunk's task instead took ResNet-50's
// stride-2 3x3 layers twice as long: an im2col panel costs about a
// hundred multiply-adds per float.
func bSourceOf(p *gemmPlan, t tile, batch int, im impl) bSource {
	switch {
	case p.direct && im.asm && (p.N%t.NR == 0 || !p.raggedPacked):
		return bInPlace
	case fewColumns(p, t, batch):
		return bStaged
	case p.direct && im.asm:
		return bInPlaceButRagged
	}
	return bPack
}

// fewColumns reports whether convolution p, with tile t at batch batch,
// is cut into chunks of filter panels: fewer than gemmTasks columns of
// tiles, more than one panel, and at least gemmChunkMACs multiply-adds.
func fewColumns(p *gemmPlan, t tile, batch int) bool {
	return batch*p.G*t.nTiles < gemmTasks && t.mPanels > 1 && batch*p.G*p.M*p.N*p.K >= gemmChunkMACs
}

// packedFilters is the length of one image's copy of a convolution's
// filters packed for tile t, every group's: what a squeeze-excite scale
// folded into them (layer.gate) writes to the staging buffer per image.
func (p *gemmPlan) packedFilters(t tile) int { return p.G * t.mPanels * t.MR * p.K }

// ldbOf is the row stride of the B that tile t's kernels read from source
// s, on a ragged last column if ragged: the input's planes, N floats apart,
// where they are read in place, else a packed panel's NR.
func (p *gemmPlan) ldbOf(s bSource, t tile, ragged bool) int {
	switch {
	case s == bInPlace || s == bInPlaceButRagged && !ragged:
		return p.N
	case s == bPack:
		return t.pack * t.NR
	}
	return t.NR
}

// gemmChunk is how many panels of filters one task of convolution p
// computes (with tile t at batch batch, for implementation im), and how
// many such chunks a column of tiles has: about gemmTasks tasks in all
// where there are few columns and B is read in place or staged, whole
// columns otherwise.
func gemmChunk(p *gemmPlan, t tile, batch int, im impl) (size, chunks int) {
	if s := bSourceOf(p, t, batch, im); !fewColumns(p, t, batch) || s != bInPlace && s != bStaged {
		return t.mPanels, 1
	}
	chunks = max(1, min(t.mPanels, ceilDiv(gemmTasks, batch*p.G*t.nTiles)))
	size = ceilDiv(t.mPanels, chunks)
	return size, ceilDiv(t.mPanels, size)
}

// stagedB is where, in the staging buffer, layer l's staged B panels
// (bStaged) start, after its padded input and its scaled filters, and how
// long they are: a column's K×NR panel per image, group and column.
func stagedB(l *layer, t tile, batch int) (off, n int) {
	g := l.gemm
	off = batch * padLen(l.n)
	if l.gate != nil {
		off += batch * g.packedFilters(t)
	}
	return off, batch * g.G * t.nTiles * g.K * t.NR
}

// winoInChunk is the number of channels one task of a Winograd input
// transform handles.
const winoInChunk = 4
