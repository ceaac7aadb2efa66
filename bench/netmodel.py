"""A cnnc spec as a torch.nn.Module, and its TorchScript and ONNX exports.

The layers are translated by golden/pytorch/gen.py (imported, not copied):
SpecModule subclasses its Net so that the weights are module buffers (so
torch.jit.trace and torch.onnx.export see them as the model's tensors, not
as constants made on every call) and so that LRN can be written in one of
three equivalent forms:

    torch  F.local_response_norm: x^2, a 5-D pad and a 3-D average pool over
           channels, pow, div. This is what PyTorch runs, and what
           torch.onnx.export writes for it ("onnx-pool" in the tables).
    op     the ONNX LRN operator ("onnx-lrn").
    conv   x^2, then a 1x1 convolution with a banded CxC matrix of
           alpha/size (the sum over the channel window), then
           x * (k + s)^-beta ("onnx-conv").

All three compute b = a / (k + alpha/size * sum a^2)^beta over the window
[c - size//2, c + (size-1)//2]. ONNX's operator centres the window as
[c - (size-1)//2, c + size//2], the same for odd sizes only, so "op" is
refused for even sizes.
"""

import importlib.util
import os
import warnings

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_spec = importlib.util.spec_from_file_location(
    "cnnc_golden_gen", os.path.join(ROOT, "golden", "pytorch", "gen.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

LRN_FORMS = ("torch", "op", "conv")
OPSET = 13


def has_lrn(spec):
    return any(L["op"] == "lrn" for L in spec["layers"])


def lrn_sizes(spec):
    return sorted({L["size"] for L in spec["layers"] if L["op"] == "lrn"})


class _LRNOp(torch.autograd.Function):
    """F.local_response_norm that torch.onnx.export writes as one ONNX LRN
    node."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha=alpha, beta=beta, k=k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x,
                    size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


def _band(c, size, alpha, dtype):
    """The [c, c, 1, 1] weight whose 1x1 convolution sums alpha/size * x^2
    over each channel's LRN window. Made in NumPy so that a trace records
    it as one constant."""
    w = np.zeros((c, c, 1, 1))
    for o in range(c):
        lo, hi = max(0, o - size // 2), min(c - 1, o + (size - 1) // 2)
        w[o, lo:hi + 1, 0, 0] = alpha / size
    return torch.from_numpy(w).to(dtype)


class _Net(gen.Net):
    def __init__(self, spec, weights, module, lrn):
        super().__init__(spec, weights)
        self.module = module
        self.lrn = lrn
        self.bands = {}

    def param(self, name, dtype, required=True):
        t = getattr(self.module, _key(name), None)
        if t is None:
            if required:
                raise KeyError("weights have no tensor %s" % name)
            return None
        return t if t.dtype == dtype else t.to(dtype)

    def layer(self, L, op, name, ins, dtype):
        if op != "lrn" or self.lrn == "torch":
            return super().layer(L, op, name, ins, dtype)
        x = ins[0]
        flat = x.dim() == 2
        if flat:
            x = x[:, :, None, None]
        size, alpha = L["size"], L.get("alpha", 1e-4)
        beta, k = L.get("beta", 0.75), L.get("k", 1.0)
        if self.lrn == "op":
            y = _LRNOp.apply(x, size, float(alpha), float(beta), float(k))
        else:
            c = int(x.shape[1])
            key = (c, size, alpha, dtype)
            if key not in self.bands:
                self.bands[key] = _band(c, size, alpha, dtype)
            s = F.conv2d(x * x, self.bands[key])
            y = x * torch.pow(s + k, -beta)
        return y[:, :, 0, 0] if flat else y


def _key(name):
    return "w__" + name.replace(".", "__")


class SpecModule(torch.nn.Module):
    """The network of a parsed spec with the given weights ({name: numpy
    float32 array}), LRN in the given form, evaluated in float32."""

    def __init__(self, spec, weights, lrn="torch"):
        super().__init__()
        if lrn not in LRN_FORMS:
            raise ValueError("lrn form %r, want one of %s" % (lrn, LRN_FORMS))
        if lrn == "op" and any(s % 2 == 0 for s in lrn_sizes(spec)):
            raise ValueError("ONNX's LRN operator centres even-sized "
                             "windows differently from cnnc and PyTorch")
        for name, a in weights.items():
            self.register_buffer(_key(name), torch.from_numpy(a.copy()))
        self.net = _Net(spec, weights, self, lrn)

    def forward(self, x):
        vals, last = self.net.run(x)
        return vals[last]


def reference(spec, weights, x):
    """The float64 output of gen.py's own evaluation, for checking engines."""
    with torch.no_grad():
        vals, last = gen.Net(spec, weights).run(torch.from_numpy(x).to(torch.float64))
    return vals[last].numpy()


def _quiet():
    warnings.filterwarnings("ignore")  # tracer warnings from gen.py's asserts


def export_torchscript(spec, weights, x, path):
    """Traces the module (LRN as PyTorch writes it) on x and saves it."""
    _quiet()
    m = SpecModule(spec, weights, "torch").eval()
    with torch.no_grad():
        traced = torch.jit.trace(m, torch.from_numpy(x), check_trace=False)
    torch.jit.save(traced, path)


def export_onnx(spec, weights, x, path, lrn):
    """Exports the module with LRN in form lrn to ONNX at opset OPSET, the
    batch fixed to x's. Returns the ONNX op types in the graph."""
    _quiet()
    import onnx
    m = SpecModule(spec, weights, lrn).eval()
    with torch.no_grad():
        torch.onnx.export(m, torch.from_numpy(x), path, opset_version=OPSET,
                          input_names=["input"], output_names=["output"],
                          do_constant_folding=True)
    g = onnx.load(path, load_external_data=False)
    return sorted({n.op_type for n in g.graph.node})
