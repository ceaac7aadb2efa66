#!/usr/bin/python3
"""Export torchvision's CNN classifiers to ONNX with PyTorch's outputs.

Usage, from the repository root (Debian's torch 1.13, torchvision 0.14,
onnx 1.12 and numpy):

    /usr/bin/python3 compiler/onnx/testdata/torchvision_models.py list
    /usr/bin/python3 compiler/onnx/testdata/torchvision_models.py export DIR NAME OPSET [SIZE [BATCH]]
    /usr/bin/python3 compiler/onnx/testdata/torchvision_models.py serve

list prints one JSON object per classifier: its name, family and the
input sizes it is tested at (min: the smallest that is valid and exports
the same graph; native: the size it was trained at).

export writes DIR/NAME-OPSET.onnx (batch 1, SIZE x SIZE, default the
native size), DIR/NAME-OPSET.input.npy (a fixed input, seeded) and
DIR/NAME-OPSET.output.npy: PyTorch's output for it in float64 (the same
weights and input evaluated with model.double()), rounded to float32. It
prints one JSON line describing the export (see export()). With BATCH
over 1 the files are NAME-OPSET-bBATCH.*, the batch fixed to BATCH
(bench/bench.py's export for onnxruntime); the input's first images are
the smaller batches' inputs.

serve reads such requests, one JSON object per line ({"dir", "name",
"opset", "size"}), and answers each with the line export prints: the Go
test cmd/cnnc/torchvision_test.go keeps one process serving, so that
torch is imported once and the next model is exported while the last one
runs.

The weights are random and seeded (torch.manual_seed(0); nothing is
downloaded). Initialisation alone would leave parts of the network
trivial, so that a wrong translation of them could still pass: every
BatchNorm gets random running statistics (means N(0, 0.2^2), variances
in [0.5, 2]) and affine parameters (scales in [0.5, 1.5], shifts
N(0, 0.2^2)): the batchnorm fold must be right; every LayerNorm a random
affine, and ConvNeXt's layer scale (initialised to 1e-6, which
makes each block the identity to 1e-6) is drawn from [0.5, 1].
"""

import json
import os
import sys
import time
import traceback
import warnings

import numpy as np
import torch
import torch.nn as nn
import torchvision

# Families: torchvision's modules, split where the exported operators differ
# (RegNetX has no squeeze-and-excitation, RegNetY has; EfficientNetV2 has
# fused MBConv blocks). The first model of each family is its cheapest
# (VGG: the one with batchnorm, which costs as little as without).
FAMILIES = {
    "alexnet": ["alexnet"],
    "vgg": ["vgg11_bn", "vgg11", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"],
    "resnet": ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
               "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"],
    "squeezenet": ["squeezenet1_1", "squeezenet1_0"],
    "densenet": ["densenet121", "densenet169", "densenet201", "densenet161"],
    "googlenet": ["googlenet"],
    "inception": ["inception_v3"],
    "mnasnet": ["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"],
    "mobilenet_v2": ["mobilenet_v2"],
    "mobilenet_v3": ["mobilenet_v3_small", "mobilenet_v3_large"],
    "efficientnet": ["efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
                     "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7"],
    "efficientnet_v2": ["efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"],
    "regnet_x": ["regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf",
                 "regnet_x_8gf", "regnet_x_16gf", "regnet_x_32gf"],
    "regnet_y": ["regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf",
                 "regnet_y_8gf", "regnet_y_16gf", "regnet_y_32gf", "regnet_y_128gf"],
    "shufflenet_v2": ["shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"],
    "convnext": ["convnext_tiny", "convnext_small", "convnext_base", "convnext_large"],
}

# The classifiers left out: transformers, not CNNs.
NOT_CNN = ("vit_", "swin_", "maxvit_")


def native_size(name):
    return 299 if name == "inception_v3" else 224


def min_size(name):
    """The smallest input the test uses. AlexNet and VGG end in
    AdaptiveAvgPool2d((6, 6)) and ((7, 7)): PyTorch exports it only where
    it is a plain pooling, and cnnc's spec of torchvision's AlexNet is at
    224, so these stay at 224. Inception v3 needs 75 at least; 96 keeps
    every branch's pooling windows whole. The rest end in a global pooling
    and take 64 (32 would shrink the last stages to 1x1)."""
    if name == "alexnet" or name.startswith("vgg"):
        return 224
    if name == "inception_v3":
        return 96
    return 64


