package cuda

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/params"
)

// writer accumulates generated text.
type writer struct{ b strings.Builder }

func (w *writer) p(format string, args ...any) {
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

// comment writes text as // lines with the given indent.
func (w *writer) comment(indent, text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		w.p("%s", strings.TrimRight(indent+"// "+line, " "))
	}
}

func (c *gen) prefix() string { return prefixOf(c.pkg) }

// prefixOf is the prefix of package pkg's C identifiers.
func prefixOf(pkg string) string { return "cnnc_" + pkg }

func (c *gen) macro() string { return "CNNC_" + strings.ToUpper(c.pkg) }

// Layers lists, per layer, where it runs: for the documentation of the
// generated code and for tests.
func (c *gen) layerTable() string {
	rows := [][]string{{"layer", "op", "output", "MACs", "placement"}}
	for _, p := range c.place {
		n := p.Node
		op := n.Op.String()
		if len(n.Fused) > 0 {
			op += " [" + strings.Join(n.Fused, " ") + "]"
		}
		rows = append(rows, []string{n.Name, op, n.Shape.String(), compiler.Group(ir.MACs(n)), describePlacement(p, c.s.data, c.s.bd, c.s.b0)})
	}
	w := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, s := range r {
			w[i] = max(w[i], len(s))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var line []string
		for i, s := range r {
			if i == 3 {
				line = append(line, strings.Repeat(" ", w[i]-len(s))+s)
			} else {
				line = append(line, s+strings.Repeat(" ", w[i]-len(s)))
			}
		}
		b.WriteString(strings.TrimRight(strings.Join(line, "  "), " ") + "\n")
	}
	return b.String()
}

// describePlacement says what each GPU computes of a layer.
func describePlacement(p Placement, data bool, bd, b0 []int) string {
	var parts []string
	for d := range p.Out {
		if data {
			if bd[d] > 0 {
				parts = append(parts, fmt.Sprintf("%d: images %d-%d", d, b0[d], b0[d]+bd[d]-1))
			}
			continue
		}
		var rs []string
		for _, r := range p.Out[d] {
			rs = append(rs, fmt.Sprintf("%d-%d", r.Lo, r.Hi-1))
		}
		if len(rs) > 0 {
			parts = append(parts, fmt.Sprintf("%d: %s", d, strings.Join(rs, ",")))
		}
	}
	return p.Strategy.String() + " " + strings.Join(parts, " | ")
}

