"""torch_runner.py times a TorchScript model with PyTorch, for bench/bench.py.

    /usr/bin/python3 torch_runner.py MODEL INPUT OUTPUT SHAPE THREADS WARMUP RUNS MIN_RUNS BUDGET

MODEL is what torch.jit.trace wrote (bench/netmodel.py); INPUT is raw
little-endian float32 of SHAPE (comma-separated); OUTPUT gets the last run's
output the same way. It sets torch.set_num_threads(THREADS) (bench.py also
sets OMP_NUM_THREADS), puts the model in eval mode and runs under
torch.inference_mode(). After WARMUP untimed runs it times up to RUNS runs
(fewer, but at least MIN_RUNS, when they would take longer than BUDGET
seconds) and prints one JSON line with the times in milliseconds,
load_ms: how long torch.jit.load and eval() took, and peak_rss_bytes: the
process's peak resident set (VmHWM), torch's libraries included.
"""

import json
import sys
import time

import numpy as np
import torch


def main(argv):
    if len(argv) != 10:
        sys.exit(__doc__)
    model, inp, out, shape, threads, warmup, runs, min_runs, budget = argv[1:]
    shape = [int(s) for s in shape.split(",")]
    threads, warmup, runs, min_runs = int(threads), int(warmup), int(runs), int(min_runs)
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    t0 = time.perf_counter()
    m = torch.jit.load(model).eval()
    load_ms = (time.perf_counter() - t0) * 1e3
    x = torch.from_numpy(np.fromfile(inp, dtype="<f4").reshape(shape))

    def once():
        t = time.perf_counter()
        y = m(x)
        return (time.perf_counter() - t) * 1e3, y

    with torch.inference_mode():
        warm = []
        for _ in range(max(warmup, 1)):
            ms, y = once()
            warm.append(ms)
        est = sorted(warm)[len(warm) // 2]
        n = runs if est <= 0 else min(runs, int(float(budget) * 1e3 / est))
        n = max(n, min_runs, 1)
        times = []
        for _ in range(n):
            ms, y = once()
            times.append(ms)
    rss = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1]) * 1024
    y.numpy().astype("<f4").tofile(out)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "load_ms": load_ms, "peak_rss_bytes": rss, "warmup_ms": warm, "times_ms": times}))


if __name__ == "__main__":
    main(sys.argv)
