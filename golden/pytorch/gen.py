#!/usr/bin/python3
"""Compute PyTorch reference outputs for cnnc's example specs.

Usage, from the repository root:

    /usr/bin/python3 golden/pytorch/gen.py [-o DIR] [spec/NAME.yaml ...]

With no spec arguments every spec/*.yaml is done. -o writes the files to DIR
instead of golden/pytorch (for trying out specs that are not checked in). For each spec it asks the cnnc
CLI for deterministic weights (seed 1) and a deterministic input batch
(batch 2, seed 2), evaluates the network with PyTorch in float64, and writes

    golden/pytorch/NAME.npy         the network output, float32, [2, ...]
    golden/pytorch/NAME.logits.npy  the softmax's input, when the last layer
                                    is a softmax
    golden/pytorch/manifest.json    seeds, shapes, torch version, and how far
                                    a float32 PyTorch run is from float64

The YAML is translated to PyTorch here, independently of cnnc's Go code: this
script is the oracle that compiler/parity_test.go checks cnnc against. It
only uses cnnc for the weights and the input, which it reads by name.
"""

import glob
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
import yaml

WEIGHT_SEED = 1
INPUT_SEED = 2
BATCH = 2

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


# ---------------------------------------------------------------- file formats

def read_safetensors(path):
    """Returns {name: float32 numpy array} from a safetensors file."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        start, end = e["data_offsets"]
        raw = data[start:end]
        dt = e["dtype"]
        if dt == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif dt == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dt == "BF16":
            u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            a = u.view(np.float32)
        else:
            raise ValueError("%s: tensor %s has dtype %s" % (path, name, dt))
        out[name] = a.reshape(e["shape"]).astype(np.float32)
    return out


def weights_digest(weights):
    """sha256 over the tensors in name order: for each, the UTF-8 name, a
    zero byte, then its data as little-endian float32. The parity test
    computes the same digest from params.Init to tell stale golden files
    (cnnc's random weights changed) from a real disagreement."""
    h = hashlib.sha256()
    for name in sorted(weights):
        h.update(name.encode("utf-8") + b"\0")
        h.update(np.ascontiguousarray(weights[name], dtype="<f4").tobytes())
    return h.hexdigest()


def input_digest(x):
    """sha256 of the input batch as little-endian float32."""
    return hashlib.sha256(np.ascontiguousarray(x, dtype="<f4").tobytes()).hexdigest()


# ---------------------------------------------------------------- spec helpers

def pair(v, what):
    if isinstance(v, bool):
        raise ValueError("%s: bad value %r" % (what, v))
    if isinstance(v, int):
        return (v, v)
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return (v[0], v[1])
    raise ValueError("%s: want an int or [h, w], got %r" % (what, v))


def same_pad(size, k, stride, dilation):
    """TensorFlow "same" padding along one axis: (before, after)."""
    out = -(-size // stride)  # ceil
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class Net:
    """A spec, evaluated with torch.nn.functional on a given dtype."""

    def __init__(self, spec, weights):
        self.spec = spec
        self.w = weights
        self.layers = spec["layers"]

    def param(self, name, dtype, required=True):
        if name not in self.w:
            if required:
                raise KeyError("weights have no tensor %s" % name)
            return None
        return torch.from_numpy(self.w[name]).to(dtype)

    def run(self, x):
        """Returns {layer name: output} for every layer, and the last layer's name."""
        dtype = x.dtype
        vals = {"input": x}
        prev = "input"
        for L in self.layers:
            name, op = L["name"], L["op"]
            if "inputs" in L:
                ins = [vals[i] for i in L["inputs"]]
            else:
                ins = [vals[L.get("input", prev)]]
            vals[name] = self.layer(L, op, name, ins, dtype)
            prev = name
        return vals, prev

    def layer(self, L, op, name, ins, dtype):
        x = ins[0]
        if op == "conv":
            w = self.param(name + ".weight", dtype)
            b = self.param(name + ".bias", dtype) if L.get("bias", True) else None
            kh, kw = pair(L["kernel"], name + ".kernel")
            stride = pair(L.get("stride", 1), name + ".stride")
            dil = pair(L.get("dilation", 1), name + ".dilation")
            groups = L.get("groups", 1)
            pad = L.get("padding", 0)
            assert x.dim() == 4, "%s: conv on a flat input" % name
            if pad == "valid":
                pad = (0, 0)
            elif pad == "same":
                t, bo = same_pad(x.shape[2], kh, stride[0], dil[0])
                l, r = same_pad(x.shape[3], kw, stride[1], dil[1])
                x = F.pad(x, (l, r, t, bo))
                pad = (0, 0)
            else:
                pad = pair(pad, name + ".padding")
            assert tuple(w.shape) == (L["filters"], x.shape[1] // groups, kh, kw), name
            return F.conv2d(x, w, b, stride=stride, padding=pad, dilation=dil, groups=groups)
        if op == "dense":
            w = self.param(name + ".weight", dtype)
            b = self.param(name + ".bias", dtype) if L.get("bias", True) else None
            x = torch.flatten(x, 1)
            assert tuple(w.shape) == (L["units"], x.shape[1]), name
            return F.linear(x, w, b)
        if op == "relu":
            return F.relu(x)
        if op == "leaky_relu":
            return F.leaky_relu(x, L.get("slope", 0.01))
        if op == "sigmoid":
            return torch.sigmoid(x)
        if op == "tanh":
            return torch.tanh(x)
        if op == "clip":
            return torch.clamp(x, L.get("min"), L.get("max"))
        if op == "relu6":
            return F.relu6(x)
        if op == "hardsigmoid":
            a, b = L.get("alpha", 1 / 6), L.get("beta", 0.5)
            return torch.clamp(a * x + b, 0, 1)
        if op == "hardswish":
            return F.hardswish(x)
        if op == "silu":
            return F.silu(x)
        if op == "gelu":
            return F.gelu(x, approximate=L.get("approximate", "none"))
        if op == "prelu":
            w = self.param(name + ".weight", dtype)
            return F.prelu(x, w)
        if op == "softmax":
            return F.softmax(x, dim=1)
        if op == "flatten":
            return torch.flatten(x, 1)
        if op == "dropout":
            return x
        if op in ("maxpool", "avgpool"):
            k = pair(L["kernel"], name + ".kernel")
            s = pair(L.get("stride", L["kernel"]), name + ".stride")
            p = pair(L.get("padding", 0), name + ".padding")
            ceil = L.get("ceil", False)
            if op == "maxpool":
                return F.max_pool2d(x, k, s, p, ceil_mode=ceil)
            return F.avg_pool2d(x, k, s, p, ceil_mode=ceil,
                                count_include_pad=L.get("count_pad", True))
        if op == "global_avgpool":
            return F.adaptive_avg_pool2d(x, 1)
        if op == "lrn":
            flat = x.dim() == 2
            if flat:
                x = x[:, :, None, None]
            y = F.local_response_norm(x, L["size"], alpha=L.get("alpha", 1e-4),
                                      beta=L.get("beta", 0.75), k=L.get("k", 1.0))
            return y[:, :, 0, 0] if flat else y
        if op == "batchnorm":
            return F.batch_norm(x, self.param(name + ".running_mean", dtype),
                                self.param(name + ".running_var", dtype),
                                self.param(name + ".weight", dtype),
                                self.param(name + ".bias", dtype),
                                training=False, eps=L.get("eps", 1e-5))
        if op == "add":
            y = ins[0]
            for t in ins[1:]:
                y = y + t
            return y
        if op == "concat":
            return torch.cat(ins, dim=1)
        if op == "sub":
            return ins[0] - ins[1]
        if op == "mul":
            return ins[0] * ins[1]
        if op == "div":
            return ins[0] / ins[1]
        if op == "layernorm":
            w = self.param(name + ".weight", dtype)
            b = self.param(name + ".bias", dtype)
            eps = L.get("eps", 1e-5)
            if x.dim() == 2:
                return F.layer_norm(x, (x.shape[1],), w, b, eps)
            return F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), w, b, eps).permute(0, 3, 1, 2)
        if op == "slice":
            return x[:, L["start"]:L["end"]]
        if op == "channel_shuffle":
            g = L["groups"]
            n, c = x.shape[:2]
            rest = x.shape[2:]
            return x.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(n, c, *rest)
        raise ValueError("%s: unknown op %r" % (name, op))


# ---------------------------------------------------------------- driver

def run_cnnc(cnnc, *args):
    subprocess.run([cnnc] + list(args), cwd=ROOT, check=True)


def max_abs(a, b):
    return float((a - b).abs().max().item())


def do_spec(cnnc, tmp, path, outdir):
    with open(path) as f:
        spec = yaml.safe_load(f)
    name = spec["name"]
    wpath = os.path.join(tmp, name + ".safetensors")
    xpath = os.path.join(tmp, name + ".npy")
    run_cnnc(cnnc, "weights", "init", path, "-seed", str(WEIGHT_SEED), "-o", wpath)
    run_cnnc(cnnc, "input", path, "-batch", str(BATCH), "-seed", str(INPUT_SEED), "-o", xpath)
    weights = read_safetensors(wpath)
    x = np.load(xpath)
    assert x.dtype == np.float32 and list(x.shape) == [BATCH] + list(spec["input"]), x.shape

    net = Net(spec, weights)
    with torch.no_grad():
        v64, last = net.run(torch.from_numpy(x).to(torch.float64))
        v32, _ = net.run(torch.from_numpy(x).to(torch.float32))

    out64, out32 = v64[last], v32[last].to(torch.float64)
    entry = {
        "spec": os.path.relpath(path, ROOT),
        "seeds": {"weights": WEIGHT_SEED, "input": INPUT_SEED},
        "weights_sha256": weights_digest(weights),
        "input_sha256": input_digest(x),
        "batch": BATCH,
        "torch": torch.__version__,
        "output": {
            "file": name + ".npy",
            "layer": last,
            "shape": list(out64.shape),
            "max_abs": float(out64.abs().max().item()),
            "f32_vs_f64_max_abs_diff": max_abs(out32, out64),
        },
    }
    np.save(os.path.join(outdir, name + ".npy"), out64.numpy().astype(np.float32))

    lastL = spec["layers"][-1]
    logits_file = os.path.join(outdir, name + ".logits.npy")
    if lastL["op"] == "softmax":
        layers = [L["name"] for L in spec["layers"]]
        src = lastL.get("input", layers[-2] if len(layers) > 1 else "input")
        l64, l32 = v64[src], v32[src].to(torch.float64)
        entry["logits"] = {
            "file": name + ".logits.npy",
            "layer": src,
            "shape": list(l64.shape),
            "max_abs": float(l64.abs().max().item()),
            "f32_vs_f64_max_abs_diff": max_abs(l32, l64),
        }
        np.save(logits_file, l64.numpy().astype(np.float32))
    elif os.path.exists(logits_file):
        os.remove(logits_file)

    for k in ("output", "logits"):
        if k in entry:
            e = entry[k]
            print("%-20s %-6s %-18s max|y| %-10.4g f32-vs-f64 max abs %.3g (rel %.3g)" % (
                name, k, "x".join(map(str, e["shape"])), e["max_abs"],
                e["f32_vs_f64_max_abs_diff"],
                e["f32_vs_f64_max_abs_diff"] / e["max_abs"] if e["max_abs"] else 0.0))
    return name, entry


def main(argv):
    args = argv[1:]
    outdir = HERE
    if args[:1] == ["-o"] and len(args) >= 2:
        outdir = os.path.abspath(args[1])
        args = args[2:]
        os.makedirs(outdir, exist_ok=True)
    specs = args or sorted(glob.glob(os.path.join(ROOT, "spec", "*.yaml")))
    specs = [os.path.abspath(p) for p in specs]
    torch.set_grad_enabled(False)
    manifest_path = os.path.join(outdir, "manifest.json")
    manifest = {}
    if args and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    tmp = tempfile.mkdtemp(prefix="cnnc-golden-")
    try:
        cnnc = os.path.join(tmp, "cnnc")
        subprocess.run(["go", "build", "-o", cnnc, "./cmd/cnnc"], cwd=ROOT, check=True)
        for p in specs:
            name, entry = do_spec(cnnc, tmp, p, outdir)
            manifest[name] = entry
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, sort_keys=True, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv)