// headerFile is the C API.
func (c *gen) headerFile() ([]byte, error) {
	g, pre, mac := c.g, c.prefix(), c.macro()
	in, out := g.Input().Shape, g.Output.Shape
	w := &writer{}
	w.p("%s", c.headerLine())
	w.p("")
	w.comment("", strings.ReplaceAll(fmt.Sprintf(`%s.h is the C API of the network %s, compiled by cnnc to CUDA C++ for
batches of %d image(s) on %d logical GPU(s) (%s parallelism).

Build the library with nvcc (CUDA 11 or later, C++17), for example

	nvcc -O3 -std=c++17 -arch=sm_80 -Xcompiler -fPIC -c %s.cu -o %s.o
	ar rcs lib%s_cuda.a %s.o

and link it with -lcudart. With fewer GPUs than logical ones, logical GPU
d runs on GPU d %% count: the same build runs on one GPU.

Use:

	%s_model* m;
	if (%s_create(&m, "%s.safetensors") != CNNC_OK) {
		fprintf(stderr, "%%s\n", %s_last_error());
		...
	}
	float in[%s_INPUT_LEN], out[%s_OUTPUT_LEN];
	%s_infer(m, in, out);  // NCHW float32 in, the last layer's output out
	%s_destroy(m);

Every function returns CNNC_OK or an error code; %s_last_error
returns the message of the last failed call on the calling thread. A model
runs one infer at a time (calls on one model are serialised); use one
model per thread for concurrent inference.`, c.pkg, g.Name, c.opt.Batch, c.opt.GPUs, c.opt.Parallel,
		c.pkg, c.pkg, c.pkg, c.pkg, pre, pre, g.Name, pre, mac, mac, pre, pre, pre), "\t", "    "))
	w.p("")
	w.p("#ifndef %s_H", mac)
	w.p("#define %s_H", mac)
	w.p("")
	w.p("#include <stddef.h>")
	w.p("")
	w.p("#define %s_BATCH %d", mac, c.opt.Batch)
	w.p("#define %s_INPUT_C %d", mac, in.C)
	w.p("#define %s_INPUT_H %d", mac, in.H)
	w.p("#define %s_INPUT_W %d", mac, in.W)
	w.p("#define %s_INPUT_LEN %d /* floats: BATCH images of C x H x W, NCHW */", mac, c.opt.Batch*in.Elems())
	if !out.Flat {
		w.p("#define %s_OUTPUT_C %d", mac, out.C)
		w.p("#define %s_OUTPUT_H %d", mac, out.H)
		w.p("#define %s_OUTPUT_W %d", mac, out.W)
	}
	w.p("#define %s_OUTPUT_SIZE %d /* floats per image: %s (%s) */", mac, out.Elems(), g.Output.Name, out)
	w.p("#define %s_OUTPUT_LEN %d", mac, c.opt.Batch*out.Elems())
	w.p("#define %s_GPUS %d /* logical GPUs */", mac, c.opt.GPUs)
	w.p("#define %s_PARALLEL \"%s\"", mac, c.opt.Parallel)
	w.p("#define %s_SPEC_SHA256 \"%s\"", mac, c.opt.SpecSHA256)
	w.p("")
	w.p("#ifndef CNNC_STATUS_DEFINED")
	w.p("#define CNNC_STATUS_DEFINED")
	w.p("/* Status codes, shared by every network cnnc compiles. */")
	w.p("enum {")
	w.p("  CNNC_OK = 0,")
	w.p("  CNNC_ERR_ARGUMENT = 1, /* a null pointer */")
	w.p("  CNNC_ERR_IO = 2,       /* the weights file cannot be read */")
	w.p("  CNNC_ERR_FORMAT = 3,   /* the weights are not a valid safetensors file */")
	w.p("  CNNC_ERR_WEIGHTS = 4,  /* a tensor is missing or has the wrong shape or dtype */")
	w.p("  CNNC_ERR_CUDA = 5,     /* a CUDA call failed (the message names it) */")
	w.p("  CNNC_ERR_MEMORY = 6,   /* out of host memory */")
	w.p("  CNNC_ERR_INTERNAL = 7")
	w.p("};")
	w.p("#endif")
	w.p("")
	w.p("#ifdef __cplusplus")
	w.p("extern \"C\" {")
	w.p("#endif")
	w.p("")
	w.p("typedef struct %s_model %s_model;", pre, pre)
	w.p("")
	w.p("/* %s_create loads the safetensors weights file at path (tensors named as", pre)
	w.p("   a PyTorch state_dict names them: conv1.weight, conv1.bias, ...; F32, F16")
	w.p("   or BF16), folds batchnorms, and puts the weights on the GPU(s). */")
	w.p("int %s_create(%s_model** model, const char* path);", pre, pre)
	w.p("")
	w.p("/* %s_create_from_memory is %s_create from a file's len bytes at data,", pre, pre)
	w.p("   which the caller may free once it returns. */")
	w.p("int %s_create_from_memory(%s_model** model, const void* data, size_t len);", pre, pre)
	w.p("")
	w.p("/* %s_infer runs the network on in (%s_INPUT_LEN floats) and writes", pre, mac)
	w.p("   %s_OUTPUT_LEN floats to out. It returns when out is written. */", mac)
	w.p("int %s_infer(%s_model* model, const float* in, float* out);", pre, pre)
	w.p("")
	w.p("/* %s_destroy frees the model; null is allowed. */", pre)
	w.p("void %s_destroy(%s_model* model);", pre, pre)
	w.p("")
	w.p("/* %s_device returns the physical GPU logical GPU gpu runs on, or -1. */", pre)
	w.p("int %s_device(const %s_model* model, int gpu);", pre, pre)
	w.p("")
	w.p("/* %s_last_error returns the message of the last error on this thread. */", pre)
	w.p("const char* %s_last_error(void);", pre)
	w.p("")
	w.p("#ifdef __cplusplus")
	w.p("}")
	w.p("#endif")
	w.p("")
	w.p("#endif /* %s_H */", mac)
	return []byte(w.b.String()), nil
}

