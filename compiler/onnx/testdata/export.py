#!/usr/bin/python3
"""Export the ONNX test models of compiler/onnx and their reference outputs.

Usage, from the repository root (Debian's torch 1.13 and onnx 1.12):

    /usr/bin/python3 compiler/onnx/testdata/export.py            # all committed cases
    /usr/bin/python3 compiler/onnx/testdata/export.py alexnet DIR

The first form rewrites compiler/onnx/testdata/models/: for each case
NAME.onnx, NAME.input.npy (a fixed batch of 2, seeded) and NAME.output.npy,
and manifest.json. The second exports torchvision's AlexNet (random
initialisation, torch.manual_seed(0), nothing downloaded) to DIR/alexnet.onnx
with DIR/alexnet.input.npy and DIR/alexnet.output.npy; TestAlexNet runs it at
test time, because the model is 244 MB.

Two kinds of case:

  * the networks of spec/ (and two small variants), as torch.onnx.export
    writes them: bench/netmodel.py's SpecModule, which evaluates a spec with
    golden/pytorch/gen.py's PyTorch translation, with the deterministic
    weights of `cnnc weights init -seed 1`. The Go test also checks that
    the imported spec has the same layers as the original and that the
    imported weights are cnnc's, bit for bit.
  * small torch modules for the patterns torch.onnx.export writes (Pad
    folded into pooling, ceil mode, ReduceMean, Shape->Reshape chains,
    Gemm with transB=0 and alpha/beta, MatMul+Add, Dropout, ...).

The reference output is the module's output in float64 (the same weights and
input, evaluated with module.double()). onnx 1.12 has no reference evaluator
(onnx.reference came in 1.13), so this script checks the export with
onnxruntime instead when bench/node_modules has onnxruntime-node (bench/run
installs it): onnxruntime's output must agree with the reference to 1e-5 of
its scale, which is recorded in the manifest as ort_max_abs_diff.
"""

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import onnx
import onnx.helper as oh
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
OUT = os.path.join(HERE, "models")
BATCH = 2



def netmodel():
    """bench/netmodel.py, which loads golden/pytorch/gen.py (and PyYAML):
    imported only for the committed cases, so that the AlexNet export
    needs torch, torchvision, onnx and numpy alone."""
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import netmodel as nm
    return nm


# ---------------------------------------------------------------- cases: the spec networks

def narrow_vgg():
    """spec/vgg_small.yaml with a quarter of the filters and hidden units,
    so that its export stays small (the full one is 3.8 MB)."""
    import yaml
    with open(os.path.join(ROOT, "spec", "vgg_small.yaml")) as f:
        s = yaml.safe_load(f)
    s["name"] = "vgg_small_narrow"
    s["description"] = "spec/vgg_small.yaml with a quarter of the filters and hidden units"
    for L in s["layers"][:-1]:
        for k in ("filters", "units"):
            if k in L:
                L[k] //= 4
    return s


LRN_SMALL = {
    "name": "lrn_small",
    "description": "conv, ReLU, LRN (AlexNet's constants), max pooling: the ONNX LRN operator",
    "input": [3, 19, 19],
    "layers": [
        {"name": "conv1", "op": "conv", "filters": 12, "kernel": 5, "stride": 2},
        {"name": "relu1", "op": "relu"},
        {"name": "norm1", "op": "lrn", "size": 5, "alpha": 0.0001, "beta": 0.75, "k": 2},
        {"name": "pool1", "op": "maxpool", "kernel": 3, "stride": 2},
        {"name": "fc", "op": "dense", "units": 5},
    ],
}


