#!/usr/bin/python3
"""Write the PyTorch state_dict files that compiler/pth's tests read.

Usage, from the repository root (Debian's torch 1.13):

    /usr/bin/python3 compiler/pth/testdata/save.py               # the committed files
    /usr/bin/python3 compiler/pth/testdata/save.py alexnet DIR

The first form writes, next to this script:

  resnet_small.pth           the state_dict of a torchvision-style ResNet
                             (conv1, bn1, layer1.conv1, ..., layer2.downsample.0,
                             fc) with the layers of spec/resnet_small.yaml,
                             random weights and batchnorm statistics (seeded)
  resnet_small.expected.safetensors   the same tensors, written here with
                             NumPy (float32; num_batches_tracked left out)
  resnet_small.input.npy, resnet_small.output.npy
                             a batch of 2 and the module's output in float64
  dtypes.pth, dtypes_legacy.pth
                             a dict of float32, float64, float16, bfloat16 and
                             int64 tensors, views sharing a storage (offset,
                             transposed), a scalar: in the zip format and in
                             the legacy format (_use_new_zipfile_serialization
                             =False)
  dtypes.expected.json       their values as float64 or int lists

The second form writes torchvision's AlexNet state_dict (random
initialisation, torch.manual_seed(0); nothing is downloaded) to
DIR/alexnet.pth, its tensors to DIR/alexnet.expected.safetensors, and
DIR/alexnet.input.npy and DIR/alexnet.output.npy: TestAlexNetStateDict
runs it at test time, the file being 244 MB.
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def write_safetensors(path, tensors):
    """A minimal safetensors writer (F32 only), independent of cnnc's."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy(), dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class Block(nn.Module):
    """torchvision's BasicBlock."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class SmallResNet(nn.Module):
    """spec/resnet_small.yaml as torchvision would write it."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = Block(16, 16, 1)
        self.layer2 = Block(16, 32, 2)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return F.softmax(self.fc(x), dim=1)


def randomize_bn(m, g):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            n = mod.num_features
            mod.weight.data = 1 + 0.2 * torch.randn(n, generator=g)
            mod.bias.data = 0.1 * torch.randn(n, generator=g)
            mod.running_mean.data = 0.1 * torch.randn(n, generator=g)
            mod.running_var.data = 0.5 + torch.rand(n, generator=g)
            mod.num_batches_tracked.fill_(7)


def save_resnet():
    torch.manual_seed(3)
    m = SmallResNet()
    randomize_bn(m, torch.Generator().manual_seed(4))
    m.eval()
    sd = m.state_dict()
    torch.save(sd, os.path.join(HERE, "resnet_small.pth"))
    write_safetensors(os.path.join(HERE, "resnet_small.expected.safetensors"),
                      {k: v for k, v in sd.items() if v.dtype.is_floating_point})
    x = np.random.default_rng(5).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        y = m.double()(torch.from_numpy(x).double()).numpy()
    np.save(os.path.join(HERE, "resnet_small.input.npy"), x)
    np.save(os.path.join(HERE, "resnet_small.output.npy"), y.astype(np.float32))


def save_dtypes():
    g = torch.Generator().manual_seed(9)
    base = torch.randn(3, 4, generator=g)
    sd = {
        "f32": torch.randn(2, 3, generator=g),
        "f64": torch.randn(5, generator=g, dtype=torch.float64),
        "f16": torch.randn(2, 2, generator=g).half(),
        "bf16": torch.randn(3, generator=g).bfloat16(),
        "i64": torch.tensor([1, -2, 3 << 40], dtype=torch.int64),
        "base": base,
        "row": base[1],           # shares base's storage at offset 4
        "transposed": base.t(),   # shares it with strides (1, 4)
        "column": base[:, 2],     # offset 2, stride 4
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    }
    torch.save(sd, os.path.join(HERE, "dtypes.pth"))
    torch.save(sd, os.path.join(HERE, "dtypes_legacy.pth"), _use_new_zipfile_serialization=False)
    expected = {}
    for k, v in sd.items():
        if v.dtype == torch.int64:
            vals = [int(x) for x in v.flatten().tolist()]
        else:  # what cnnc keeps: float32, as exact float64 numbers
            vals = [float(x) for x in v.float().flatten().tolist()]
        expected[k] = {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""), "values": vals}
    with open(os.path.join(HERE, "dtypes.expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


def save_alexnet(outdir):
    import torchvision
    torch.manual_seed(0)
    m = torchvision.models.alexnet().eval()  # random initialisation
    os.makedirs(outdir, exist_ok=True)
    sd = m.state_dict()
    torch.save(sd, os.path.join(outdir, "alexnet.pth"))
    write_safetensors(os.path.join(outdir, "alexnet.expected.safetensors"), sd)
    x = np.random.default_rng(11).standard_normal((1, 3, 224, 224)).astype(np.float32)
    with torch.no_grad():
        y = m.double()(torch.from_numpy(x).double()).numpy()
    np.save(os.path.join(outdir, "alexnet.input.npy"), x)
    np.save(os.path.join(outdir, "alexnet.output.npy"), y.astype(np.float32))


if __name__ == "__main__":
    if sys.argv[1:2] == ["alexnet"] and len(sys.argv) == 3:
        save_alexnet(sys.argv[2])
    elif len(sys.argv) == 1:
        save_resnet()
        save_dtypes()
    else:
        sys.exit(__doc__)