// literal formats a float64 as a C++ double literal that reads back exactly.
func literal(v float64) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// cuFile is the network's kernel instances and host side.
func (c *gen) cuFile() ([]byte, error) {
	g, s, pre := c.g, c.s, c.prefix()
	gpus := s.gpus
	w := &writer{}
	w.p("%s", c.headerLine())
	w.p("")
	w.comment("", fmt.Sprintf("%s.cu runs the network %s on CUDA GPUs: %d image(s) per call, %d logical\nGPU(s), %s parallelism. The C API is in %s.h.", c.pkg, g.Name, c.opt.Batch, gpus, c.opt.Parallel, c.pkg))
	w.p("//")
	w.p("// The layers after cnnc's passes (fused layers in brackets) and what each")
	w.p("// logical GPU computes of them (channels, or features of flat tensors):")
	w.p("//")
	for _, line := range strings.Split(strings.TrimRight(c.layerTable(), "\n"), "\n") {
		w.p("%s", strings.TrimRight("//   "+line, " "))
	}
	w.p("//")
	w.p("// Activations live in one planned arena per GPU: %s per image.", ir.Bytes(int64(g.Mem.ArenaElems)*4))
	w.p("// Each GPU has a compute stream and a transfer stream for the copies into")
	w.p("// it; events order them exactly where data flows between them.")
	w.p("")
	w.p("#include \"%s.h\"", c.pkg)
	w.p("")
	w.p("#include \"cnnc_kernels.cuh\"")
	w.p("#include \"cnnc_runtime.h\"")
	w.p("")
	w.p("#include <exception>")
	w.p("#include <mutex>")
	w.p("#include <new>")
	w.p("#include <string>")
	w.p("#include <vector>")
	w.p("")
	w.p("// The kernel instances: every dimension of every launch, as constants.")
	w.p("// (A namespace of the network's own keeps the kernels' names apart from")
	w.p("// those of other networks linked into the same program.)")
	w.p("namespace %s {", pre)
	for _, in := range s.insts {
		w.p("")
		w.comment("", in.doc)
		w.p("struct %s {", in.name)
		var ints []string
		for _, kv := range in.ints {
			if kv.v == "true" || kv.v == "false" {
				w.p("  static constexpr bool %s = %s;", kv.k, kv.v)
				continue
			}
			ints = append(ints, kv.k+" = "+kv.v)
		}
		for len(ints) > 0 {
			// Eight to a line.
			k := min(8, len(ints))
			w.p("  static constexpr int %s;", strings.Join(ints[:k], ", "))
			ints = ints[k:]
		}
		for _, kv := range in.floats {
			w.p("  static constexpr float %s = %s;", kv.k, kv.v)
		}
		w.p("};")
	}
	w.p("")
	w.p("}  // namespace %s", pre)
	w.p("")
	w.p("namespace {")
	w.p("")
	w.p("using namespace %s;", pre)
	w.p("")
	w.p("constexpr int kGPUs = %d;", gpus)
	w.p("constexpr int kEvents = %d;", len(s.events))
	ints := func(name, doc string, v []int) {
		var xs []string
		for _, x := range v {
			xs = append(xs, itoa(x))
		}
		if len(xs) == 0 {
			xs = []string{"0"}
		}
		if doc != "" {
			w.p("// %s", doc)
		}
		w.p("constexpr size_t %s[%d] = {%s};", name, max(len(v), 1), strings.Join(xs, ", "))
	}
	ints("kArenaLen", "Per GPU: floats of activations, input and weights.", s.arenaLen)
	ints("kInputLen", "", s.inputLen)
	ints("kWeightsLen", "", s.weightsLen)
	var uses []string
	for d := range gpus {
		uses = append(uses, fmt.Sprintf("{%v, %v}", s.uses[d][0], s.uses[d][1]))
	}
	w.p("// Per GPU: whether its compute and transfer streams have work.")
	w.p("constexpr bool kStreamUsed[kGPUs][2] = {%s};", strings.Join(uses, ", "))
	ev := make([]int, len(s.events))
	copy(ev, s.events)
	ints("kEventGPU", "The logical GPU of each event.", ev)
	peer := false
	for _, o := range s.ops {
		if o.kind == opCopy {
			peer = true
		}
	}
	w.p("// Whether GPUs copy to each other (then peer access is enabled where possible).")
	w.p("constexpr bool kPeerCopies = %v;", peer)
	w.p("")

	// The tensors the network reads.
	wants := params.Wants(g)
	index := map[string]int{}
	w.p("// The tensors the network reads, in PyTorch's layouts.")
	w.p("const cnnc::st::Want kWants[] = {")
	for i, t := range wants {
		index[t.Name] = i
		var dims []string
		for _, d := range t.Shape {
			dims = append(dims, itoa(d))
		}
		if len(t.Shape) > 4 {
			return nil, fmt.Errorf("tensor %s has rank %d", t.Name, len(t.Shape))
		}
		w.p("    {%s, %d, {%s}},", strconv.Quote(t.Name), len(t.Shape), strings.Join(dims, ", "))
	}
	if len(wants) == 0 {
		w.p("    {\"\", 0, {0}},")
	}
	w.p("};")
	w.p("constexpr size_t kNumWants = %d;", len(wants))
	w.p("")
	w.p("thread_local std::string g_error;")
	w.p("")
	w.p("int fail(int code, const std::string& msg) {")
	w.p("  g_error = msg;")
	w.p("  return code;")
	w.p("}")
	w.p("")
	w.p("int cuda_fail(cudaError_t e, const char* call) {")
	w.p("  return fail(CNNC_ERR_CUDA, std::string(call) + \": \" + cudaGetErrorName(e) + \": \" + cudaGetErrorString(e));")
	w.p("}")
	w.p("")
	w.p("// CNNC_CK returns from the calling function if a CUDA call fails.")
	w.p("#define CNNC_CK(call)                             \\")
	w.p("  do {                                            \\")
	w.p("    cudaError_t cnnc_e_ = (call);                 \\")
	w.p("    if (cnnc_e_ != cudaSuccess) return cuda_fail(cnnc_e_, #call); \\")
	w.p("  } while (0)")
	w.p("")
	w.p("// note records the first error of a cleanup, which cannot return it.")
	w.p("void note(cudaError_t e, const char* call, bool* failed) {")
	w.p("  if (e != cudaSuccess && !*failed) {")
	w.p("    cuda_fail(e, call);")
	w.p("    *failed = true;")
	w.p("  }")
	w.p("}")
	w.p("")
	w.p("}  // namespace")
	w.p("")
	w.p("struct %s_model {", pre)
	w.p("  std::mutex mu;")
	w.p("  int device[kGPUs] = {};  // the physical GPU of each logical one")
	w.p("  float* arena[kGPUs] = {};")
	w.p("  float* input[kGPUs] = {};")
	w.p("  float* weights[kGPUs] = {};")
	w.p("  cudaStream_t stream[kGPUs][2] = {};  // compute, transfer")
	w.p("  cudaEvent_t event[kEvents > 0 ? kEvents : 1] = {};")
	w.p("};")
	w.p("")
	w.p("namespace {")
	w.p("")
	c.prepareWeights(w, wants, index)
	c.setup(w)
	c.run(w)
	w.p("}  // namespace")
	w.p("")
	c.api(w)
	return []byte(w.b.String()), nil
}