def spec_cases(cnnc, tmp):
    """(name, spec path, spec dict, module, export options) for each spec network."""
    import yaml
    nm = netmodel()
    specs = []
    for n in ("lenet5", "vgg_small", "resnet_small", "fire_small"):
        p = os.path.join(ROOT, "spec", n + ".yaml")
        with open(p) as f:
            specs.append((n, p, yaml.safe_load(f)))
    for s in (narrow_vgg(), LRN_SMALL):
        p = os.path.join(HERE, "specs", s["name"] + ".yaml")
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write("# Written by compiler/onnx/testdata/export.py: " + s["description"] + ".\n")
            yaml.safe_dump(s, f, sort_keys=False, default_flow_style=None)
        specs.append((s["name"], p, s))
    out = []
    for name, path, s in specs:
        if name == "vgg_small":
            continue  # too big to commit (3.8 MB): vgg_small_narrow stands for it
        w = os.path.join(tmp, name + ".safetensors")
        subprocess.run([cnnc, "weights", "init", path, "-seed", "1", "-o", w], check=True)
        weights = nm.gen.read_safetensors(w)
        lrn = "op" if any(L["op"] == "lrn" for L in s["layers"]) else "torch"
        m = nm.SpecModule(s, weights, lrn)
        opts = {}
        if name == "resnet_small":
            # Keep BatchNormalization nodes (an eval export folds them into
            # the convolutions) and let the batch vary (Shape chains).
            opts = {"training": torch.onnx.TrainingMode.PRESERVE, "dynamic": True}
        out.append((name, os.path.relpath(path, ROOT), m, s["input"], opts))
    return out


# ---------------------------------------------------------------- cases: export patterns

class Seq(nn.Sequential):
    pass


class ViewFlatten(nn.Module):
    """conv, then x.view(x.size(0), -1): with a dynamic batch torch writes
    Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2)
        self.fc = nn.Linear(4 * 3 * 3, 6)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        return self.fc(y.view(y.size(0), -1))


class ConstReshape(nn.Module):
    """x.view(-1, C*H*W): a constant shape whose first dimension is -1."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2)
        self.fc = nn.Linear(4 * 3 * 3, 6)

    def forward(self, x):
        return self.fc(torch.sigmoid(self.conv(x)).view(-1, 4 * 3 * 3))


class MeanHead(nn.Module):
    """ReduceMean over H and W, with and without keepdims, and a squeeze
    chain through a rank-3 tensor."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.proj = nn.Conv2d(8, 8, 1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        g = self.proj(y.mean(dim=(2, 3), keepdim=True))  # [N, 8, 1, 1]
        h = g.squeeze(-1).squeeze(-1) + y.mean(dim=(2, 3))
        return self.fc(h)


class Addmm(nn.Module):
    """torch.addmm with beta and alpha: Gemm with transB=0, alpha, beta."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(5)
        self.w = nn.Parameter(torch.randn(48, 7, generator=g) * 0.2)
        self.b = nn.Parameter(torch.randn(7, generator=g))

    def forward(self, x):
        return torch.addmm(self.b, torch.flatten(x, 1), self.w, beta=0.5, alpha=2.0)


class MatMulAdd(nn.Module):
    """x @ W + b: MatMul then Add."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(6)
        self.w = nn.Parameter(torch.randn(48, 9, generator=g) * 0.2)
        self.b = nn.Parameter(torch.randn(9, generator=g))
        self.w2 = nn.Parameter(torch.randn(9, 4, generator=g) * 0.3)

    def forward(self, x):
        h = torch.tanh(torch.matmul(torch.flatten(x, 1), self.w) + self.b)
        return torch.matmul(h, self.w2)  # MatMul without a bias


class SameStride2(nn.Module):
    """TensorFlow-style "same" padding for a stride-2 convolution on an even
    input: F.pad(0, 1, 0, 1) then a convolution (Pad folded as padding: same)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3, stride=2)

    def forward(self, x):
        return torch.relu(self.conv(F.pad(x, (0, 1, 0, 1))))