def classifiers():
    """torchvision's classification constructors, less the transformers,
    in FAMILIES' order (cheapest first in each family); it fails if
    torchvision has one that FAMILIES lacks, or FAMILIES one it lacks."""
    names = {n for n in torchvision.models.list_models(module=torchvision.models) if not n.startswith(NOT_CNN)}
    listed = [n for f in FAMILIES.values() for n in f]
    if names != set(listed):
        raise SystemExit("torchvision_models.py: FAMILIES lacks %s and has %s, which torchvision %s lacks"
                         % (sorted(names - set(listed)), sorted(set(listed) - names), torchvision.__version__))
    return listed


def family(name):
    for f, names in FAMILIES.items():
        if name in names:
            return f
    raise KeyError(name)


def build(name, size):
    """The model, seeded, with non-trivial normalisation (see the doc
    comment), in eval mode. size is the input it will run on.

    The batchnorm statistics are drawn, not measured: statistics measured
    on a few random images (train-mode batchnorm, four images of size x
    size) left networks so ill-conditioned that float32 PyTorch differed
    from float64 by 57% of the output on efficientnet_v2_s and 0.06% on
    efficientnet_b0; drawn ones keep it near 1e-6 on all of them."""
    del size  # the drawn statistics do not depend on it
    torch.manual_seed(0)
    warnings.filterwarnings("ignore")
    m = getattr(torchvision.models, name)()  # random initialisation; nothing is downloaded
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                c = mod.num_features
                mod.running_mean.copy_(torch.randn(c, generator=g) * 0.2)
                mod.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.5)
                if mod.affine:
                    mod.weight.copy_(torch.rand(c, generator=g) * 1.0 + 0.5)
                    mod.bias.copy_(torch.randn(c, generator=g) * 0.2)
            elif isinstance(mod, nn.LayerNorm) and mod.elementwise_affine:
                mod.weight.copy_(torch.rand(mod.weight.shape, generator=g) * 1.0 + 0.5)
                mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.2)
            if hasattr(mod, "layer_scale") and isinstance(mod.layer_scale, nn.Parameter):
                mod.layer_scale.copy_(torch.rand(mod.layer_scale.shape, generator=g) * 0.5 + 0.5)
    return m.eval()


def export(outdir, name, opset, size=None, batch=1):
    """Exports name at opset, size and batch; returns what the export line says:
    name, opset, size, the files' path stem, the output's max |y|
    (scale), float32 PyTorch's largest difference from the float64
    reference (f32_diff, how hard the network is on float32), the seconds
    it took, and error (set when torch cannot export the model)."""
    size = size or native_size(name)
    stem = os.path.join(outdir, "%s-%d%s" % (name, opset, "-b%d" % batch if batch != 1 else ""))
    res = {"name": name, "family": family(name), "opset": opset, "size": size, "batch": batch, "stem": stem}
    start = time.time()
    try:
        m = build(name, size)
        x = np.random.default_rng(7).standard_normal([batch, 3, size, size]).astype(np.float32)
        xt = torch.from_numpy(x)
        with torch.no_grad():
            torch.onnx.export(m, xt, stem + ".onnx", opset_version=opset,
                              input_names=["input"], output_names=["output"], do_constant_folding=True)
            f32 = m(xt).numpy()
            ref = m.double()(xt.double()).numpy()
    except Exception as e:  # torch cannot export it: the test reports this
        res["error"] = "%s: %s" % (type(e).__name__, str(e).strip().split("\n")[0])
        res["trace"] = traceback.format_exc()[-2000:]
        return res
    np.save(stem + ".input.npy", x)
    np.save(stem + ".output.npy", ref.astype(np.float32))
    scale = float(np.abs(ref).max())
    res.update(scale=scale, f32_diff=float(np.abs(f32 - ref).max()), seconds=round(time.time() - start, 2))
    return res


def main():
    args = sys.argv[1:]
    if args == ["list"]:
        for n in classifiers():
            print(json.dumps({"name": n, "family": family(n), "min": min_size(n), "native": native_size(n)}))
    elif len(args) in (4, 5, 6) and args[0] == "export":
        res = export(args[1], args[2], int(args[3]), *(int(a) for a in args[4:]))
        print(json.dumps(res))
        if "error" in res:
            sys.exit(res["trace"])
    elif args == ["serve"]:
        for line in sys.stdin:
            r = json.loads(line)
            print(json.dumps(export(r["dir"], r["name"], r["opset"], r.get("size"), r.get("batch", 1))), flush=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