// prepareWeights writes the function that checks the weights file, folds
// the batchnorms and lays out every GPU's weight buffer on the host.
func (c *gen) prepareWeights(w *writer, wants []params.Want, index map[string]int) {
	s := c.s
	w.p("// prepare checks the weights against kWants, folds batchnorms into the")
	w.p("// layers before them and lays out each GPU's weight buffer in stage.")
	w.p("int prepare(const unsigned char* data, size_t len, std::vector<float>* stage) {")
	w.p("  cnnc::st::File file;")
	w.p("  std::string err;")
	w.p("  if (!cnnc::st::parse(data, len, &file, &err)) return fail(CNNC_ERR_FORMAT, err);")
	w.p("  std::vector<std::vector<float>> t;")
	w.p("  if (!cnnc::st::bind(file, kWants, kNumWants, &t, &err)) return fail(CNNC_ERR_WEIGHTS, err);")
	w.p("  for (int d = 0; d < kGPUs; ++d) stage[d].assign(kWeightsLen[d], 0.0f);")
	for _, p := range c.place {
		n := p.Node
		var slots []weightSlot
		for d := range s.gpus {
			for _, sl := range s.weights[d] {
				if sl.node == n {
					slots = append(slots, sl)
				}
			}
		}
		if len(slots) == 0 {
			continue
		}
		w.p("  {")
		w.p("    // %s: %s %s", n.Name, n.Op, n.Attrs())
		switch n.Op {
		case ir.OpConv, ir.OpDense:
			units := n.Shape.C
			w.p("    std::vector<float>& w = t[%d];", index[n.Name+".weight"])
			if bi, ok := index[n.Name+".bias"]; ok {
				w.p("    std::vector<float>& b = t[%d];", bi)
			} else {
				w.p("    std::vector<float> b(%d, 0.0f);", units)
			}
			if f := n.FoldBN; f != nil {
				w.p("    std::vector<float> scale, shift;  // %s, folded", f.Layer)
				w.p("    cnnc::bn_scale_shift(t[%d], t[%d], t[%d], t[%d], %s, &scale, &shift);",
					index[f.Layer+".weight"], index[f.Layer+".bias"], index[f.Layer+".running_mean"], index[f.Layer+".running_var"], literal(f.Eps))
				w.p("    cnnc::fold_bn(&w, &b, scale, shift);")
			}
			for _, sl := range slots {
				w.p("    std::copy(w.begin() + %d, w.begin() + %d, stage[%d].begin() + %d);", sl.rowLo*sl.rowLen, sl.rowHi*sl.rowLen, sl.gpu, sl.wOff)
				w.p("    std::copy(b.begin() + %d, b.begin() + %d, stage[%d].begin() + %d);", sl.rowLo, sl.rowHi, sl.gpu, sl.bOff)
			}
		case ir.OpBatchNorm:
			w.p("    std::vector<float> scale, shift;")
			w.p("    cnnc::bn_scale_shift(t[%d], t[%d], t[%d], t[%d], %s, &scale, &shift);",
				index[n.Name+".weight"], index[n.Name+".bias"], index[n.Name+".running_mean"], index[n.Name+".running_var"], literal(n.BN.Eps))
			for _, sl := range slots {
				w.p("    std::copy(scale.begin(), scale.end(), stage[%d].begin() + %d);", sl.gpu, sl.wOff)
				w.p("    std::copy(shift.begin(), shift.end(), stage[%d].begin() + %d);", sl.gpu, sl.bOff)
			}
		case ir.OpLayerNorm:
			for _, sl := range slots {
				w.p("    std::copy(t[%d].begin(), t[%d].end(), stage[%d].begin() + %d);", index[n.Name+".weight"], index[n.Name+".weight"], sl.gpu, sl.wOff)
				w.p("    std::copy(t[%d].begin(), t[%d].end(), stage[%d].begin() + %d);", index[n.Name+".bias"], index[n.Name+".bias"], sl.gpu, sl.bOff)
			}
		case ir.OpPReLU:
			w.p("    const std::vector<float>& a = t[%d];", index[n.Name+".weight"])
			for _, sl := range slots {
				w.p("    for (int c = 0; c < %d; c++) stage[%d][%d + c] = a[a.size() == 1 ? 0 : c];", n.Shape.C, sl.gpu, sl.wOff)
			}
		}
		w.p("  }")
	}
	w.p("  return CNNC_OK;")
	w.p("}")
	w.p("")
}

