#!/usr/bin/python3
"""Survey which ONNX operators torchvision's CNN classifiers export to, and
which of them cnnc import refuses, with the exact subgraphs around them.

Usage, from the repository root:

    /usr/bin/python3 compiler/onnx/testdata/torchvision_survey.py OUT.md [NAME ...]

For every classifier of torchvision_models.py (or the NAMEs given) and
opsets 13 and 17, it exports the model at batch 1 and its smallest tested
input size (the graph's operators and attributes do not depend on it;
min_size says why AlexNet, VGG and Inception v3 take more), runs
`cnnc import` on it (built from this checkout) and records:

  * every operator with its count;
  * the nodes cnnc import would refuse: an operator without a handler in
    compiler/onnx/ops.go, or a handled one outside the conditions
    docs/import.md gives (Mul, Sub, Div, Transpose, Slice on activations
    rather than constants; ReduceMean over other axes than H and W; an Add
    that broadcasts; MatMul on a rank-4 tensor; Reshape to a rank other
    than 2 or 4; Clip...);
  * those nodes grouped into connected subgraphs (joined through the
    activations they pass each other), each written with its inputs
    (producer, shape), attributes and constant inputs, shapes made
    symbolic: C is the channel count of the subgraph's first input, H and
    W its height and width, N the batch (1);
  * cnnc import's error, first lines.

It writes OUT.md (bench/results/torchvision-onnx-survey.md is the
committed one) and OUT.json with the raw data.
"""

import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import onnx
import onnx.numpy_helper
import onnx.shape_inference
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)
import torchvision_models as tvm  # noqa: E402

OPSETS = (13, 17)


def handled_ops():
    """The keys of the handlers table in compiler/onnx/ops.go."""
    with open(os.path.join(ROOT, "compiler", "onnx", "ops.go")) as f:
        src = f.read()
    body = src[src.index("handlers = map[string]handler{"):]
    body = body[:body.index("\n\t}\n")]
    return set(re.findall(r'^\t\t"(\w+)":', body, re.M))


CONST_ONLY = {"Transpose", "Slice", "Sub", "Mul", "Div", "Neg", "Gather", "ConstantOfShape"}


class Graph:
    """A model's nodes with shapes (ONNX's shape inference) and the values
    of its constants (initializers, Constant nodes and the shape
    arithmetic on them, which fold evaluates). Shape inference cannot see
    through the shape arithmetic, so the folded values are made
    initializers and shapes inferred again, until nothing changes."""

    def __init__(self, model):
        # Large initializers (weights) become graph inputs: shape inference
        # needs their shapes only, and copying them would be slow.
        self.weights = {}
        keep = []
        for t in model.graph.initializer:
            if np.prod(t.dims) > 64:
                self.weights[t.name] = list(t.dims)
                model.graph.input.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
            else:
                keep.append(t)
        del model.graph.initializer[:]
        model.graph.initializer.extend(keep)
        self.nodes = list(model.graph.node)
        self.producer = {}
        self.consumers = collections.defaultdict(list)
        for n in self.nodes:
            for o in n.output:
                self.producer[o] = n
            for i in n.input:
                if i:
                    self.consumers[i].append(n)
        known, current = -1, model
        while True:
            self.infer(current, base=model)
            folded = {k: v for k, v in self.const.items() if v is not None and k in self.producer}
            if len(folded) == known:
                break
            known = len(folded)
            m = onnx.ModelProto()
            m.CopyFrom(model)
            keep = [n for n in m.graph.node if n.output[0] not in folded]
            del m.graph.node[:]
            m.graph.node.extend(keep)
            for k, v in folded.items():
                m.graph.initializer.append(onnx.numpy_helper.from_array(np.asarray(v), k))
            current = m

    def infer(self, model, base):
        g = onnx.shape_inference.infer_shapes(model, data_prop=True).graph
        self.shapes = {}
        for vi in list(g.value_info) + list(g.input) + list(g.output):
            t = vi.type.tensor_type
            if t.HasField("shape"):
                self.shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim]
        # name -> value, or None for a constant this script cannot evaluate
        inits = base.graph.initializer
        self.const = {t.name: onnx.numpy_helper.to_array(t) for t in inits}
        self.const.update({k: None for k in self.weights})
        for n in self.nodes:
            if n.op_type == "Shape":
                x = n.input[0]
                s = list(np.shape(self.const[x])) if self.const.get(x) is not None else self.shapes.get(x)
                ok = s is not None and all(isinstance(d, int) for d in s) and not attrs(n)
                v = np.array(s, dtype=np.int64) if ok else None
            elif all((not i) or i in self.const for i in n.input):
                try:
                    v = fold(n, [self.const.get(i) for i in n.input])
                except Exception:
                    v = None
            else:
                continue
            self.const[n.output[0]] = v
            for o in n.output[1:]:
                self.const[o] = None
        for name, v in self.const.items():
            if v is not None:
                self.shapes[name] = list(np.shape(v))
        self.shapes.update(self.weights)

    def is_act(self, v):
        return bool(v) and v not in self.const

    def shape(self, v):
        return self.shapes.get(v)