def pattern_cases():
    """(name, description, module, input CHW, export options)."""
    return [
        ("ceil_pool", "ceil-mode max and average pooling, padded, count_include_pad both ways",
         Seq(nn.Conv2d(3, 6, 3), nn.MaxPool2d(3, 2, padding=1, ceil_mode=True),
             nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False),
             nn.AvgPool2d(2, 2, padding=1, ceil_mode=True, count_include_pad=True)),
         [3, 14, 14], {}),
        ("avgpool_pad", "padded average pooling counting the padding (Pad + AveragePool) and not",
         Seq(nn.Conv2d(3, 4, 1), nn.AvgPool2d(3, 2, padding=1, count_include_pad=True), nn.ReLU(),
             nn.AvgPool2d(3, 1, padding=1, count_include_pad=False)),
         [3, 9, 10], {}),
        ("avgpool_pad_opset9", "the same at opset 9, where Pad takes its pads as an attribute",
         Seq(nn.Conv2d(3, 4, 1), nn.AvgPool2d(3, 2, padding=1, count_include_pad=True)),
         [3, 9, 10], {"opset": 9}),
        ("reducemean_gap", "ReduceMean over H and W with and without keepdims, Squeeze",
         MeanHead(), [3, 7, 6], {"dynamic": True}),
        ("view_flatten", "x.view(x.size(0), -1) with a dynamic batch: Shape, Gather, Unsqueeze, Concat, Reshape",
         ViewFlatten(), [3, 8, 8], {"dynamic": True}),
        ("const_reshape", "x.view(-1, C*H*W): a constant Reshape target, Sigmoid",
         ConstReshape(), [3, 8, 8], {}),
        ("activations", "LeakyReLU, Sigmoid, Tanh, ReLU and a softmax over the channels of an image",
         Seq(nn.Conv2d(3, 6, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(6, 6, 1), nn.Sigmoid(),
             nn.Conv2d(6, 4, 1), nn.Tanh(), nn.Softmax(dim=1)),
         [3, 5, 6], {}),
        ("gemm_transb0", "torch.addmm with alpha and beta: Gemm with transB=0",
         Addmm(), [3, 4, 4], {}),
        ("matmul_add", "MatMul + Add as a linear layer, MatMul alone without bias",
         MatMulAdd(), [3, 4, 4], {}),
        ("dropout_softmax", "Linear, Dropout (a node inserted into the export), Linear, Softmax over features",
         Seq(nn.Flatten(), nn.Linear(48, 16), nn.ReLU(), nn.Linear(16, 10), nn.Softmax(dim=1)),
         [3, 4, 4], {"dropout_after": "Relu"}),
        ("same_stride2", "asymmetric Pad before a stride-2 convolution: padding same",
         SameStride2(), [3, 8, 8], {}),
        ("softmax_opset11", "opset 11: Softmax coerces to 2-D, Squeeze and Unsqueeze take axes attributes",
         Seq(nn.Conv2d(3, 6, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 4), nn.Softmax(dim=1)),
         [3, 6, 6], {"opset": 11}),
    ]


# ---------------------------------------------------------------- export and references

def export(m, chw, path, opts, seed):
    warnings.filterwarnings("ignore")
    m = m.eval()
    x = np.random.default_rng(seed).standard_normal([BATCH] + list(chw)).astype(np.float32)
    kw = {"opset_version": opts.get("opset", 14), "input_names": ["input"], "output_names": ["output"],
          "do_constant_folding": True}
    if "training" in opts:
        kw["training"] = opts["training"]
    if opts.get("dynamic"):
        kw["dynamic_axes"] = {"input": {0: "N"}, "output": {0: "N"}}
    with torch.no_grad():
        torch.onnx.export(m, torch.from_numpy(x), path, **kw)
        ref = copy.deepcopy(m).double()(torch.from_numpy(x).double()).numpy()
        f32 = m(torch.from_numpy(x)).numpy()
    model = onnx.load(path)
    if "dropout_after" in opts:
        insert_dropout(model, opts["dropout_after"])
        onnx.save(model, path)
    onnx.checker.check_model(model)
    scale = float(np.abs(ref).max())
    assert np.abs(f32 - ref).max() <= 1e-5 * scale, "float32 torch disagrees with float64"
    return x, ref.astype(np.float32), model, scale


def insert_dropout(model, after):
    """Puts a Dropout (ratio 0.25 as an input, no training_mode) after the
    first node of type after; torch drops Dropout from eval exports."""
    g = model.graph
    for i, n in enumerate(g.node):
        if n.op_type == after:
            out = n.output[0]
            n.output[0] = out + "_pre_dropout"
            ratio = oh.make_tensor("dropout_ratio", onnx.TensorProto.FLOAT, [], [0.25])
            g.initializer.append(ratio)
            d = oh.make_node("Dropout", [out + "_pre_dropout", "dropout_ratio"], [out], name="/drop/Dropout")
            g.node.insert(i + 1, d)
            return
    raise ValueError("no %s node" % after)