// setup writes the functions that allocate and free a model's GPU state.
func (c *gen) setup(w *writer) {
	pre := c.prefix()
	w.p("// release frees whatever setup allocated.")
	w.p("void release(%s_model* m) {", pre)
	w.p("  bool failed = false;")
	w.p("  for (int e = 0; e < kEvents; ++e)")
	w.p("    if (m->event[e]) {")
	w.p("      note(cudaSetDevice(m->device[kEventGPU[e]]), \"cudaSetDevice\", &failed);")
	w.p("      note(cudaEventDestroy(m->event[e]), \"cudaEventDestroy\", &failed);")
	w.p("    }")
	w.p("  for (int d = 0; d < kGPUs; ++d) {")
	w.p("    note(cudaSetDevice(m->device[d]), \"cudaSetDevice\", &failed);")
	w.p("    for (int s = 0; s < 2; ++s)")
	w.p("      if (m->stream[d][s]) note(cudaStreamDestroy(m->stream[d][s]), \"cudaStreamDestroy\", &failed);")
	w.p("    if (m->arena[d]) note(cudaFree(m->arena[d]), \"cudaFree\", &failed);")
	w.p("    if (m->input[d]) note(cudaFree(m->input[d]), \"cudaFree\", &failed);")
	w.p("    if (m->weights[d]) note(cudaFree(m->weights[d]), \"cudaFree\", &failed);")
	w.p("  }")
	w.p("}")
	w.p("")
	w.p("// setup maps the logical GPUs onto the physical ones (modulo their count),")
	w.p("// allocates every buffer, stream and event, and uploads the weights.")
	w.p("int setup(%s_model* m, const std::vector<float>* stage) {", pre)
	w.p("  int count = 0;")
	w.p("  CNNC_CK(cudaGetDeviceCount(&count));")
	w.p("  if (count < 1) return fail(CNNC_ERR_CUDA, \"no CUDA device\");")
	w.p("  for (int d = 0; d < kGPUs; ++d) m->device[d] = d %% count;")
	w.p("  for (int d = 0; d < kGPUs; ++d) {")
	w.p("    CNNC_CK(cudaSetDevice(m->device[d]));")
	w.p("    if (kArenaLen[d] > 0) CNNC_CK(cudaMalloc(reinterpret_cast<void**>(&m->arena[d]), kArenaLen[d] * sizeof(float)));")
	w.p("    if (kInputLen[d] > 0) CNNC_CK(cudaMalloc(reinterpret_cast<void**>(&m->input[d]), kInputLen[d] * sizeof(float)));")
	w.p("    if (kWeightsLen[d] > 0) {")
	w.p("      CNNC_CK(cudaMalloc(reinterpret_cast<void**>(&m->weights[d]), kWeightsLen[d] * sizeof(float)));")
	w.p("      CNNC_CK(cudaMemcpy(m->weights[d], stage[d].data(), kWeightsLen[d] * sizeof(float), cudaMemcpyHostToDevice));")
	w.p("    }")
	w.p("    for (int s = 0; s < 2; ++s)")
	w.p("      if (kStreamUsed[d][s]) CNNC_CK(cudaStreamCreateWithFlags(&m->stream[d][s], cudaStreamNonBlocking));")
	w.p("  }")
	w.p("  for (int e = 0; e < kEvents; ++e) {")
	w.p("    CNNC_CK(cudaSetDevice(m->device[kEventGPU[e]]));")
	w.p("    CNNC_CK(cudaEventCreateWithFlags(&m->event[e], cudaEventDisableTiming));")
	w.p("  }")
	w.p("  if (kPeerCopies) {")
	w.p("    // Direct peer access where the hardware has it; cudaMemcpyPeerAsync")
	w.p("    // works without it too (through the host).")
	w.p("    for (int a = 0; a < kGPUs && a < count; ++a)")
	w.p("      for (int b = 0; b < kGPUs && b < count; ++b) {")
	w.p("        if (a == b) continue;")
	w.p("        int can = 0;")
	w.p("        CNNC_CK(cudaDeviceCanAccessPeer(&can, a, b));")
	w.p("        if (!can) continue;")
	w.p("        CNNC_CK(cudaSetDevice(a));")
	w.p("        cudaError_t e = cudaDeviceEnablePeerAccess(b, 0);")
	w.p("        if (e == cudaErrorPeerAccessAlreadyEnabled) {")
	w.p("          (void)cudaGetLastError();  // clears it")
	w.p("        } else {")
	w.p("          CNNC_CK(e);")
	w.p("        }")
	w.p("      }")
	w.p("  }")
	w.p("  return CNNC_OK;")
	w.p("}")
	w.p("")
}