def fold(n, ins):
    """Evaluates n on constant inputs ins (numpy arrays): the shape
    arithmetic torch exports. None if n is another operator."""
    a = attrs(n)
    op = n.op_type
    if op == "Constant":
        t = [x for x in n.attribute if x.name == "value"]
        return onnx.numpy_helper.to_array(t[0].t) if t else None
    if any(x is None for x in ins):
        return None
    if op == "Gather":
        return np.take(ins[0], ins[1], axis=a.get("axis", 0))
    if op == "Unsqueeze":
        axes = a.get("axes", list(ins[1]) if len(ins) > 1 else None)
        r = ins[0]
        for ax in sorted(x % (r.ndim + len(axes)) for x in axes):
            r = np.expand_dims(r, ax)
        return r
    if op == "Squeeze":
        axes = a.get("axes", list(ins[1]) if len(ins) > 1 else None)
        return np.squeeze(ins[0], axis=tuple(axes) if axes is not None else None)
    if op == "Concat":
        return np.concatenate(ins, axis=a["axis"])
    if op in ("Add", "Sub", "Mul"):
        return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[op](ins[0], ins[1])
    if op == "Div":
        if ins[0].dtype.kind == "i":
            return np.trunc(ins[0] / ins[1]).astype(ins[0].dtype)
        return ins[0] / ins[1]
    if op == "Cast":
        return ins[0].astype(onnx.helper.tensor_dtype_to_np_dtype(a["to"]) if hasattr(onnx.helper, "tensor_dtype_to_np_dtype")
                             else onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])
    if op == "Slice":
        data, starts, ends = ins[:3]
        axes = ins[3] if len(ins) > 3 else range(len(starts))
        steps = ins[4] if len(ins) > 4 else [1] * len(starts)
        sl = [slice(None)] * data.ndim
        for s_, e, ax, st in zip(starts, ends, axes, steps):
            sl[ax] = slice(int(s_), int(e), int(st))
        return data[tuple(sl)]
    if op == "Reshape":
        shape = [d if d != 0 else ins[0].shape[i] for i, d in enumerate(ins[1])]
        return ins[0].reshape(shape)
    if op == "Transpose":
        return np.transpose(ins[0], a.get("perm"))
    if op == "ConstantOfShape":
        v = a.get("value")
        return np.zeros(ins[0], dtype=np.float32) if v is None else None
    if op == "Identity":
        return ins[0]
    if op == "Neg":
        return -ins[0]
    return None


