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


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (MobileNetV3, EfficientNet, RegNetY): global
    average pooling, two 1x1 convolutions, a sigmoid gate, and Mul of
    [N, C, H, W] by [N, C, 1, 1]."""

    def __init__(self, c=8, hidden=4):
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3, padding=1)
        self.fc1 = nn.Conv2d(c, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, c, 1)
        self.out = nn.Conv2d(c, 4, 1)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(F.adaptive_avg_pool2d(y, 1)))))
        return self.out(y * s)


class Broadcast(nn.Module):
    """Add, Sub, Mul and Div of activations with NumPy broadcasting:
    [C, H, W] with [C, 1, 1], [1, H, W] and [1, 1, 1]."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.one = nn.Conv2d(6, 1, 1)  # [N, 1, H, W]
        self.out = nn.Conv2d(6, 4, 1)

    def forward(self, x):
        a = self.conv(x)
        g = F.adaptive_avg_pool2d(a, 1)  # [N, 6, 1, 1]
        h = torch.tanh(self.one(a))  # [N, 1, H, W]
        s = F.adaptive_avg_pool2d(h, 1)  # [N, 1, 1, 1]
        y = (a - g) * torch.sigmoid(s) + h
        y = y / torch.sigmoid(g)
        return self.out(torch.relu(y) - a)


class ConstFold(nn.Module):
    """Arithmetic with constants after layers that fold them: a per-channel
    scale and shift after a convolution, Sub and Div by constants after a
    linear layer, a constant minus a batchnorm."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(8)
        self.conv = nn.Conv2d(3, 5, 3)
        self.scale = nn.Parameter(torch.rand(5, 1, 1, generator=g) + 0.5)
        self.shift = nn.Parameter(torch.randn(1, 5, 1, 1, generator=g))
        self.bn = nn.BatchNorm2d(5)
        self.fc = nn.Linear(5 * 4 * 4, 7)

    def forward(self, x):
        y = torch.relu(self.conv(x) * self.scale + self.shift)
        y = torch.relu(0.5 - self.bn(y))
        return torch.tanh((self.fc(torch.flatten(y, 1)) - 0.25) / 3.0)


class Shuffle(nn.Module):
    """ShuffleNetV2's unit: torch.chunk on the channels (Slice computed from
    Shape), torch.split (Split), and the channel shuffle Reshape ->
    Transpose -> Reshape."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.branch = nn.Conv2d(4, 4, 1)
        self.out = nn.Conv2d(8, 4, 1)

    @staticmethod
    def shuffle(x, groups):
        n, c, h, w = x.size()
        x = x.view(n, groups, c // groups, h, w)
        return torch.transpose(x, 1, 2).contiguous().view(n, -1, h, w)

    def forward(self, x):
        y = self.conv(x)
        a, b = y.chunk(2, dim=1)
        y = self.shuffle(torch.cat((a, torch.relu(self.branch(b))), dim=1), 2)
        c, d, e = torch.split(y, [2, 2, 4], dim=1)
        y = self.shuffle(torch.cat((e, torch.sigmoid(d), c), dim=1), 4)
        return self.out(y)


class ConvNeXtSmall(nn.Module):
    """A tiny ConvNeXt from torchvision's own modules: a patchify stem with
    LayerNorm2d, one CNBlock (depthwise 7x7, permute, LayerNorm, Linear,
    GELU, Linear, permute, layer scale, residual), a downsampling
    LayerNorm2d + conv, and the classifier LayerNorm2d -> Flatten -> Linear."""

    def __init__(self, c=8):
        super().__init__()
        from torchvision.models.convnext import CNBlock, LayerNorm2d
        self.stem = nn.Sequential(nn.Conv2d(3, c, 2, stride=2), LayerNorm2d(c, eps=1e-6))
        self.block = CNBlock(c, 1e-6, 0.0)
        self.down = nn.Sequential(LayerNorm2d(c, eps=1e-6), nn.Conv2d(c, 2 * c, 2, stride=2))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), LayerNorm2d(2 * c, eps=1e-6), nn.Flatten(1), nn.Linear(2 * c, 5))

    def forward(self, x):
        return self.head(self.down(self.block(self.stem(x))))


class LayerNormFlat(nn.Module):
    """nn.LayerNorm over the features of a flat [N, F] tensor, with an
    affine map, then with or without one (torch 1.13 writes a
    LayerNormalization without its scale input, which onnx's checker
    refuses, so only the written-out form before opset 17 can have none)."""

    def __init__(self, affine2):
        super().__init__()
        self.fc1 = nn.Linear(48, 12)
        self.ln1 = nn.LayerNorm(12)
        self.fc2 = nn.Linear(12, 6)
        self.ln2 = nn.LayerNorm(6, elementwise_affine=affine2)

    def forward(self, x):
        return self.ln2(self.fc2(torch.relu(self.ln1(self.fc1(torch.flatten(x, 1))))))


class Clamp(nn.Module):
    """torch.clamp with a lower bound only: Clip(x, min, "")."""

    def forward(self, x):
        return torch.clamp(x, min=-0.5)


