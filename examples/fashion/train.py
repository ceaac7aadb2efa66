#!/usr/bin/python3
"""Train fashionnet.yaml on Fashion-MNIST with Debian's PyTorch.

    apt-get install -y dataset-fashion-mnist
    /usr/bin/python3 examples/fashion/train.py

Writes, next to this script:
  fashionnet.safetensors            the weights, named as cnnc names them
  testdata/pytorch_predictions.npy  float32 [10000, 2]: for every test image,
                                    PyTorch's predicted class and the margin
                                    between its two largest logits
  accuracy.json                     test accuracy and how the run went

The network is built from the spec's layer sizes below (the spec is the
contract; cnnc compiles it), and the inputs are preprocessed exactly as
the spec's preprocess section tells cnnc's generated code to:
x = (p*scale - mean) / std in float64, rounded to float32.
"""

import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
SEED = 1
EPOCHS = 8
BATCH = 128


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def preprocessing(spec):
    p = spec["preprocess"]
    assert p["channels"] == "gray"
    scale = p.get("scale", 1)
    if isinstance(scale, str):
        num, den = scale.split("/")
        scale = float(num) / float(den)
    return float(scale), float(p.get("mean", 0)), float(p.get("std", 1))


def preprocess(images, scale, mean, std):
    # The same float64 operations as the generated code's table, rounded once.
    x = (images.astype(np.float64) * scale - mean) / std
    return torch.from_numpy(x.astype(np.float32)).unsqueeze(1)  # N x 1 x 28 x 28


class Net(nn.Module):
    # Module names are the spec's layer names: the state_dict's keys are
    # the tensor names cnnc reads (conv1.weight, ...).
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc3 = nn.Linear(16 * 5 * 5, 120)
        self.fc4 = nn.Linear(120, 84)
        self.fc5 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc3(x))
        x = F.relu(self.fc4(x))
        return self.fc5(x)  # logits; the spec's softmax follows


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().numpy().astype("<f4"))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(tmp, path)


def save_npy(path, a):
    tmp = path + ".tmp.npy"
    np.save(tmp, a)
    os.replace(tmp, path)


def main():
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)
    with open(os.path.join(HERE, "fashionnet.yaml")) as f:
        spec = yaml.safe_load(f)
    scale, mean, std = preprocessing(spec)

    xtr = preprocess(read_idx("train-images-idx3-ubyte.gz"), scale, mean, std)
    ytr = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = preprocess(read_idx("t10k-images-idx3-ubyte.gz"), scale, mean, std)
    yte = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))
    print(f"train {tuple(xtr.shape)}, test {tuple(xte.shape)}; input mean {xtr.mean():.4f} std {xtr.std():.4f}")

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS * (len(xtr) // BATCH))
    gen = torch.Generator().manual_seed(SEED)

    def evaluate():
        net.eval()
        with torch.no_grad():
            logits = torch.cat([net(xte[i:i + 1000]) for i in range(0, len(xte), 1000)])
        net.train()
        return logits

    start = time.time()
    for epoch in range(EPOCHS):
        perm = torch.randperm(len(xtr), generator=gen)
        total = 0.0
        for i in range(0, len(xtr) - BATCH + 1, BATCH):
            idx = perm[i:i + BATCH]
            loss = F.cross_entropy(net(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        acc = (evaluate().argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch + 1}: loss {total / (len(xtr) // BATCH):.4f}, test accuracy {acc:.4f}, {time.time() - start:.0f} s", flush=True)
    train_seconds = time.time() - start

    logits = evaluate()
    top2 = logits.topk(2, dim=1).values
    pred = logits.argmax(1)
    correct = int((pred == yte).sum())
    margin = (top2[:, 0] - top2[:, 1]).numpy()
    out = np.stack([pred.numpy().astype(np.float32), margin.astype(np.float32)], axis=1)

    write_safetensors(os.path.join(HERE, "fashionnet.safetensors"), net.state_dict())
    save_npy(os.path.join(HERE, "testdata", "pytorch_predictions.npy"), out)
    report = {
        "test_images": len(yte),
        "correct": correct,
        "accuracy": round(correct / len(yte), 4),
        "epochs": EPOCHS,
        "batch": BATCH,
        "seed": SEED,
        "train_seconds": round(train_seconds),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "smallest_top2_margin": float(margin.min()),
    }
    tmp = os.path.join(HERE, "accuracy.json.tmp")
    with open(tmp, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(HERE, "accuracy.json"))
    print(json.dumps(report))


if __name__ == "__main__":
    sys.exit(main())
