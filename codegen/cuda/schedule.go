package cuda

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cnnc/cnnc/compiler/ir"
)

// Streams: every logical GPU has a compute stream, on which its kernels
// run, and a transfer stream, on which the copies into it run, so that
// copies overlap kernels wherever the data dependencies allow.
const (
	computeStream = 0
	copyStream    = 1
	streamsPerGPU = 2
)

// Memory spaces of a logical GPU: the activation arena (every node's output
// at its planned offset, Node.Buf times the GPU's batch) and the input
// buffer (the network input, Buf -1).
const (
	spaceArena = iota
	spaceInput
)

// region is a set of elements of one memory space of one GPU: for each of
// count images, elements [lo, hi) of the image at base + i*stride.
type region struct {
	gpu, space          int
	base, stride, count int
	lo, hi              int
}

// overlaps reports whether two regions may share an element: exactly for
// regions of the same tensor (same base and stride), conservatively (by
// their bounding intervals) otherwise.
func (r region) overlaps(s region) bool {
	if r.gpu != s.gpu || r.space != s.space || r.count == 0 || s.count == 0 || r.lo >= r.hi || s.lo >= s.hi {
		return false
	}
	if r.base == s.base && r.stride == s.stride && r.count == s.count {
		return r.lo < s.hi && s.lo < r.hi
	}
	rlo, rhi := r.base+r.lo, r.base+(r.count-1)*r.stride+r.hi
	slo, shi := s.base+s.lo, s.base+(s.count-1)*s.stride+s.hi
	return rlo < shi && slo < rhi
}

type opKind uint8

const (
	opLaunch   opKind = iota
	opCopy            // a peer copy between logical GPUs
	opUpload          // the input, host to GPU
	opDownload        // the output, GPU to host
)

// op is one asynchronous operation of an inference, on one stream.
type op struct {
	kind    opKind
	gpu     int
	stream  int
	node    *ir.Node
	comment string
	code    []string // C++ statements, run with the op's GPU current
	reads   []region
	writes  []region

	seq   int   // 1-based position in its stream
	vc    []int // vector clock: per stream, the last op known to be done before this one
	waits []*op // ops whose events this op's stream waits for
	event int   // the event recorded after it, or -1
	index int
}

func (o *op) streamID() int { return o.gpu*streamsPerGPU + o.stream }

type access struct {
	r     region
	o     *op
	write bool
}

// instance is one kernel instantiation: a struct of constants.
type instance struct {
	name   string
	kernel string
	doc    string
	ints   []kv
	floats []kv
}

type kv struct {
	k string
	v string
}

// weightSlot is where one GPU keeps one layer's parameters, in floats from
// the start of its weight buffer.
type weightSlot struct {
	node         *ir.Node
	gpu          int
	wOff, bOff   int // conv/dense: rows, bias; batchnorm: scale, shift
	rowLo, rowHi int // conv/dense: the output rows (filters, units) held
	rowLen       int
}