def attrs(n):
    out = {}
    for a in n.attribute:
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, float):
            v = float(np.float32(v))
        elif isinstance(v, list):
            v = [float(np.float32(x)) if isinstance(x, float) else x for x in v]
        elif isinstance(v, onnx.TensorProto):
            v = "tensor%s" % list(v.dims)
        out[a.name] = v
    return out


def refusal(g, n, handled, reasons):
    """Why cnnc import would refuse n, or None. Mirrors compiler/onnx's
    rules (docs/import.md) for the patterns these models have."""
    op = n.op_type
    acts = [i for i in n.input if g.is_act(i)]
    if not acts:
        return None  # evaluated at import time (shape arithmetic) or a constant
    if op not in handled:
        return "no handler"
    a = attrs(n)
    shp = [g.shape(i) for i in n.input]
    if op in CONST_ONLY:
        return "on activations (constants only)"
    if op == "ReduceMean":
        axes = a.get("axes")
        if axes is None and len(n.input) > 1:
            axes = g.const.get(n.input[1])
            axes = None if axes is None else list(axes)
        r = len(shp[0] or [])
        if axes is None or sorted(x % r for x in axes) != [2, 3]:
            return "ReduceMean not over H, W"
    if op == "Add":
        if len(acts) == 2 and shp[0] != shp[1]:
            return "Add broadcasts"
        if len(acts) == 1:
            p = g.producer.get(acts[0])
            if p is None or p.op_type not in ("Conv", "Gemm", "MatMul") or len(g.consumers[acts[0]]) != 1:
                return "Add of a constant not after Conv/Gemm/MatMul"
            if id(p) in reasons:
                return "bias of a refused %s" % p.op_type
    if op == "MatMul":
        if len(acts) == 2:
            return "MatMul of two activations"
        if len(shp[0] or []) != 2:
            return "MatMul on rank %d" % len(shp[0] or [])
    if op == "Reshape":
        out = g.shape(n.output[0])
        if out is not None and len(out) not in (2, 4):
            return "Reshape to rank %d" % len(out)
    if op == "Concat" and a.get("axis") not in (1, -3):
        return "Concat axis %s" % a.get("axis")
    if op == "Softmax":
        r = len(shp[0] or [])
        if a.get("axis", -1) % max(r, 1) != 1:
            return "Softmax axis"
    if op == "Flatten" and a.get("axis", 1) != 1:
        return "Flatten axis"
    return None