// run writes the inference: every op in issue order, with the event waits
// and records the schedule computed.
func (c *gen) run(w *writer) {
	s, pre := c.s, c.prefix()
	w.p("// drain waits for every stream, after a failure, so that no copy uses the")
	w.p("// caller's buffers after infer returns.")
	w.p("void drain(%s_model* m) {", pre)
	w.p("  for (int d = 0; d < kGPUs; ++d)")
	w.p("    for (int s = 0; s < 2; ++s)")
	w.p("      if (m->stream[d][s] && cudaSetDevice(m->device[d]) == cudaSuccess) (void)cudaStreamSynchronize(m->stream[d][s]);")
	w.p("}")
	w.p("")
	w.p("// run issues one inference and waits for it.")
	w.p("int run(%s_model* m, const float* in, float* out) {", pre)
	cur := -1
	for _, o := range s.ops {
		w.p("  // %s", o.comment)
		if o.gpu != cur {
			w.p("  CNNC_CK(cudaSetDevice(m->device[%d]));", o.gpu)
			cur = o.gpu
		}
		for _, x := range o.waits {
			w.p("  CNNC_CK(cudaStreamWaitEvent(%s, m->event[%d], 0));", streamExpr(o.gpu, o.stream), x.event)
		}
		for _, line := range o.code {
			w.p("  %s", line)
		}
		if o.event >= 0 {
			w.p("  CNNC_CK(cudaEventRecord(m->event[%d], %s));", o.event, streamExpr(o.gpu, o.stream))
		}
	}
	w.p("  // Wait for every stream.")
	for d := range s.gpus {
		for st := range streamsPerGPU {
			if s.uses[d][st] {
				w.p("  CNNC_CK(cudaSetDevice(m->device[%d]));", d)
				w.p("  CNNC_CK(cudaStreamSynchronize(%s));", streamExpr(d, st))
			}
		}
	}
	w.p("  return CNNC_OK;")
	w.p("}")
	w.p("")
}