// schedule is one inference, as ops in issue order, and everything the
// generated code allocates.
type schedule struct {
	g      *ir.Graph
	gpus   int
	data   bool
	batch  int
	bd, b0 []int // per GPU: images, first image
	place  []Placement

	ops     []*op
	acc     []access
	last    []*op // per stream
	events  []int // per event: its GPU
	insts   []*instance
	instBy  map[string]*instance
	instCnt map[string]int

	weights    [][]weightSlot // per GPU
	weightsLen []int          // per GPU, floats
	arenaLen   []int          // per GPU, floats
	inputLen   []int          // per GPU, floats
	uses       [][streamsPerGPU]bool

	avail map[*ir.Node][][]Range // per node and GPU: channels valid there now
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// buildSchedule plans one inference of g over the given placements.
func buildSchedule(g *ir.Graph, opt Options, place []Placement, bd, b0 []int) (*schedule, error) {
	s := &schedule{
		g: g, gpus: len(bd), data: opt.Parallel == Data, batch: opt.Batch, bd: bd, b0: b0, place: place,
		last:    make([]*op, len(bd)*streamsPerGPU),
		instBy:  map[string]*instance{},
		instCnt: map[string]int{},
		weights: make([][]weightSlot, len(bd)), weightsLen: make([]int, len(bd)),
		arenaLen: make([]int, len(bd)), inputLen: make([]int, len(bd)),
		uses:  make([][streamsPerGPU]bool, len(bd)),
		avail: map[*ir.Node][][]Range{},
	}
	in := g.Input()
	for d := range s.gpus {
		s.arenaLen[d] = g.Mem.ArenaElems * bd[d]
		s.inputLen[d] = in.Shape.Elems() * bd[d]
	}
	s.layoutWeights()

	// The input: uploaded whole (model parallelism) or in slices (data
	// parallelism) to every GPU that reads it.
	s.avail[in] = make([][]Range, s.gpus)
	readsInput := make([]bool, s.gpus)
	for _, p := range place {
		for i, x := range p.Node.Inputs {
			if x != in {
				continue
			}
			for d := range s.gpus {
				if len(p.In[d][i]) > 0 {
					readsInput[d] = true
				}
			}
		}
	}
	if g.Output == in {
		for d := range s.gpus {
			readsInput[d] = readsInput[d] || bd[d] > 0 && (s.data || d == 0)
		}
	}
	for d := range s.gpus {
		if !readsInput[d] || bd[d] == 0 {
			continue
		}
		e := in.Shape.Elems()
		s.add(&op{kind: opUpload, gpu: d, stream: computeStream, node: in,
			comment: fmt.Sprintf("the input, images %d..%d", b0[d], b0[d]+bd[d]-1),
			code: []string{fmt.Sprintf("CNNC_CK(cudaMemcpyAsync(m->input[%d], in + %d, %d * sizeof(float), cudaMemcpyHostToDevice, %s));",
				d, b0[d]*e, bd[d]*e, streamExpr(d, computeStream))},
			writes: []region{s.tensorRegion(in, d, Range{0, in.Shape.C})}})
		s.avail[in][d] = all(in.Shape.C)
	}

	for _, p := range place {
		if err := s.layer(p); err != nil {
			return nil, err
		}
	}

	// The output: gathered on GPU 0, or each GPU's images from it.
	out := g.Output
	e := out.Shape.Elems()
	for d := range s.gpus {
		if bd[d] == 0 || !s.data && d > 0 {
			continue
		}
		if !s.data {
			if err := s.exchange(out, d, all(out.Shape.C)); err != nil {
				return nil, err
			}
		}
		src := s.tensorPtr(out, d)
		s.add(&op{kind: opDownload, gpu: d, stream: computeStream, node: out,
			comment: fmt.Sprintf("the output (%s), images %d..%d", out.Name, b0[d], b0[d]+bd[d]-1),
			code: []string{fmt.Sprintf("CNNC_CK(cudaMemcpyAsync(out + %d, %s, %d * sizeof(float), cudaMemcpyDeviceToHost, %s));",
				b0[d]*e, src, bd[d]*e, streamExpr(d, computeStream))},
			reads: []region{s.tensorRegion(out, d, Range{0, out.Shape.C})}})
	}
	return s, nil
}

func streamExpr(d, st int) string { return fmt.Sprintf("m->stream[%d][%d]", d, st) }

// layoutWeights gives every parameter slice a GPU needs a place in its
// weight buffer, 64-float aligned.
func (s *schedule) layoutWeights() {
	alloc := func(d, n int) int {
		off := s.weightsLen[d]
		s.weightsLen[d] += (n + 63) / 64 * 64
		return off
	}
	for _, p := range s.place {
		n := p.Node
		for d := range s.gpus {
			switch n.Op {
			case ir.OpConv, ir.OpDense:
				c := p.Conv[d]
				if c.Empty() {
					continue
				}
				var rows Range
				var rowLen int
				if n.Op == ir.OpConv {
					rows = c.Filters(n.Conv.Filters / n.Conv.Groups)
					rowLen = n.Inputs[0].Shape.C / n.Conv.Groups * n.Conv.KH * n.Conv.KW
				} else {
					rows = Range{c.M0, c.M1}
					rowLen = n.Inputs[0].Shape.Elems()
				}
				w := alloc(d, rows.Len()*rowLen)
				b := alloc(d, rows.Len())
				s.weights[d] = append(s.weights[d], weightSlot{node: n, gpu: d, wOff: w, bOff: b, rowLo: rows.Lo, rowHi: rows.Hi, rowLen: rowLen})
			case ir.OpBatchNorm, ir.OpLayerNorm:
				if len(p.Out[d]) == 0 {
					continue
				}
				w := alloc(d, n.Shape.C)
				b := alloc(d, n.Shape.C)
				s.weights[d] = append(s.weights[d], weightSlot{node: n, gpu: d, wOff: w, bOff: b, rowLo: 0, rowHi: n.Shape.C, rowLen: 1})
			case ir.OpPReLU:
				if len(p.Out[d]) == 0 {
					continue
				}
				w := alloc(d, n.Shape.C) // the slopes, one per channel even when shared
				s.weights[d] = append(s.weights[d], weightSlot{node: n, gpu: d, wOff: w, rowLo: 0, rowHi: n.Shape.C, rowLen: 1})
			}
		}
	}
}

func (s *schedule) slot(n *ir.Node, d int) weightSlot {
	for _, w := range s.weights[d] {
		if w.node == n {
			return w
		}
	}
	panic("cuda: no weight slot for " + n.Name)
}

// tensorRegion is the region channels r of node n occupy on GPU d.
func (s *schedule) tensorRegion(n *ir.Node, d int, r Range) region {
	hw := chanHW(n)
	reg := region{gpu: d, space: spaceArena, base: n.Buf * s.bd[d], stride: n.Shape.Elems(), count: s.bd[d], lo: r.Lo * hw, hi: r.Hi * hw}
	if n.Buf < 0 {
		reg.space, reg.base = spaceInput, 0
	}
	return reg
}

// tensorPtr is the C++ expression of node n's storage on GPU d.
func (s *schedule) tensorPtr(n *ir.Node, d int) string {
	if n.Buf < 0 {
		return fmt.Sprintf("m->input[%d]", d)
	}
	if off := n.Buf * s.bd[d]; off > 0 {
		return fmt.Sprintf("m->arena[%d] + %d", d, off)
	}
	return fmt.Sprintf("m->arena[%d]", d)
}

// add appends o, making its stream wait for every earlier op on another
// stream that it conflicts with (read after write, write after read or
// write on overlapping regions of the same GPU) and that it is not already
// ordered after. Ordering is tracked with vector clocks, so that waits
// implied by other waits are left out.
func (s *schedule) add(o *op) {
	id := o.streamID()
	o.index = len(s.ops)
	o.event = -1
	o.vc = make([]int, len(s.last))
	if prev := s.last[id]; prev != nil {
		copy(o.vc, prev.vc)
		o.seq = prev.seq + 1
	} else {
		o.seq = 1
	}
	o.vc[id] = o.seq - 1
	var conflicts []*op
	for _, a := range s.acc {
		if a.o.streamID() == id {
			continue
		}
		hit := false
		for _, w := range o.writes {
			if w.overlaps(a.r) {
				hit = true
			}
		}
		if a.write {
			for _, r := range o.reads {
				if r.overlaps(a.r) {
					hit = true
				}
			}
		}
		if hit && !slices.Contains(conflicts, a.o) {
			conflicts = append(conflicts, a.o)
		}
	}
	slices.SortFunc(conflicts, func(a, b *op) int { return b.index - a.index })
	for _, c := range conflicts {
		cid := c.streamID()
		if o.vc[cid] >= c.seq {
			continue // already ordered after it
		}
		o.waits = append(o.waits, c)
		for i, v := range c.vc {
			o.vc[i] = max(o.vc[i], v)
		}
		o.vc[cid] = max(o.vc[cid], c.seq)
		if c.event < 0 {
			c.event = len(s.events)
			s.events = append(s.events, c.gpu)
		}
	}
	slices.SortFunc(o.waits, func(a, b *op) int { return a.index - b.index })
	o.vc[id] = o.seq
	s.last[id] = o
	s.uses[o.gpu][o.stream] = true
	for _, r := range o.reads {
		s.acc = append(s.acc, access{r: r, o: o})
	}
	for _, w := range o.writes {
		s.acc = append(s.acc, access{r: w, o: o, write: true})
	}
	s.ops = append(s.ops, o)
}

// exchange makes channels need of node x valid on GPU d, copying what is
// missing from the GPUs that computed it (or, failing that, hold it).
func (s *schedule) exchange(x *ir.Node, d int, need []Range) error {
	if s.avail[x] == nil {
		s.avail[x] = make([][]Range, s.gpus)
	}
	missing := subtract(merge(need), s.avail[x][d])
	if len(missing) == 0 {
		return nil
	}
	if s.data {
		return fmt.Errorf("cuda: internal error: %s channels %v missing on GPU %d under data parallelism", x.Name, missing, d)
	}
	own := s.ownOf(x)
	for pass := range 2 {
		for src := range s.gpus {
			if src == d || len(missing) == 0 {
				continue
			}
			have := s.avail[x][src]
			if pass == 0 {
				have = intersect(have, own[src])
			}
			for _, r := range intersect(missing, have) {
				s.copyRange(x, src, d, r)
				s.avail[x][d] = merge(append(s.avail[x][d], r))
			}
			missing = subtract(missing, have)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("cuda: internal error: %s channels %v are on no GPU", x.Name, missing)
	}
	return nil
}

func (s *schedule) ownOf(x *ir.Node) [][]Range {
	for _, p := range s.place {
		if p.Node == x {
			return p.Out
		}
	}
	o := make([][]Range, s.gpus)
	o[0] = all(x.Shape.C)
	return o
}

// copyRange copies channels r of node x from GPU src to GPU d, on d's
// transfer stream: one copy for the whole tensor or one image, else one
// per image.
func (s *schedule) copyRange(x *ir.Node, src, d int, r Range) {
	hw, e, B := chanHW(x), x.Shape.Elems(), s.bd[d]
	dreg, sreg := s.tensorRegion(x, d, r), s.tensorRegion(x, src, r)
	space := "arena"
	if dreg.space == spaceInput {
		space = "input"
	}
	peer := func(off, i, n int) string {
		idx := itoa(off)
		if i > 0 {
			idx += fmt.Sprintf(" + i * %d", i)
		}
		return fmt.Sprintf("CNNC_CK(cudaMemcpyPeerAsync(m->%s[%d] + %s, m->device[%d], m->%s[%d] + %s, m->device[%d], %d * sizeof(float), %s));",
			space, d, idx, d, space, src, idx, src, n, streamExpr(d, copyStream))
	}
	var code []string
	switch {
	case r.Lo == 0 && r.Hi == x.Shape.C:
		code = []string{peer(dreg.base, 0, e*B)}
	case B == 1:
		code = []string{peer(dreg.base+r.Lo*hw, 0, r.Len()*hw)}
	default:
		code = []string{fmt.Sprintf("for (int i = 0; i < %d; ++i)", B), "  " + peer(dreg.base+r.Lo*hw, e, r.Len()*hw)}
	}
	unit := "channels"
	if x.Shape.Flat {
		unit = "features"
	}
	s.add(&op{kind: opCopy, gpu: d, stream: copyStream, node: x,
		comment: fmt.Sprintf("%s %s %d..%d: GPU %d -> GPU %d", x.Name, unit, r.Lo, r.Hi-1, src, d),
		code:    code, reads: []region{sreg}, writes: []region{dreg}})
}

// layer schedules one layer: the exchanges its inputs need, then its
// kernels on every GPU that computes part of it.
func (s *schedule) layer(p Placement) error {
	n := p.Node
	if p.Strategy == Shared {
		in := n.Inputs[0]
		scale := 1
		if n.Op == ir.OpFlatten {
			scale = chanHW(in)
		}
		av := make([][]Range, s.gpus)
		for d := range s.gpus {
			for _, r := range s.avail[in][d] {
				av[d] = append(av[d], Range{r.Lo * scale, r.Hi * scale})
			}
		}
		s.avail[n] = av
		return nil
	}
	for d := range s.gpus {
		for i, x := range n.Inputs {
			if err := s.exchange(x, d, p.In[d][i]); err != nil {
				return err
			}
		}
	}
	s.avail[n] = make([][]Range, s.gpus)
	for d := range s.gpus {
		if s.bd[d] == 0 {
			continue
		}
		switch n.Op {
		case ir.OpConv, ir.OpDense:
			if p.Conv[d].Empty() {
				continue
			}
			s.gemmLayer(p, d)
		default:
			for _, r := range p.Out[d] {
				if err := s.channelLayer(p, d, r); err != nil {
					return err
				}
			}
		}
		s.avail[n][d] = merge(p.Out[d])
	}
	return nil
}

// The fused activation's constants.
func actConsts(a ir.Activation) []kv {
	return []kv{{"ACT", actNames[a.Kind]}}
}

// actNames are cnnc_kernels.cuh's names of the activation kinds.
var actNames = [...]string{ir.ActNone: "cnnc::kActNone", ir.ActReLU: "cnnc::kActReLU", ir.ActLeakyReLU: "cnnc::kActLeakyReLU",
	ir.ActSigmoid: "cnnc::kActSigmoid", ir.ActTanh: "cnnc::kActTanh", ir.ActClip: "cnnc::kActClip", ir.ActHardSigmoid: "cnnc::kActHardSigmoid",
	ir.ActHardSwish: "cnnc::kActHardSwish", ir.ActSiLU: "cnnc::kActSiLU", ir.ActGELU: "cnnc::kActGELU", ir.ActGELUTanh: "cnnc::kActGELUTanh"}

var _ = [1]struct{}{}[len(actNames)-int(ir.NumActKinds)]

// slopeConsts are the activation's constants, ACTA and ACTB.
func slopeConsts(a ir.Activation) []kv {
	return []kv{{"ACTA", cfloat(float64(a.Alpha))}, {"ACTB", cfloat(float64(a.Beta))}}
}

// cfloat formats v rounded to float32 as a C++ float literal that reads
// back as the same float.
func cfloat(v float64) string {
	f := float32(v)
	if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) {
		panic(fmt.Sprintf("cuda: constant %v is not finite", v))
	}
	str := strconv.FormatFloat(float64(f), 'g', -1, 32)
	if !strings.ContainsAny(str, ".e") {
		str += ".0"
	}
	return str + "f"
}

func itoa(v int) string { return strconv.Itoa(v) }

// inst returns the instance with these constants, defining it if new.
func (s *schedule) inst(kernel string, n *ir.Node, doc string, ints []kv, floats []kv) *instance {
	var key strings.Builder
	key.WriteString(kernel)
	for _, c := range append(append([]kv(nil), ints...), floats...) {
		key.WriteString(" " + c.k + "=" + c.v)
	}
	if in, ok := s.instBy[key.String()]; ok {
		return in
	}
	k := s.instCnt[n.Name]
	s.instCnt[n.Name]++
	in := &instance{name: fmt.Sprintf("K_%s_%d", n.Name, k), kernel: kernel, doc: doc, ints: ints, floats: floats}
	s.instBy[key.String()] = in
	s.insts = append(s.insts, in)
	return in
}

func dim3(x, y, z int) string {
	if y == 1 && z == 1 {
		return fmt.Sprintf("dim3(%d)", x)
	}
	return fmt.Sprintf("dim3(%d, %d, %d)", x, y, z)
}

// launch adds a kernel launch on GPU d's compute stream.
func (s *schedule) launch(n *ir.Node, d int, in *instance, grid string, threads int, args []string, comment string, reads, writes []region) {
	code := []string{
		fmt.Sprintf("CNNC_LAUNCH(cnnc::%s<%s>, %s, dim3(%d), %s, %s);", in.kernel, in.name, grid, threads, streamExpr(d, computeStream), strings.Join(args, ", ")),
		"CNNC_CK(cudaGetLastError());",
	}
	s.add(&op{kind: opLaunch, gpu: d, stream: computeStream, node: n, comment: comment, code: code, reads: reads, writes: writes})
}

// elementwiseGrid is the grid of a grid-stride kernel over total elements.
func elementwiseGrid(total int) string { return dim3(min(max(ceilDiv(total, 256), 1), 4096), 1, 1) }

// pow2 is the smallest power of two >= v, within [lo, hi].
func pow2(v, lo, hi int) int {
	p := lo
	for p < v && p < hi {
		p *= 2
	}
	return p
}

// gemvMaxBatch is the largest batch (per GPU) dense layers run as GEMVs,
// and gemvUnitsPerBlock the units each block of a GEMV computes (reading the
// input once for all of them).
const (
	gemvMaxBatch      = 8
	gemvUnitsPerBlock = 4
)

func tile(v int) int {
	switch {
	case v >= 48:
		return 64
	case v >= 24:
		return 32
	}
	return 16
}

func (s *schedule) gemmLayer(p Placement, d int) {
	n := p.Node
	in := n.Inputs[0]
	c := p.Conv[d]
	w := s.slot(n, d)
	B := s.bd[d]
	wp := fmt.Sprintf("m->weights[%d] + %d", d, w.wOff)
	bp := fmt.Sprintf("m->weights[%d] + %d", d, w.bOff)
	if w.wOff == 0 {
		wp = fmt.Sprintf("m->weights[%d]", d)
	}
	act := n.Act
	writes := []region{s.tensorRegion(n, d, Range{w.rowLo, w.rowHi})}
	var reads []region
	for _, r := range p.In[d][0] {
		reads = append(reads, s.tensorRegion(in, d, r))
	}
	args := []string{s.tensorPtr(in, d), wp, bp, s.tensorPtr(n, d)}
	if n.Op == ir.OpDense && B <= gemvMaxBatch {
		upb := min(gemvUnitsPerBlock, c.M1-c.M0)
		k := s.inst("dense_gemv", n, fmt.Sprintf("%s: dense %s, units %d..%d, %d image(s)", n.Name, n.Attrs(), c.M0, c.M1-1, B),
			append([]kv{{"B", itoa(B)}, {"IN", itoa(in.Shape.Elems())}, {"U", itoa(n.Dense.Units)}, {"U0", itoa(c.M0)}, {"U1", itoa(c.M1)}, {"UPB", itoa(upb)}}, actConsts(act)...),
			slopeConsts(act))
		s.launch(n, d, k, dim3(min(ceilDiv(c.M1-c.M0, upb), 1<<30), 1, 1), 128, args,
			fmt.Sprintf("%s: units %d..%d of %d as GEMVs, %d units per block", n.Name, c.M0, c.M1-1, n.Dense.Units, upb), reads, writes)
		return
	}
	var ints []kv
	var doc string
	var G, OH, OW int
	if n.Op == ir.OpConv {
		a := &n.Conv
		G, OH, OW = a.Groups, n.Shape.H, n.Shape.W
		ints = []kv{{"B", itoa(B)}, {"C", itoa(in.Shape.C)}, {"H", itoa(in.Shape.H)}, {"W", itoa(in.Shape.W)},
			{"F", itoa(a.Filters)}, {"G", itoa(a.Groups)}, {"KH", itoa(a.KH)}, {"KW", itoa(a.KW)},
			{"SH", itoa(a.StrideH)}, {"SW", itoa(a.StrideW)}, {"DH", itoa(a.DilH)}, {"DW", itoa(a.DilW)},
			{"PT", itoa(a.Pad.Top)}, {"PL", itoa(a.Pad.Left)}, {"OH", itoa(OH)}, {"OW", itoa(OW)}}
		doc = fmt.Sprintf("%s: conv %s, groups %d..%d, filters %d..%d of each, %d image(s)", n.Name, n.Attrs(), c.G0, c.G1-1, c.M0, c.M1-1, B)
	} else {
		G, OH, OW = 1, 1, 1
		ints = []kv{{"B", itoa(B)}, {"C", itoa(in.Shape.Elems())}, {"H", "1"}, {"W", "1"},
			{"F", itoa(n.Dense.Units)}, {"G", "1"}, {"KH", "1"}, {"KW", "1"},
			{"SH", "1"}, {"SW", "1"}, {"DH", "1"}, {"DW", "1"},
			{"PT", "0"}, {"PL", "0"}, {"OH", "1"}, {"OW", "1"}}
		doc = fmt.Sprintf("%s: dense %s as a GEMM (a 1x1 convolution of a 1x1 image), units %d..%d, %d image(s)", n.Name, n.Attrs(), c.M0, c.M1-1, B)
	}
	M, N := c.M1-c.M0, B*OH*OW
	BM, BN := tile(M), tile(N)
	ints = append(ints, kv{"BM", itoa(BM)}, kv{"BN", itoa(BN)}, kv{"G0", itoa(c.G0)}, kv{"G1", itoa(c.G1)}, kv{"M0", itoa(c.M0)}, kv{"M1", itoa(c.M1)})
	ints = append(ints, actConsts(act)...)
	k := s.inst("conv2d", n, doc, ints, slopeConsts(act))
	grid := dim3(ceilDiv(N, BN), min(ceilDiv(M, BM), 65535), min(c.G1-c.G0, 65535))
	what := "filters"
	if n.Op == ir.OpDense {
		what = "units"
	}
	s.launch(n, d, k, grid, BM/4*BN/4, args,
		fmt.Sprintf("%s: groups %d..%d of %d, %s %d..%d of each: implicit GEMM, %dx%d tiles", n.Name, c.G0, c.G1-1, G, what, c.M0, c.M1-1, BM, BN), reads, writes)
}

// channelLayer launches the kernel of a non-GEMM layer for output channels r on GPU d.
func (s *schedule) channelLayer(p Placement, d int, r Range) error {
	n := p.Node
	in := n.Inputs[0]
	B := s.bd[d]
	act := n.Act
	out := n.Shape
	hw := out.H * out.W
	writes := []region{s.tensorRegion(n, d, r)}
	var reads []region
	for i, x := range n.Inputs {
		for _, q := range p.In[d][i] {
			reads = append(reads, s.tensorRegion(x, d, q))
		}
	}
	part := fmt.Sprintf("channels %d..%d", r.Lo, r.Hi-1)
	if out.Flat {
		part = fmt.Sprintf("features %d..%d", r.Lo, r.Hi-1)
	}
	doc := fmt.Sprintf("%s: %s, %s, %d image(s)", n.Name, strings.TrimSpace(n.Op.String()+" "+n.Attrs()), part, B)
	ptrIn, ptrOut := s.tensorPtr(in, d), s.tensorPtr(n, d)
	shape := []kv{{"B", itoa(B)}, {"C", itoa(in.Shape.C)}, {"H", itoa(in.Shape.H)}, {"W", itoa(in.Shape.W)}}
	chans := []kv{{"C0", itoa(r.Lo)}, {"C1", itoa(r.Hi)}}
	lrnConsts := func(a *ir.LRNAttrs) ([]kv, []kv) {
		return []kv{{"LSIZE", itoa(a.Size)}}, []kv{{"LK", cfloat(a.K)}, {"LSCALE", cfloat(a.Alpha / float64(a.Size))}, {"LBETA", cfloat(a.Beta)}}
	}
	op := n.Op
	if op.IsActivation() {
		op = ir.OpReLU // every activation runs the activate kernel
	}
	switch op {
	case ir.OpMaxPool, ir.OpAvgPool:
		a := &n.Pool
		ints := append(append([]kv(nil), shape...), kv{"OH", itoa(out.H)}, kv{"OW", itoa(out.W)}, kv{"KH", itoa(a.KH)}, kv{"KW", itoa(a.KW)},
			kv{"SH", itoa(a.StrideH)}, kv{"SW", itoa(a.StrideW)}, kv{"PT", itoa(a.Pad.Top)}, kv{"PL", itoa(a.Pad.Left)},
			kv{"PB", itoa(a.Pad.Bottom)}, kv{"PR", itoa(a.Pad.Right)},
			kv{"MAX", boolc(n.Op == ir.OpMaxPool)}, kv{"COUNTPAD", boolc(a.CountPad)}, kv{"LRN", boolc(n.PreLRN != nil)})
		var floats []kv
		if n.PreLRN != nil {
			li, lf := lrnConsts(n.PreLRN)
			ints = append(ints, li...)
			floats = append(floats, lf...)
		}
		ints = append(append(ints, chans...), actConsts(act)...)
		k := s.inst("pool2d", n, doc, ints, append(floats, slopeConsts(act)...))
		total := B * r.Len() * hw
		s.launch(n, d, k, elementwiseGrid(total), 256, []string{ptrIn, ptrOut}, doc, reads, writes)
	case ir.OpLRN:
		li, lf := lrnConsts(&n.LRN)
		ints := append(append(append(append([]kv(nil), shape...), li...), chans...), actConsts(act)...)
		k := s.inst("lrn", n, doc, ints, append(lf, slopeConsts(act)...))
		s.launch(n, d, k, elementwiseGrid(B*r.Len()*hw), 256, []string{ptrIn, ptrOut}, doc, reads, writes)
	case ir.OpBatchNorm:
		w := s.slot(n, d)
		ints := append(append(append([]kv(nil), shape...), chans...), actConsts(act)...)
		k := s.inst("scale_shift", n, doc, ints, slopeConsts(act))
		s.launch(n, d, k, elementwiseGrid(B*r.Len()*hw), 256,
			[]string{ptrIn, fmt.Sprintf("m->weights[%d] + %d", d, w.wOff), fmt.Sprintf("m->weights[%d] + %d", d, w.bOff), ptrOut}, doc, reads, writes)
	case ir.OpPReLU:
		w := s.slot(n, d)
		ints := append(append([]kv(nil), shape...), chans...)
		k := s.inst("prelu", n, doc, ints, nil)
		s.launch(n, d, k, elementwiseGrid(B*r.Len()*hw), 256,
			[]string{ptrIn, fmt.Sprintf("m->weights[%d] + %d", d, w.wOff), ptrOut}, doc, reads, writes)
	case ir.OpReLU:
		a := ir.ActivationOf(n)
		if act.Kind != ir.ActNone {
			return fmt.Errorf("cuda: layer %s: an activation with a fused activation", n.Name)
		}
		ints := append([]kv{{"B", itoa(B)}, {"E", itoa(out.Elems())}, {"E0", itoa(r.Lo * hw)}, {"E1", itoa(r.Hi * hw)}}, actConsts(a)...)
		k := s.inst("activate", n, doc, ints, slopeConsts(a))
		s.launch(n, d, k, elementwiseGrid(B*r.Len()*hw), 256, []string{ptrIn, ptrOut}, doc, reads, writes)
	case ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv:
		broadcast := false
		for _, x := range n.Inputs {
			broadcast = broadcast || ir.Broadcast(x.Shape, out)
		}
		if n.Op != ir.OpAdd || broadcast {
			// a op b, then (add) + c + ...: each launch reads its operands
			// before it writes out, element by element.
			ops := map[ir.Op]string{ir.OpAdd: "0", ir.OpSub: "1", ir.OpMul: "2", ir.OpDiv: "3"}
			a, ptrA := n.Inputs[0], s.tensorPtr(n.Inputs[0], d)
			for i, x := range n.Inputs[1:] {
				last := i == len(n.Inputs)-2
				st := func(p string, sh ir.Shape) []kv {
					sc, sy, sx := sh.Strides()
					return []kv{{"E" + p, itoa(sh.Elems())}, {"S" + p + "C", itoa(sc)}, {"S" + p + "H", itoa(sy)}, {"S" + p + "W", itoa(sx)}}
				}
				f := ir.Activation{}
				if last {
					f = act
				}
				ints := append([]kv{{"B", itoa(B)}, {"E", itoa(out.Elems())}, {"H", itoa(out.H)}, {"W", itoa(out.W)}, {"E0", itoa(r.Lo * hw)}, {"E1", itoa(r.Hi * hw)}, {"OP", ops[n.Op]}}, st("A", a.Shape)...)
				ints = append(append(ints, st("B", x.Shape)...), actConsts(f)...)
				k := s.inst("arith", n, doc, ints, slopeConsts(f))
				s.launch(n, d, k, elementwiseGrid(B*r.Len()*hw), 256, []string{ptrA, s.tensorPtr(x, d), ptrOut}, doc, reads, writes)
				a, ptrA = n, ptrOut
			}
			break
		}
		var ptrs []string
		for _, x := range n.Inputs {
			ptrs = append(ptrs, s.tensorPtr(x, d))
		}
		ints := append([]kv{{"B", itoa(B)}, {"E", itoa(out.Elems())}, {"E0", itoa(r.Lo * hw)}, {"E1", itoa(r.Hi * hw)}, {"NIN", itoa(len(n.Inputs))}}, actConsts(act)...)
		k := s.inst("add", n, doc, ints, slopeConsts(act))
		s.launch(n, d, k, elementwiseGrid(B*r.Len()*hw), 256,
			[]string{fmt.Sprintf("cnnc::Ptrs<%d>{{%s}}", len(n.Inputs), strings.Join(ptrs, ", ")), ptrOut}, doc, reads, writes)
	case ir.OpGlobalAvgPool:
		ihw := in.Shape.H * in.Shape.W
		nt := pow2(ihw, 32, 256)
		ints := append(append(append(append([]kv(nil), shape...), chans...), kv{"NT", itoa(nt)}), actConsts(act)...)
		k := s.inst("global_avg", n, doc, ints, slopeConsts(act))
		s.launch(n, d, k, dim3(min(B*r.Len(), 1<<20), 1, 1), nt, []string{ptrIn, ptrOut}, doc, reads, writes)
	case ir.OpLayerNorm:
		w := s.slot(n, d)
		k := s.inst("layernorm", n, doc, append([]kv(nil), shape...), []kv{{"EPS", cfloat(n.BN.Eps)}})
		s.launch(n, d, k, elementwiseGrid(B*hw), 256,
			[]string{ptrIn, fmt.Sprintf("m->weights[%d] + %d", d, w.wOff), fmt.Sprintf("m->weights[%d] + %d", d, w.bOff), ptrOut}, doc, reads, writes)
	case ir.OpSlice:
		lo, hi := r.Lo*hw, r.Hi*hw
		ints := append([]kv{{"B", itoa(B)}, {"EIN", itoa(in.Shape.Elems())}, {"EOUT", itoa(out.Elems())}, {"OFF", "0"}, {"IOFF", itoa(n.Slice.Start * hw)}, {"E0", itoa(lo)}, {"E1", itoa(hi)}}, actConsts(act)...)
		k := s.inst("copy", n, doc, ints, slopeConsts(act))
		s.launch(n, d, k, elementwiseGrid(B*(hi-lo)), 256, []string{ptrIn, ptrOut}, doc, reads, writes)
	case ir.OpChannelShuffle:
		k := s.inst("shuffle", n, doc, append(append([]kv(nil), shape...), kv{"G", itoa(n.Groups)}), nil)
		s.launch(n, d, k, elementwiseGrid(B*out.Elems()), 256, []string{ptrIn, ptrOut}, doc, reads, writes)
	case ir.OpSoftmax:
		nt := pow2(out.C, 32, 256)
		k := s.inst("softmax", n, doc, append(append([]kv(nil), shape...), kv{"NT", itoa(nt)}), nil)
		s.launch(n, d, k, dim3(min(B*hw, 1<<20), 1, 1), nt, []string{ptrIn, ptrOut}, doc, reads, writes)
	case ir.OpFlatten, ir.OpDropout:
		// A copy: the memory plan did not let it share its input's storage.
		// Output features (flatten) and elements (dropout) are input elements.
		e := in.Shape.Elems()
		lo, hi := r.Lo*hw, r.Hi*hw
		ints := append([]kv{{"B", itoa(B)}, {"EIN", itoa(e)}, {"EOUT", itoa(out.Elems())}, {"OFF", "0"}, {"IOFF", "0"}, {"E0", itoa(lo)}, {"E1", itoa(hi)}}, actConsts(act)...)
		k := s.inst("copy", n, doc, ints, slopeConsts(act))
		s.launch(n, d, k, elementwiseGrid(B*(hi-lo)), 256, []string{ptrIn, ptrOut}, doc, reads, writes)
	case ir.OpConcat:
		// r is a range of output channels; copy the part of each input in it.
		off := 0
		for i, x := range n.Inputs {
			xr := intersect([]Range{{r.Lo - off, r.Hi - off}}, all(x.Shape.C))
			for _, q := range xr {
				xhw := chanHW(x)
				ints := append([]kv{{"B", itoa(B)}, {"EIN", itoa(x.Shape.Elems())}, {"EOUT", itoa(out.Elems())}, {"OFF", itoa(off * xhw)}, {"IOFF", "0"},
					{"E0", itoa(q.Lo * xhw)}, {"E1", itoa(q.Hi * xhw)}}, actConsts(act)...)
				qdoc := fmt.Sprintf("%s: concat, input %d (%s) channels %d..%d at channel %d, %d image(s)", n.Name, i, x.Name, q.Lo, q.Hi-1, off+q.Lo, B)
				k := s.inst("copy", n, qdoc, ints, slopeConsts(act))
				s.launch(n, d, k, elementwiseGrid(B*q.Len()*xhw), 256, []string{s.tensorPtr(x, d), ptrOut}, qdoc,
					[]region{s.tensorRegion(x, d, q)}, []region{s.tensorRegion(n, d, Range{q.Lo + off, q.Hi + off})})
			}
			off += x.Shape.C
		}
	default:
		return fmt.Errorf("cuda: layer %s: no kernel for op %s", n.Name, n.Op)
	}
	return nil
}

func boolc(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