class Namer:
    """Makes a subgraph's shapes symbolic: N for the batch, C, H and W
    from its largest rank-4 input (NCHW: every layer cnnc has reads and
    writes NCHW), and multiples and fractions of C. When H equals W, the
    first such dimension of a shape is H and the second W."""

    def __init__(self, shape):
        self.c, self.hw = None, {}
        if shape and len(shape) == 4:
            _, c, h, w = shape
            if isinstance(c, int) and c > 1:
                self.c = c
            for v, s in ((h, "H"), (w, "W")):
                if isinstance(v, int) and v > 1 and v != c:
                    self.hw.setdefault(v, []).append(s)

    def dim(self, d, i, seen):
        if i == 0 and d == 1:
            return "N"
        if not isinstance(d, int) or d <= 1:
            return str(d)
        if d == self.c:
            return "C"
        if d in self.hw:
            k = seen.get(d, 0)
            seen[d] = k + 1
            names = self.hw[d]
            return names[min(k, len(names) - 1)]
        c = self.c
        if c:
            if d % c == 0:
                return "%dC" % (d // c)
            if c % d == 0 and c // d <= 8:
                return "C/%d" % (c // d)
        return str(d)

    def shape(self, s, act=True):
        if s is None:
            return "?"
        seen = {}
        return "[" + ",".join(self.dim(d, i if act else -1, seen) for i, d in enumerate(s)) + "]"


def fmt_value(v, nm):
    """A small constant's values; integers as symbolic sizes (a Reshape
    target [1,2,C/2,H,W], Slice ends C/2), INT64_MAX as max."""
    a = np.asarray(v).ravel()
    if a.dtype.kind == "f":
        return ",".join("%.7g" % x for x in a)
    seen = {}
    return ",".join("max" if x >= 2**62 else "min" if x <= -2**62 else nm.dim(int(x), -1, seen) for x in a)


def subgraphs(g, refused):
    """Connected groups of refused nodes (joined through activation
    edges), in graph order."""
    idx = {id(n): i for i, n in enumerate(g.nodes)}
    parent = {id(n): id(n) for n in refused}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for n in refused:
        for i in n.input:
            p = g.producer.get(i)
            if p is not None and id(p) in parent and g.is_act(i):
                parent[find(id(n))] = find(id(p))
    groups = collections.defaultdict(list)
    for n in refused:
        groups[find(id(n))].append(n)
    return sorted((sorted(v, key=lambda n: idx[id(n)]) for v in groups.values()), key=lambda v: idx[id(v[0])])


def describe(g, nodes, reasons):
    """The subgraph as text: its outside inputs, then one line per node."""
    inside = {o for n in nodes for o in n.output}
    ext = []
    for n in nodes:
        for i in n.input:
            if g.is_act(i) and i not in inside and i not in ext:
                ext.append(i)
    four = [g.shape(e) for e in ext if g.shape(e) and len(g.shape(e)) == 4 and all(isinstance(d, int) for d in g.shape(e))]
    nm = Namer(max(four, key=lambda s: (int(np.prod(s)), s[1])) if four else None)
    names = {}
    lines = []
    for k, e in enumerate(ext):
        names[e] = "x%d" % k
        p = g.producer.get(e)
        src = p.op_type if p is not None else "input"
        if p is not None and p.op_type in ("Sigmoid", "Relu", "HardSigmoid", "Tanh"):
            pin = p.input[0]
            if pin in names:
                src = "%s(%s)" % (p.op_type, names[pin])
        lines.append("x%d = %s %s" % (k, src, nm.shape(g.shape(e))))
    for k, n in enumerate(nodes):
        names[n.output[0]] = "y%d" % k
    for k, n in enumerate(nodes):
        args = []
        for i in n.input:
            if not i:
                args.append("_")
            elif i in names:
                args.append(names[i])
            else:
                v = g.const.get(i)
                s = g.shape(i)
                if v is not None and np.asarray(v).size <= 8:
                    args.append("const %s" % fmt_value(v, nm) if np.asarray(v).ndim == 0 else "const%s{%s}" % (nm.shape(s, False), fmt_value(v, nm)))
                else:
                    args.append("const%s" % nm.shape(s, False))
        a = attrs(n)
        at = " ".join("%s=%s" % (k2, json.dumps(v) if not isinstance(v, float) else "%.7g" % v) for k2, v in sorted(a.items()))
        out = nm.shape(g.shape(n.output[0]))
        lines.append("y%d = %s%s(%s) -> %s   [%s]" % (k, n.op_type, " " + at if at else "", ", ".join(args), out, reasons[id(n)]))
    readers = sorted({c.op_type + (" -> " + nm.shape(g.shape(c.output[0])) if c.op_type in ("Reshape", "Flatten") else "")
                      for n in nodes for o in n.output for c in g.consumers[o] if id(c) not in reasons})
    if readers:
        lines.append("read by: " + ", ".join(readers))
    return "\n".join(lines)


def analyse(path, handled):
    model = onnx.load(path)
    g = Graph(model)
    ops = collections.Counter(n.op_type for n in g.nodes)
    reasons = {}
    for n in g.nodes:
        r = refusal(g, n, handled, reasons)
        if r:
            reasons[id(n)] = r
    refused = [n for n in g.nodes if id(n) in reasons]
    patterns = collections.Counter(describe(g, s, reasons) for s in subgraphs(g, refused))
    unhandled = collections.Counter(n.op_type for n in refused if reasons[id(n)] == "no handler")
    misused = collections.Counter("%s (%s)" % (n.op_type, reasons[id(n)]) for n in refused if reasons[id(n)] != "no handler")
    return {"ops": dict(sorted(ops.items())), "unhandled": dict(unhandled), "misused": dict(misused),
            "patterns": [{"count": c, "text": t} for t, c in patterns.items()]}


def cnnc_import(cnnc, path, tmp):
    p = subprocess.run([cnnc, "import", path, "-o", os.path.join(tmp, "m.yaml")], capture_output=True, text=True)
    for f in ("m.yaml", "m.safetensors"):
        if os.path.exists(os.path.join(tmp, f)):
            os.remove(os.path.join(tmp, f))
    if p.returncode == 0:
        return {"ok": True, "message": p.stdout.strip().split("\n")[0]}
    lines = p.stderr.strip().split("\n")
    return {"ok": False, "message": lines[0], "lines": len(lines)}


def export_plain(name, opset, size, path):
    m = tvm.build(name, tvm.min_size(name))
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        torch.onnx.export(m, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
                          do_constant_folding=True)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    names = sys.argv[2:] or tvm.classifiers()
    warnings.filterwarnings("ignore")
    handled = handled_ops()
    tmp = tempfile.mkdtemp(prefix="cnnc-tv-survey-")
    cnnc = os.path.join(tmp, "cnnc")
    subprocess.run(["go", "build", "-o", cnnc, "./cmd/cnnc"], cwd=ROOT, check=True)
    results = []
    for name in names:
        for opset in OPSETS:
            size = tvm.native_size(name) if name != "regnet_y_128gf" else tvm.min_size(name)
            path = os.path.join(tmp, "%s-%d.onnx" % (name, opset))
            r = {"name": name, "family": tvm.family(name), "opset": opset, "size": size}
            start = time.time()
            try:
                export_plain(name, opset, size, path)
            except Exception as e:
                r["export_error"] = "%s: %s" % (type(e).__name__, str(e).strip().split("\n")[0])
            else:
                data = [f for f in os.listdir(tmp) if f not in ("cnnc",) and not f.endswith(".onnx")]
                r["external_data"] = bool(data)
                r["onnx_bytes"] = os.path.getsize(path)
                r.update(analyse(path, handled))
                r["import"] = cnnc_import(cnnc, path, tmp)
            for f in os.listdir(tmp):
                if f != "cnnc":
                    os.remove(os.path.join(tmp, f))
            r["seconds"] = round(time.time() - start, 1)
            print("%-22s opset %d: %5.1fs %s" % (name, opset, r["seconds"],
                  r.get("export_error") or ("imports" if r["import"]["ok"] else "refused: " + ", ".join(sorted(set(r["unhandled"]) | set(r["misused"]))))),
                  flush=True)
            results.append(r)
            with open(os.path.splitext(out)[0] + ".json", "w") as f:
                json.dump(results, f, indent=1)
    os.remove(cnnc)
    os.rmdir(tmp)
    write_md(out, results, handled)


def write_md(out, results, handled):
    by_family = collections.OrderedDict()
    for r in results:
        by_family.setdefault(r["family"], []).append(r)
    w = []
    w.append("# torchvision's CNN classifiers in ONNX: what cnnc import must recognise\n")
    w.append("Made by `/usr/bin/python3 compiler/onnx/testdata/torchvision_survey.py %s` "
             "(torch %s, torchvision %s, onnx %s; `torch.onnx.export`, batch 1, `do_constant_folding=True`, eval mode, "
             "so BatchNormalization is already folded into the convolutions). cnnc's handlers: %s.\n"
             % (os.path.relpath(out, ROOT), torch.__version__, tvm.torchvision.__version__, onnx.__version__, ", ".join(sorted(handled))))
    ok = sorted({r["name"] for r in results if r.get("import", {}).get("ok")})
    names = sorted({r["name"] for r in results})
    w.append("%d classifiers (vit_*, swin_*, maxvit_t left out); %d import at both opsets today.\n"
             % (len(names), len([n for n in ok if all(r.get("import", {}).get("ok") for r in results if r["name"] == n)])))
    missing = [n for n in tvm.classifiers() if n not in names]
    if missing:
        w.append("Not surveyed (the run was stopped before them; their families' smaller models are): %s.\n" % ", ".join(missing))
    w.append("## Summary\n")
    w.append("| family | models | opset 13: refused nodes | opset 17: refused nodes | cnnc import today |")
    w.append("|---|---|---|---|---|")
    for fam, rs in by_family.items():
        models = sorted({r["name"] for r in rs}, key=lambda n: tvm.FAMILIES[fam].index(n))
        cells = []
        for opset in OPSETS:
            c = collections.Counter()
            for r in rs:
                if r["opset"] == opset and r["name"] == models[0]:
                    c.update(r.get("unhandled", {}))
                    c.update(r.get("misused", {}))
            errs = [r["export_error"] for r in rs if r["opset"] == opset and "export_error" in r]
            cells.append((", ".join("%s ×%d" % kv for kv in sorted(c.items())) or "none") + (" (export fails for %d)" % len(errs) if errs else ""))
        imp = collections.Counter()
        for r in rs:
            if "import" in r:
                imp["imports" if r["import"]["ok"] else "refused"] += 1
            else:
                imp["no export"] += 1
        w.append("| %s | %s | %s | %s | %s |" % (fam, ", ".join(models), cells[0], cells[1],
                                                 ", ".join("%s %d" % kv for kv in sorted(imp.items()))))
    w.append("\n(Counts are for the family's first surveyed model; the per-model tables below have every model.)\n")
    for fam, rs in by_family.items():
        w.append("## %s\n" % fam)
        for opset in OPSETS:
            ro = [r for r in rs if r["opset"] == opset]
            w.append("### opset %d\n" % opset)
            w.append("| model | size | ONNX operators (count) | cnnc import |")
            w.append("|---|---|---|---|")
            for r in ro:
                if "export_error" in r:
                    w.append("| %s | %d | torch cannot export: %s | |" % (r["name"], r["size"], r["export_error"]))
                    continue
                ops = ", ".join("%s %d" % kv for kv in r["ops"].items())
                imp = re.sub(r"\S*/cnnc-tv-survey-[^/]+/", "", r["import"]["message"]).replace("|", "\\|")
                if r.get("external_data"):
                    imp = "(weights in external data files) " + imp
                w.append("| %s | %d | %s | %s |" % (r["name"], r["size"], ops, imp))
            pats = collections.OrderedDict()
            for r in ro:
                for p in r.get("patterns", []):
                    e = pats.setdefault(p["text"], collections.OrderedDict())
                    e[r["name"]] = p["count"]
            if pats:
                w.append("\nSubgraphs cnnc import would refuse (each with the models that have it and how often):\n")
                for text, where in pats.items():
                    w.append("- in " + ", ".join("%s ×%d" % kv for kv in where.items()) + ":\n")
                    w.append("  ```")
                    for line in text.split("\n"):
                        w.append("  " + line)
                    w.append("  ```")
            w.append("")
    with open(out, "w") as f:
        f.write("\n".join(w) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--md"]:
        # --md OUT.md RUN.json...: rewrite the markdown from the JSON files
        # of earlier runs (a later file's entry for a model and opset wins).
        merged = {}
        for path in sys.argv[3:]:
            with open(path) as f:
                for r in json.load(f):
                    merged[(r["name"], r["opset"])] = r
        order = {n: i for i, n in enumerate(tvm.classifiers())}
        write_md(sys.argv[2], sorted(merged.values(), key=lambda r: (order[r["name"]], r["opset"])), handled_ops())
    else:
        main()