// api writes the C API functions.
func (c *gen) api(w *writer) {
	pre := c.prefix()
	w.p(`extern "C" int %s_create_from_memory(%s_model** model, const void* data, size_t len) {`, pre, pre)
	w.p("  if (!model || (!data && len > 0)) return fail(CNNC_ERR_ARGUMENT, \"%s_create_from_memory: null argument\");", pre)
	w.p("  *model = nullptr;")
	w.p("  %s_model* m = nullptr;", pre)
	w.p("  try {")
	w.p("    std::vector<float> stage[kGPUs];")
	w.p("    int rc = prepare(static_cast<const unsigned char*>(data), len, stage);")
	w.p("    if (rc != CNNC_OK) return rc;")
	w.p("    int prev = 0;")
	w.p("    CNNC_CK(cudaGetDevice(&prev));")
	w.p("    m = new %s_model();", pre)
	w.p("    rc = setup(m, stage);")
	w.p("    cudaError_t e = cudaSetDevice(prev);")
	w.p("    if (rc == CNNC_OK && e != cudaSuccess) rc = cuda_fail(e, \"cudaSetDevice\");")
	w.p("    if (rc != CNNC_OK) {")
	w.p("      std::string msg = g_error;")
	w.p("      release(m);")
	w.p("      delete m;")
	w.p("      return fail(rc, msg);")
	w.p("    }")
	w.p("  } catch (const std::bad_alloc&) {")
	w.p("    if (m) release(m);")
	w.p("    delete m;")
	w.p("    return fail(CNNC_ERR_MEMORY, \"out of host memory\");")
	w.p("  } catch (const std::exception& ex) {")
	w.p("    if (m) release(m);")
	w.p("    delete m;")
	w.p("    return fail(CNNC_ERR_INTERNAL, ex.what());")
	w.p("  }")
	w.p("  *model = m;")
	w.p("  return CNNC_OK;")
	w.p("}")
	w.p("")
	w.p(`extern "C" int %s_create(%s_model** model, const char* path) {`, pre, pre)
	w.p("  if (!model || !path) return fail(CNNC_ERR_ARGUMENT, \"%s_create: null argument\");", pre)
	w.p("  *model = nullptr;")
	w.p("  std::vector<unsigned char> data;")
	w.p("  try {")
	w.p("    std::string err;")
	w.p("    if (!cnnc::st::read_file(path, &data, &err)) return fail(CNNC_ERR_IO, err);")
	w.p("  } catch (const std::bad_alloc&) {")
	w.p("    return fail(CNNC_ERR_MEMORY, std::string(path) + \": out of host memory\");")
	w.p("  }")
	w.p("  int rc = %s_create_from_memory(model, data.data(), data.size());", pre)
	w.p("  if (rc != CNNC_OK) g_error = std::string(path) + \": \" + g_error;")
	w.p("  return rc;")
	w.p("}")
	w.p("")
	w.p(`extern "C" int %s_infer(%s_model* m, const float* in, float* out) {`, pre, pre)
	w.p("  if (!m || !in || !out) return fail(CNNC_ERR_ARGUMENT, \"%s_infer: null argument\");", pre)
	w.p("  std::lock_guard<std::mutex> lock(m->mu);")
	w.p("  int prev = 0;")
	w.p("  CNNC_CK(cudaGetDevice(&prev));")
	w.p("  int rc = run(m, in, out);")
	w.p("  if (rc != CNNC_OK) drain(m);")
	w.p("  cudaError_t e = cudaSetDevice(prev);")
	w.p("  if (rc == CNNC_OK && e != cudaSuccess) rc = cuda_fail(e, \"cudaSetDevice\");")
	w.p("  return rc;")
	w.p("}")
	w.p("")
	w.p(`extern "C" void %s_destroy(%s_model* m) {`, pre, pre)
	w.p("  if (!m) return;")
	w.p("  int prev = 0;")
	w.p("  bool failed = cudaGetDevice(&prev) != cudaSuccess;")
	w.p("  drain(m);")
	w.p("  release(m);")
	w.p("  if (!failed) (void)cudaSetDevice(prev);")
	w.p("  delete m;")
	w.p("}")
	w.p("")
	w.p(`extern "C" int %s_device(const %s_model* m, int gpu) {`, pre, pre)
	w.p("  if (!m || gpu < 0 || gpu >= kGPUs) return -1;")
	w.p("  return m->device[gpu];")
	w.p("}")
	w.p("")
	w.p(`extern "C" const char* %s_last_error(void) { return g_error.c_str(); }`, pre)
}