class RandPReLU(nn.PReLU):
    """nn.PReLU with random slopes (the default 0.25 everywhere would not
    tell a per-channel slope from a shared one)."""

    def __init__(self, n):
        super().__init__(n)
        with torch.no_grad():
            self.weight.copy_(torch.rand(n, generator=torch.Generator().manual_seed(n)) * 0.6 - 0.1)


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
        ("clip", "ReLU6, Hardtanh and clamp with one bound: Clip with min and max as inputs",
         Seq(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU6(), nn.Conv2d(6, 6, 1), nn.Hardtanh(-1.0, 2.0),
             nn.Conv2d(6, 4, 1), Clamp()),
         [3, 5, 6], {"opset": 13, "init": "all"}),
        ("clip_opset9", "ReLU6 and Hardtanh at opset 9: Clip with min and max as attributes",
         Seq(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU6(), nn.Conv2d(6, 4, 1), nn.Hardtanh(-1.0, 2.0)),
         [3, 5, 6], {"opset": 9, "init": "all"}),
        ("hardsigmoid", "nn.Hardsigmoid: HardSigmoid with alpha 1/6",
         Seq(nn.Conv2d(3, 6, 3, padding=1), nn.Hardsigmoid(), nn.Conv2d(6, 4, 1)),
         [3, 5, 6], {"opset": 13, "init": "all"}),
        ("hardswish_13", "nn.Hardswish at opset 13: x * HardSigmoid(x), fused",
         Seq(nn.Conv2d(3, 6, 3, padding=1), nn.Hardswish(), nn.Conv2d(6, 4, 1)),
         [3, 5, 6], {"opset": 13, "init": "all"}),
        ("hardswish_14", "nn.Hardswish at opset 14: the HardSwish operator",
         Seq(nn.Conv2d(3, 6, 3, padding=1), nn.Hardswish(), nn.Conv2d(6, 4, 1)),
         [3, 5, 6], {"opset": 14, "init": "all"}),
        ("silu", "nn.SiLU: x * Sigmoid(x), fused",
         Seq(nn.Conv2d(3, 6, 3, padding=1), nn.SiLU(), nn.Conv2d(6, 4, 1)),
         [3, 5, 6], {"opset": 13, "init": "all"}),
        ("gelu", "nn.GELU(): Div by sqrt(2), Erf, Add 1, Mul x, Mul 0.5, fused",
         Seq(nn.Conv2d(3, 6, 3, padding=1), nn.GELU(), nn.Conv2d(6, 4, 1)),
         [3, 5, 6], {"opset": 13, "init": "all"}),
        ("gelu_tanh", "nn.GELU(approximate='tanh'): written out with Mul, Add and Tanh, fused",
         Seq(nn.Conv2d(3, 6, 3, padding=1), nn.GELU(approximate="tanh"), nn.Conv2d(6, 4, 1)),
         [3, 5, 6], {"opset": 13, "init": "all"}),
        ("prelu", "nn.PReLU(C) (slope [C, 1, 1]) and nn.PReLU() (one slope)",
         Seq(nn.Conv2d(3, 6, 3, padding=1), RandPReLU(6), nn.Conv2d(6, 4, 1), RandPReLU(1)),
         [3, 5, 6], {"opset": 13, "init": "all"}),
        ("squeeze_excite", "squeeze-and-excitation: GAP, conv, ReLU, conv, Sigmoid, Mul by [N, C, 1, 1]",
         SqueezeExcite(), [3, 6, 6], {"opset": 13, "init": "all"}),
        ("broadcast", "Add, Sub, Mul, Div of activations broadcasting [C,1,1], [1,H,W], [1,1,1]",
         Broadcast(), [3, 5, 6], {"opset": 13, "init": "all"}),
        ("const_fold", "a per-channel scale and shift after a conv, a constant minus a batchnorm, Sub and Div after a linear layer",
         ConstFold(), [3, 6, 6], {"opset": 13, "init": "all"}),
        ("shuffle", "torch.chunk (Slice from Shape), torch.split (Split), channel shuffle (Reshape, Transpose, Reshape)",
         Shuffle(), [3, 5, 6], {"opset": 13, "init": "all"}),
        ("convnext_13", "a tiny ConvNeXt at opset 13: F.layer_norm written out, GELU, layer scale, LayerNorm2d",
         ConvNeXtSmall(), [3, 16, 16], {"opset": 13, "init": "all"}),
        ("convnext_17", "the same at opset 17: LayerNormalization",
         ConvNeXtSmall(), [3, 16, 16], {"opset": 17, "init": "all"}),
        ("layernorm_flat_13", "nn.LayerNorm over [N, F], with and without an affine map, at opset 13",
         LayerNormFlat(False), [3, 4, 4], {"opset": 13, "init": "all"}),
        ("layernorm_flat_17", "nn.LayerNorm over [N, F] at opset 17: LayerNormalization",
         LayerNormFlat(True), [3, 4, 4], {"opset": 17, "init": "all"}),
    ]


def randomize(m, everything):
    """Deterministic weights, but not torch's default initialisation only:
    convolutions are drawn, and with everything (the cases whose options
    say "init": "all") linear biases, the normalisations'
    affine maps and statistics, and ConvNeXt's layer scale (1e-6 at
    initialisation, which would make its block the identity to 1e-6)."""
    with torch.no_grad():
        for p in m.modules():
            if isinstance(p, nn.Conv2d):
                nn.init.normal_(p.weight, 0, 0.3)
                if p.bias is not None:
                    nn.init.normal_(p.bias, 0, 0.2)
            if not everything:
                continue
            if isinstance(p, nn.Linear) and p.bias is not None:
                nn.init.normal_(p.bias, 0, 0.2)
            elif isinstance(p, (nn.LayerNorm, nn.BatchNorm2d)) and p.weight is not None:
                p.weight.uniform_(0.5, 1.5)
                nn.init.normal_(p.bias, 0, 0.2)
            if isinstance(p, nn.BatchNorm2d):
                nn.init.normal_(p.running_mean, 0, 0.2)
                p.running_var.uniform_(0.5, 2.0)
            if isinstance(getattr(p, "layer_scale", None), nn.Parameter):
                p.layer_scale.uniform_(0.5, 1.0)


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
            randomize(m, opts.get("init") == "all")
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