def ort_diff(path, x, ref):
    """Max abs difference between onnxruntime's output and ref, or None if
    onnxruntime-node is not installed."""
    runner = os.path.join(ROOT, "bench", "ort_runner.js")
    if not os.path.isdir(os.path.join(ROOT, "bench", "node_modules", "onnxruntime-node")) or not shutil.which("node"):
        return None
    with tempfile.TemporaryDirectory() as d:
        xi, yo = os.path.join(d, "x.bin"), os.path.join(d, "y.bin")
        x.astype("<f4").tofile(xi)
        subprocess.run(["node", runner, os.path.abspath(path), xi, yo, ",".join(map(str, x.shape)),
                        "1", "1", "1", "1", "10"], check=True, capture_output=True, cwd=os.path.join(ROOT, "bench"))
        y = np.fromfile(yo, dtype="<f4").reshape(ref.shape)
    return float(np.abs(y - ref).max())


def record(manifest, name, outdir, path, x, ref, scale, model, extra):
    np.save(os.path.join(outdir, name + ".input.npy"), x)
    np.save(os.path.join(outdir, name + ".output.npy"), ref)
    d = ort_diff(path, x, ref)
    if d is not None and d > 1e-5 * scale:
        raise SystemExit("%s: onnxruntime differs from torch by %g (scale %g)" % (name, d, scale))
    entry = {
        "opset": [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")][0],
        "ops": sorted({n.op_type for n in model.graph.node}),
        "input_shape": list(x.shape),
        "output_shape": list(ref.shape),
        "output_max_abs": scale,
        "ort_max_abs_diff": d,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
    }
    entry.update(extra)
    manifest[name] = entry
    print("%-20s %-40s max|y| %-8.3g ort diff %s" % (name, ",".join(entry["ops"])[:40], scale, d))


def main_committed():
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="cnnc-onnx-export-")
    manifest = {}
    try:
        cnnc = os.path.join(tmp, "cnnc")
        subprocess.run(["go", "build", "-o", cnnc, "./cmd/cnnc"], cwd=ROOT, check=True)
        torch.manual_seed(0)
        for i, (name, spec_path, m, chw, opts) in enumerate(spec_cases(cnnc, tmp)):
            path = os.path.join(OUT, name + ".onnx")
            x, ref, model, scale = export(m, chw, path, opts, 100 + i)
            record(manifest, name, OUT, path, x, ref, scale, model,
                   {"spec": spec_path, "weights_seed": 1, "description": "the network of " + spec_path})
        for i, (name, desc, m, chw, opts) in enumerate(pattern_cases()):
            torch.manual_seed(1000 + i)
            m = copy.deepcopy(m)
            for p in m.modules():  # deterministic, but not torch's default initialisation only
                if isinstance(p, nn.Conv2d):
                    nn.init.normal_(p.weight, 0, 0.3)
                    nn.init.normal_(p.bias, 0, 0.2)
            path = os.path.join(OUT, name + ".onnx")
            x, ref, model, scale = export(m, chw, path, opts, 200 + i)
            record(manifest, name, OUT, path, x, ref, scale, model, {"description": desc})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, sort_keys=True, indent=1)
        f.write("\n")


def main_alexnet(outdir):
    import torchvision
    torch.manual_seed(0)
    m = torchvision.models.alexnet()  # random initialisation; nothing is downloaded
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "alexnet.onnx")
    x = np.random.default_rng(7).standard_normal([1, 3, 224, 224]).astype(np.float32)
    warnings.filterwarnings("ignore")
    m.eval()
    with torch.no_grad():
        torch.onnx.export(m, torch.from_numpy(x), path, opset_version=14,
                          input_names=["input"], output_names=["output"])
        ref = m.double()(torch.from_numpy(x).double()).numpy()
    np.save(os.path.join(outdir, "alexnet.input.npy"), x)
    np.save(os.path.join(outdir, "alexnet.output.npy"), ref.astype(np.float32))


if __name__ == "__main__":
    if sys.argv[1:2] == ["alexnet"] and len(sys.argv) == 3:
        main_alexnet(sys.argv[2])
    elif len(sys.argv) == 1:
        main_committed()
    else:
        sys.exit(__doc__)
