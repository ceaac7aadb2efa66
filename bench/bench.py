"""bench.py compares cnnc with onnxruntime and PyTorch on the same network,
weights and input. Run it through bench/run, which installs the peers first;
bench/README.md says what every number means.

    /usr/bin/python3 bench/bench.py [flags] [spec.yaml|name ...]

For each spec: cnnc makes the weights and an input batch; the weights go
into a traced TorchScript module and into ONNX files (LRN, where the
network has it, in three equivalent forms, see netmodel.py); then for each
batch size and thread count each engine runs in its own process, is timed,
and its output is compared with gen.py's float64 evaluation.

For a torchvision classifier's name (resnet50): torchvision_models.py
builds it with seeded random weights and exports it to ONNX once per batch
size; cnnc imports those files, onnxruntime runs them, PyTorch runs a
trace of the module, and the reference is the module in float64.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"
WEIGHT_SEED, INPUT_SEED = 1, 2
NOISY = 0.10  # others' share of the CPUs above which a measurement is disturbed
FORM_NAMES = {"torch": "onnx-pool", "op": "onnx-lrn", "conv": "onnx-conv"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sh(cmd, cwd=ROOT, env=None, timeout=None):
    """Runs cmd, returns its stdout; raises RuntimeError with its stderr."""
    p = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-8:]
        raise RuntimeError("%s: exit %d\n    %s" % (" ".join(cmd[:2]), p.returncode, "\n    ".join(tail)))
    return p.stdout


# ---------------------------------------------------------------- the machine

def cpu_info():
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            info.setdefault(k.strip(), v.strip())
    flags = info.get("flags", "").split()
    isa = "AVX-512" if "avx512f" in flags else "AVX2+FMA" if "fma" in flags else "no AVX2"
    fam, model = int(info.get("cpu family", "0")), int(info.get("model", "0"))
    core = ""
    if info.get("vendor_id") == "AuthenticAMD":  # the name a VM shows may be just "AMD EPYC"
        core = {23: "Zen/Zen 2", 26: "Zen 5"}.get(fam, "")
        if fam == 25:
            core = "Zen 4" if model >> 4 in (1, 6, 7, 0xa) else "Zen 3"
    return "%s (family %d model %d%s, %s), %s cores, %d logical CPUs" % (
        info.get("model name", platform.processor() or "unknown CPU"), fam, model,
        ": " + core if core else "", isa, info.get("cpu cores", "?"), os.cpu_count())


def mem_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return 0


def cpu_jiffies():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    total = sum(v[:8])  # guest time is already counted in user
    return total - idle, total


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def busy_fraction(seconds):
    """The share of all CPUs busy over the next seconds (we are idle)."""
    b0, t0 = cpu_jiffies()
    time.sleep(seconds)
    b1, t1 = cpu_jiffies()
    return (b1 - b0) / max(t1 - t0, 1)


def wait_idle(limit, threshold=NOISY):
    """Waits up to limit seconds for other processes to use less than
    threshold of the CPUs; returns the last reading."""
    deadline = time.time() + limit
    while True:
        b = busy_fraction(0.5)
        if b < threshold or time.time() >= deadline:
            return b


class OthersMeter:
    """Measures the share of all CPUs that processes other than ours and
    our children used between start() and stop()."""

    def start(self):
        self.b0, self.j0 = cpu_jiffies()
        self.c0 = children_cpu()

    def stop(self):
        b1, j1 = cpu_jiffies()
        c1 = children_cpu()
        hz = os.sysconf("SC_CLK_TCK")
        busy = (b1 - self.b0) / hz - (c1 - self.c0)
        return max(0.0, busy) / max((j1 - self.j0) / hz, 1e-9)


def measure_machine(opts, scratch, out=None):
    """Peak FMA GFLOP/s and read bandwidth, {('fma'|'bw', t): (value, line,
    others' CPU share)}. A disturbed run can only read low, so each is
    measured again while other processes were busy, and the highest reading
    is kept, also over earlier calls' readings in out."""
    exe = machine_exe(scratch)
    out = dict(out or {})
    for t in sorted(set([1] + opts.threads)):
        for kind, arg in (("fma", "0.3" if opts.quick else "2"), ("bw", "256" if opts.quick else "1024")):
            for _ in range(opts.retries + 1):
                if opts.wait_idle > 0:
                    wait_idle(opts.wait_idle)
                meter = OthersMeter()
                meter.start()
                line = sh([exe, kind, str(t), arg]).strip()
                r = (float(line.split()[0]), line, meter.stop())
                if (kind, t) not in out or r[0] > out[(kind, t)][0]:
                    out[(kind, t)] = r
                log("machine: %s; others used %.0f%% of the CPUs" % (line, 100 * r[2]))
                if r[2] <= NOISY:
                    break
    return out


def machine_exe(scratch):
    """bench/machine.c built into scratch (once)."""
    exe = os.path.join(scratch, "machine")
    if not os.path.exists(exe):
        sh(["gcc", "-O2", "-pthread", os.path.join(HERE, "machine.c"), "-o", exe])
    return exe


def machine_disturbed(machine):
    return machine is None or any(r[2] > NOISY for r in machine.values())


# ---------------------------------------------------------------- engines

class Engine:
    """One way to run the network: prepare(batch) once per batch size, then
    run(batch, threads) -> (times_ms, output array, detail)."""

    name = "?"

    def prepare(self, ctx, b):
        pass

    def cleanup(self, ctx, b):
        pass


def run_runner(cmd, env_threads, out_path, shape, timeout, cwd=HERE):
    """Runs a timing driver; returns its JSON line and its output."""
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(env_threads)
    stdout = sh(cmd, cwd=cwd, env=env, timeout=timeout)
    res = json.loads(stdout.strip().splitlines()[-1])
    y = np.fromfile(out_path, dtype="<f4").reshape(shape)
    return res, y


class Cnnc(Engine):
    """cnnc, built from this checkout or, with -baseline, from another
    commit: the same spec, weights and driver, so that a change's effect on
    speed is measured in one run."""

    def __init__(self, name="cnnc", binary=None):
        self.name, self.binary = name, binary

    def prepare(self, ctx, b):
        d = self.dir(ctx, b)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        # The scratch module first, so that cnnc compile sees the package is
        # inside a module and does not make it a module of its own.
        with open(os.path.join(ROOT, "go.mod")) as f:
            gomod = f.read()
        go = re.search(r"^go (\S+)", gomod, re.M).group(1)
        xsys = re.search(r"golang.org/x/sys (\S+)", gomod).group(1)
        with open(os.path.join(d, "go.mod"), "w") as f:
            f.write("module cnncbench\n\ngo %s\n\nrequire golang.org/x/sys %s\n" % (go, xsys))
        shutil.copy(os.path.join(ROOT, "go.sum"), d)
        shutil.copy(os.path.join(HERE, "cnnc_driver.go"), os.path.join(d, "main.go"))
        sh([self.binary or ctx.cnnc, "compile", ctx.spec_path, "-pkg", "model", "-batch", str(b),
            "-o", os.path.join(d, "model")])
        sh(["go", "build", "-o", "driver", "main.go"], cwd=d)

    def dir(self, ctx, b):
        return os.path.join(ctx.scratch, "%s_b%d" % (re.sub(r"\W", "_", self.name), b))

    def run(self, ctx, b, t):
        out = os.path.join(ctx.scratch, "y_cnnc.f32")
        o = ctx.opts
        res, y = run_runner([os.path.join(self.dir(ctx, b), "driver"), "-weights", ctx.weights,
                             "-input", ctx.input_path(b), "-output", out, "-threads", str(t),
                             "-warmup", str(o.warmup), "-runs", str(o.runs),
                             "-min-runs", str(o.min_runs), "-budget", str(o.budget)],
                            t, out, ctx.out_shape(b), ctx.timeout)
        return res, y, res["impl"]

    def cleanup(self, ctx, b):
        shutil.rmtree(self.dir(ctx, b), ignore_errors=True)


class Ort(Engine):
    def __init__(self, form, label):
        self.form, self.name = form, label

    def prepare(self, ctx, b):
        import netmodel
        ops = netmodel.export_onnx(ctx.spec, ctx.w, ctx.x[:b], self.path(ctx, b), self.form)
        lrn_ops = [o for o in ops if o in ("LRN", "AveragePool", "Pow")]
        self.detail = "ONNX ops: " + ", ".join(ops)
        log("  %s: %s" % (self.name, self.detail))
        if self.form == "op" and "LRN" not in lrn_ops:
            raise RuntimeError("the export has no LRN node")
        if self.form != "op" and "LRN" in lrn_ops:
            raise RuntimeError("the export kept an LRN node")

    def path(self, ctx, b):
        return os.path.join(ctx.scratch, "b%d_%s.onnx" % (b, self.form))

    def run(self, ctx, b, t):
        out = os.path.join(ctx.scratch, "y_ort.f32")
        o = ctx.opts
        shape = ",".join(str(s) for s in ctx.x[:b].shape)
        res, y = run_runner(["node", os.path.join(HERE, "ort_runner.js"), self.path(ctx, b),
                             ctx.input_path(b), out, shape, str(t), str(o.warmup),
                             str(o.runs), str(o.min_runs), str(o.budget)],
                            t, out, ctx.out_shape(b), ctx.timeout)
        return res, y, "onnxruntime-node " + res["ort"]

    def cleanup(self, ctx, b):
        os.remove(self.path(ctx, b))


class Torch(Engine):
    name = "pytorch"

    def prepare(self, ctx, b):
        import netmodel
        netmodel.export_torchscript(ctx.spec, ctx.w, ctx.x[:b], self.path(ctx, b))

    def path(self, ctx, b):
        return os.path.join(ctx.scratch, "b%d.pt" % b)

    def run(self, ctx, b, t):
        out = os.path.join(ctx.scratch, "y_torch.f32")
        o = ctx.opts
        shape = ",".join(str(s) for s in ctx.x[:b].shape)
        res, y = run_runner([PY, os.path.join(HERE, "torch_runner.py"), self.path(ctx, b),
                             ctx.input_path(b), out, shape, str(t), str(o.warmup),
                             str(o.runs), str(o.min_runs), str(o.budget)],
                            t, out, ctx.out_shape(b), ctx.timeout)
        return res, y, "torch " + res["torch"] + " (TorchScript trace)"

    def cleanup(self, ctx, b):
        os.remove(self.path(ctx, b))


class OrtFile(Ort):
    """onnxruntime on the ONNX file a torchvision network was exported to
    for that batch (ctx.onnx[b]), the file cnnc imported."""

    def __init__(self):
        super().__init__(None, "onnxruntime")

    def prepare(self, ctx, b):
        import onnx
        g = onnx.load(self.path(ctx, b), load_external_data=False)
        self.detail = "ONNX ops: " + ", ".join(sorted({n.op_type for n in g.graph.node}))
        log("  %s: %s" % (self.name, self.detail))

    def path(self, ctx, b):
        return ctx.onnx[b]


class TorchvisionModule(Torch):
    """PyTorch on a trace of the torchvision module itself, built as
    torchvision_models.py builds it for the export."""

    def prepare(self, ctx, b):
        import torch
        m = torchvision_models().build(ctx.spec["name"], ctx.x.shape[-1])
        with torch.no_grad():
            traced = torch.jit.trace(m, torch.from_numpy(ctx.x[:b]), check_trace=False)
        torch.jit.save(traced, self.path(ctx, b))


# ---------------------------------------------------------------- one network

class Ctx:
    pass


def peers_available(engines):
    """Which of cnnc, onnxruntime and pytorch can run here: {name: error or None}."""
    errs = {}
    if "cnnc" in engines:
        errs["cnnc"] = None if shutil.which("go") else "go is not on PATH"
    try:
        import torch  # noqa: F401
        import netmodel  # noqa: F401
        torch_err = None
    except Exception as e:  # noqa: BLE001
        torch_err = "PyTorch unavailable to %s: %s" % (PY, e)
    errs["torch"] = torch_err  # for the reference output, whatever the engines
    if "pytorch" in engines:
        errs["pytorch"] = torch_err
    if "onnxruntime" in engines:
        if torch_err:
            errs["onnxruntime"] = torch_err + " (needed for the ONNX export)"
        else:
            try:
                import onnx  # noqa: F401
                errs["onnxruntime"] = None
            except Exception as e:  # noqa: BLE001
                errs["onnxruntime"] = "python3-onnx unavailable: %s" % e
        if not errs["onnxruntime"]:
            if not shutil.which("node"):
                errs["onnxruntime"] = "node is not on PATH"
            elif not os.path.exists(os.path.join(HERE, "node_modules", "onnxruntime-node", "package.json")):
                errs["onnxruntime"] = ("onnxruntime-node is not installed in bench/node_modules "
                                       "(bench/run installs it)")
    return errs


class SpecNet:
    """A cnnc spec: cnnc makes the weights (seed WEIGHT_SEED) and the input
    (seed INPUT_SEED); gen.py's translation of the spec, in float64, is the
    reference, and netmodel.py's module of it what PyTorch and (exported)
    onnxruntime run."""

    def __init__(self, path):
        self.arg, self.path = path, os.path.abspath(path)

    def setup(self, ctx, errs, notes):
        """Sets ctx.spec_path (None where cnnc cannot run the network),
        ctx.spec, ctx.weights and ctx.x, the input of the largest batch;
        returns the float64 reference output for ctx.x, or None."""
        ctx.spec_path = self.path
        with open(self.path) as f:
            ctx.spec = yaml.safe_load(f)
        name = ctx.spec["name"]
        ctx.weights = os.path.join(ctx.scratch, name + ".safetensors")
        xnpy = os.path.join(ctx.scratch, name + ".npy")
        sh([ctx.cnnc, "weights", "init", self.path, "-seed", str(WEIGHT_SEED), "-o", ctx.weights])
        sh([ctx.cnnc, "input", self.path, "-batch", str(max(ctx.opts.batch)), "-seed", str(INPUT_SEED),
            "-o", xnpy])
        ctx.x = np.load(xnpy)
        if errs["torch"]:
            return None
        import netmodel
        ctx.w = netmodel.gen.read_safetensors(ctx.weights)
        log("%s: float64 reference on %d image(s)" % (name, len(ctx.x)))
        return netmodel.reference(ctx.spec, ctx.w, ctx.x)

    def about(self, ctx):
        return {"source": "spec `%s`" % os.path.relpath(self.path, ROOT),
                "seeds": "weights seed %d, input seed %d" % (WEIGHT_SEED, INPUT_SEED)}

    def peer_engines(self, ctx, errs, notes):
        """onnxruntime on netmodel.py's export (one per LRN form) and
        PyTorch on its TorchScript trace."""
        if errs["torch"]:
            return []
        import netmodel
        engines = []
        if "onnxruntime" in ctx.opts.engines and not errs.get("onnxruntime"):
            if netmodel.has_lrn(ctx.spec):
                for form in netmodel.LRN_FORMS:
                    if form == "op" and any(s % 2 == 0 for s in netmodel.lrn_sizes(ctx.spec)):
                        notes.append("onnx-lrn left out: ONNX's LRN centres even-sized windows differently")
                        continue
                    engines.append(Ort(form, "onnxruntime " + FORM_NAMES[form]))
            else:
                engines.append(Ort("torch", "onnxruntime"))
        if "pytorch" in ctx.opts.engines and not errs.get("pytorch"):
            engines.append(Torch())
        return engines


_tvm = None


def torchvision_models():
    """compiler/onnx/testdata/torchvision_models.py, imported once: the
    torchvision export that cnnc's import tests use."""
    global _tvm
    if _tvm is None:
        import importlib.util
        spec = importlib.util.spec_from_file_location(
            "cnnc_torchvision_models", os.path.join(ROOT, "compiler", "onnx", "testdata", "torchvision_models.py"))
        _tvm = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_tvm)
    return _tvm


class TorchvisionNet:
    """One of torchvision's classifiers, by name, built and exported by
    torchvision_models.py (seeded random weights, random batchnorm
    statistics; nothing is downloaded) at its native input size. It is
    exported to ONNX once per batch size, the batch fixed, so that
    onnxruntime sees the static shapes it sees for a spec; cnnc imports
    each of those files, and they must give the same network. PyTorch runs
    a trace of the torchvision module itself, and the reference is that
    module in float64 (torchvision_models.py's, rounded to float32)."""

    def __init__(self, name):
        self.arg = self.name = name

    def setup(self, ctx, errs, notes):
        if errs["torch"]:
            raise RuntimeError("a torchvision network needs PyTorch: " + errs["torch"])
        tvm = torchvision_models()
        if self.name not in tvm.classifiers():
            raise RuntimeError("%s is neither a file nor one of torchvision %s's classifiers (%s)" % (
                self.name, tvm.torchvision.__version__, " ".join(tvm.classifiers())))
        import netmodel
        ctx.onnx, ref = {}, None
        for b in sorted(set(ctx.opts.batch), reverse=True):
            log("%s: exporting from torchvision at batch %d (float64 reference included)" % (self.name, b))
            res = tvm.export(ctx.scratch, self.name, netmodel.OPSET, None, b)
            if "error" in res:
                raise RuntimeError("torch cannot export %s: %s" % (self.name, res["error"]))
            stem = res["stem"]
            ctx.onnx[b] = stem + ".onnx"
            x = np.load(stem + ".input.npy")
            if ref is None:
                ctx.x, ref = x, np.load(stem + ".output.npy").astype(np.float64)
            elif not np.array_equal(x, ctx.x[:b]):
                raise RuntimeError("torchvision_models.py's batch-%d input is not the first images of its "
                                   "batch-%d input" % (b, len(ctx.x)))
            for suffix in (".input.npy", ".output.npy"):
                os.remove(stem + suffix)
        ctx.spec = {"name": self.name, "input": list(ctx.x.shape[1:])}
        ctx.spec_path = None
        try:
            ctx.spec_path, ctx.weights, ctx.spec = self.cnnc_import(ctx)
        except Exception as ex:  # noqa: BLE001
            notes.append("**cnnc cannot run %s**: %s" % (self.name, str(ex).replace("\n", " ")))
            log("  cnnc import FAILED:", ex)
        return ref

    def cnnc_import(self, ctx):
        """cnnc import of every batch's ONNX file; returns the spec path, the
        weights path and the parsed spec of the smallest batch's, after
        checking the others give the same layers and weights."""
        import netmodel
        first = None
        for b in sorted(ctx.onnx):
            d = os.path.join(ctx.scratch, "import_b%d" % b)
            os.makedirs(d, exist_ok=True)
            spec, w = os.path.join(d, self.name + ".yaml"), os.path.join(d, self.name + ".safetensors")
            log("%s: cnnc import of the batch-%d export" % (self.name, b))
            sh([ctx.cnnc, "import", ctx.onnx[b], "-o", spec, "-weights", w])
            with open(spec) as f:
                parsed = yaml.safe_load(f)
            if first is None:
                first = (spec, w, parsed)
                continue
            a, p = [{k: v for k, v in s.items() if k != "description"} for s in (first[2], parsed)]
            wa, wb = netmodel.gen.read_safetensors(first[1]), netmodel.gen.read_safetensors(w)
            if a != p or wa.keys() != wb.keys() or any(not np.array_equal(wa[k], wb[k]) for k in wa):
                raise RuntimeError("cnnc import makes another network of the batch-%d export than of "
                                   "the batch-%d one" % (b, min(ctx.onnx)))
            shutil.rmtree(d)
        return first

    def about(self, ctx):
        import netmodel
        return {"source": "torchvision %s's `%s` with random weights as compiler/onnx/testdata/"
                          "torchvision_models.py makes them, exported to ONNX (opset %d) once per batch "
                          "size: the files that cnnc imports and onnxruntime runs" % (
                              torchvision_models().torchvision.__version__, self.name, netmodel.OPSET),
                "seeds": "weights and input seeded by torchvision_models.py"}

    def peer_engines(self, ctx, errs, notes):
        engines = []
        if "onnxruntime" in ctx.opts.engines and not errs.get("onnxruntime"):
            engines.append(OrtFile())
        if "pytorch" in ctx.opts.engines and not errs.get("pytorch"):
            engines.append(TorchvisionModule())
        return engines


def network(arg):
    """The network a positional argument names: a spec file, or else a
    torchvision classifier by name."""
    if os.path.exists(arg) or not re.fullmatch(r"[a-z][a-z0-9_]*", arg):
        return SpecNet(arg)
    return TorchvisionNet(arg)


def run_network(opts, net, cnnc, scratch, errs, notes):
    ctx = Ctx()
    ctx.opts, ctx.cnnc, ctx.scratch = opts, cnnc, scratch
    ctx.timeout = opts.budget * 4 + 600
    ctx.input_path = lambda b: os.path.join(scratch, "x_b%d.f32" % b)
    ref = net.setup(ctx, errs, notes)
    name = ctx.spec["name"]
    info = {"name": name, "params": None, "macs": None, "gflop": None,
            "input": "x".join(str(v) for v in ctx.spec["input"])}
    info.update(net.about(ctx))
    if ctx.spec_path:
        shapes = sh([cnnc, "shapes", ctx.spec_path])
        total = re.search(r"^total\s+([\d,]+)\s+([\d,]+)", shapes, re.M)
        params, macs = (int(total.group(i).replace(",", "")) for i in (1, 2))
        info.update(params=params, macs=macs, gflop=2 * macs / 1e9)

    engines = []
    if ctx.spec_path and "cnnc" in opts.engines and not errs.get("cnnc"):
        engines.append(Cnnc())
        if opts.baseline_bin:
            engines.append(Cnnc("cnnc " + opts.baseline, opts.baseline_bin))
    engines += net.peer_engines(ctx, errs, notes)
    ctx.out_shape = lambda b: (b,) + tuple(ref.shape[1:]) if ref is not None else (b, -1)

    rows, prepared = [], {}
    for b in opts.batch:
        ctx.x[:b].astype("<f4").tofile(ctx.input_path(b))
        ready = prepared[b] = []
        for e in engines:
            log("%s batch %d: preparing %s" % (name, b, e.name))
            try:
                t0 = time.time()
                e.prepare(ctx, b)
                log("  %.1f s" % (time.time() - t0))
                ready.append(e)
            except Exception as ex:  # noqa: BLE001
                notes.append("%s, batch %d: preparing failed: %s" % (e.name, b, ex))
                log("  FAILED:", ex)
        for t in opts.threads:
            for e in ready:
                rows.append((e, measure_quietly(ctx, e, b, t, ref, notes)))
    # Load on a shared machine comes and goes: measure the rows that other
    # processes disturbed once more at the end, keeping the quieter one.
    for i, (e, r) in enumerate(rows):
        if opts.retries > 0 and r.get("others", 0) > NOISY:
            log("%s: measuring a disturbed row again" % name)
            again = measure_quietly(ctx, e, r["batch"], r["threads"], ref, [])
            if again.get("others", 1) < r["others"]:
                rows[i] = (e, again)
    if any(isinstance(e, Cnnc) for e in engines):
        info["layers"] = cnnc_layers(ctx, notes)
    for b, ready in prepared.items():
        for e in ready:
            try:
                e.cleanup(ctx, b)
            except OSError:
                pass
        os.remove(ctx.input_path(b))
    return info, [r for _, r in rows]


def cnnc_layers(ctx, notes):
    """cnnc's per-layer times for every batch and thread count, from `cnnc
    bench -json` on the same weights, each right after a read-bandwidth
    measurement on as many threads, so that the GB/s of memory-bound layers
    compare with the bandwidth of that moment: {(batch, threads): (bench
    JSON, GB/s or None, {layer: (algorithm, bytes moved per batch)})}."""
    o = ctx.opts
    out = {}
    try:
        graph = final_graph(sh([ctx.cnnc, "passes", "-final", ctx.spec_path]))
    except Exception as ex:  # noqa: BLE001
        notes.append("cnnc per layer: cnnc passes -final: %s" % ex)
        graph = {}
    for b in o.batch:
        try:
            plan = plan_algorithms(sh([ctx.cnnc, "passes", "-final", "-plan", "-batch", str(b), ctx.spec_path]))
        except Exception as ex:  # noqa: BLE001
            notes.append("cnnc per layer, batch %d: cnnc passes -plan: %s" % (b, ex))
            plan = {}
        layers = {n: (plan.get(n, ""), b * layer_bytes(graph, n)) for n in graph}
        for t in o.threads:
            bw = None
            try:
                exe = machine_exe(ctx.scratch)
                if o.wait_idle > 0:
                    wait_idle(o.wait_idle)
                bw = float(sh([exe, "bw", str(t), "256" if o.quick else "600"]).split()[0])
                res = json.loads(sh([ctx.cnnc, "bench", ctx.spec_path, "-batch", str(b), "-threads", str(t),
                                     "-weights", ctx.weights, "-warmup", str(o.warmup),
                                     "-runs", str(max(o.min_runs, min(o.runs, 10 if b > 1 else o.runs))),
                                     "-json"], timeout=ctx.timeout))
            except Exception as ex:  # noqa: BLE001
                notes.append("cnnc per layer, batch %d, %d thread(s): %s" % (b, t, ex))
                continue
            log("%s batch %d threads %d: per layer, %.1f GB/s just before" % (ctx.spec["name"], b, t, bw))
            out[(b, t)] = (res, bw, layers)
    return out


def fixed_table(text, first):
    """The rows of the first fixed-width table in text whose header line
    starts with the column first, as `cnnc passes` prints them: [{column:
    cell}]. Columns start where the header's words start; the table ends
    at a line whose first word ends in ':' (the summary lines after it)."""
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.split()[:1] == [first])
    cols = [(m.group(), m.start()) for m in re.finditer(r"\S+", lines[i])]
    rows = []
    for line in lines[i + 1:]:
        if not line.strip() or line.split()[0].endswith(":"):
            break
        bounds = [c[1] for c in cols[1:]] + [None]
        rows.append({name: line[start:end].strip() for (name, start), end in zip(cols, bounds)})
    return rows


def final_graph(text):
    """`cnnc passes -final`'s graph: {layer: (inputs, elements per image)}."""
    g = {}
    for r in fixed_table(text, "name"):
        n = 1
        for d in r["shape"].split("x"):
            n *= int(d)
        g[r["name"]] = ([] if r["inputs"] == "-" else r["inputs"].split(","), n)
    return g


def plan_algorithms(text):
    """`cnnc passes -final -plan`'s algorithm of each layer: {layer: text}."""
    return {r["layer"]: r["algorithm"] for r in fixed_table(text, "layer")}


def layer_bytes(graph, name):
    """The float32 bytes one image's pass of a layer reads and writes: its
    inputs and its output, each once."""
    ins, n = graph[name]
    return 4 * (n + sum(graph[i][1] for i in ins if i in graph))


def memory_bound(L, algorithm):
    """Whether a layer's speed is its memory traffic's: depthwise
    convolutions, and the layers without multiply-adds (pooling,
    elementwise, normalisation, softmax)."""
    return "depthwise" in algorithm or L["macs_per_image"] == 0


WINO = re.compile(r"winograd F(\d+)x(\d+)\b.*? (\d+)x\(M(\d+) N\d+ K(\d+)\)")
GEMM = re.compile(r" (\d+)x\(M(\d+) N(\d+) K(\d+)\)")


def layer_mults(L, algorithm):
    """The multiply-adds one image's pass of a layer does with the plan's
    algorithm: the direct count, or for Winograd F(m×m, r×r) α² = (m+r-1)²
    products per output tile of m×m, input channel and filter (the point
    GEMMs' G·M·K per tile, K counting a space-to-depth's channels), on
    whole tiles without the padding of the GEMMs' columns."""
    w = WINO.search(algorithm)
    if not w:
        return L["macs_per_image"]
    m, r, g, mm, k = (int(v) for v in w.groups())
    _, h, wd = (int(d) for d in L["shape"].split("x"))
    tiles = -(-h // m) * -(-wd // m)
    return (m + r - 1) ** 2 * g * mm * k * tiles


def layer_weights(L, algorithm):
    """The bytes of weights one pass of a layer reads: a convolution's
    filters (G·M·K floats; Winograd's transformed ones, α² times as many),
    a dense layer's K·N. 0 where the plan gives no GEMM."""
    w = WINO.search(algorithm)
    if w:
        m, r, g, mm, k = (int(v) for v in w.groups())
        return 4 * (m + r - 1) ** 2 * g * mm * k
    d = GEMM.search(algorithm)
    if not d:
        return 0
    g, mm, n, k = (int(v) for v in d.groups())
    return 4 * g * (n if L["op"].startswith("dense") else mm) * k


def l3_bytes():
    """The last-level cache of this machine's first CPU, or 0 if unknown."""
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index3/size") as f:
            v = f.read().strip()
    except OSError:
        return 0
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(v[-1:], 1)
    return int(v.rstrip("KMG") or 0) * mult


def floors(res, plan, batch, peak, bw, llc):
    """A lower bound on each layer's time in ms at this batch, and what sets
    it: the plan's multiply-adds at the measured FMA peak ("fma"), or, when
    the network's weights do not fit the last-level cache llc so that every
    batch reads them from memory, its weights at the measured read
    bandwidth ("weights"), whichever is longer. Activations are left out
    (they may stay in cache), so a memory-bound layer's floor is low and
    marked "fma" all the same: the bound is safe, not tight."""
    weights = {L["name"]: layer_weights(L, plan.get(L["name"], ("", 0))[0]) for L in res["layers"]}
    stream = bw and llc and sum(weights.values()) > llc
    out = {}
    for L in res["layers"]:
        fma = 2 * layer_mults(L, plan.get(L["name"], ("", 0))[0]) * batch / (peak * 1e9) * 1e3 if peak else 0
        mem = weights[L["name"]] / (bw * 1e9) * 1e3 if stream else 0
        out[L["name"]] = (mem, "weights") if mem > fma else (fma, "fma")
    return out


def measure_quietly(ctx, e, b, t, ref, notes):
    """measure, repeated up to -retries times while other processes used
    over 10% of the CPUs; returns the least disturbed measurement."""
    best = None
    for attempt in range(ctx.opts.retries + 1):
        row = measure(ctx, e, b, t, ref, notes if attempt == 0 else [])
        if "median" not in row:
            return best or row
        if best is None or row["others"] < best["others"]:
            best = row
        if row["others"] <= NOISY or attempt == ctx.opts.retries:
            break
        log("  others used %.0f%% of the CPUs: measuring again" % (100 * row["others"]))
    return best


def measure(ctx, e, b, t, ref, notes):
    row = {"engine": e.name, "batch": b, "threads": t}
    if ctx.opts.wait_idle > 0:
        wait_idle(ctx.opts.wait_idle)
    log("%s batch %d threads %d: %s" % (ctx.spec["name"], b, t, e.name))
    meter = OthersMeter()
    meter.start()
    try:
        res, y, detail = e.run(ctx, b, t)
    except Exception as ex:  # noqa: BLE001
        notes.append("%s, batch %d, %d thread(s): %s" % (e.name, b, t, ex))
        log("  FAILED:", ex)
        row["error"] = str(ex).splitlines()[0]
        return row
    row["others"] = meter.stop()
    times = res["times_ms"]
    row["load_ms"], row["rss"] = res.get("load_ms"), res.get("peak_rss_bytes")
    row["detail"] = detail
    row["times"] = times
    row["median"] = statistics.median(times)
    row["min"] = min(times)
    q = statistics.quantiles(times, n=4, method="inclusive") if len(times) >= 2 else [times[0]] * 3
    row["spread"] = (q[2] - q[0]) / row["median"]
    if ref is not None:
        r = ref[:b]
        row["diff"] = float(np.abs(y.astype(np.float64) - r).max() / max(np.abs(r).max(), 1e-30))
    row["output"] = y
    log("  median %.2f ms over %d runs, diff %s, others %.0f%%" % (
        row["median"], len(times), "%.2g" % row["diff"] if "diff" in row else "-", 100 * row["others"]))
    return row


# ---------------------------------------------------------------- the report

def fmt(v, spec):
    return "-" if v is None else spec % v


def num(v):
    """v to about three significant digits, without an exponent."""
    return "%.0f" % v if v >= 100 else "%.1f" % v if v >= 10 else "%.2f" % v if v >= 1 else "%.3f" % v


def report(opts, info, rows, machine, header, notes):
    # The peak on t threads: the measured one, or t times the one-thread
    # peak if that is higher (a disturbed run can only read too low).
    peak = {t: max(machine[("fma", t)][0], t * machine[("fma", 1)][0])
            for (k, t) in machine if k == "fma"} if machine else {}
    best_ort = {}
    for r in rows:
        if r["engine"].startswith("onnxruntime") and "median" in r:
            k = (r["batch"], r["threads"])
            best_ort[k] = min(best_ort.get(k, 1e300), r["median"])
    out = []
    w = out.append
    w("# cnnc benchmark: %s, %s" % (info["name"], header["date"]))
    w("")
    w("- command: `%s`" % header["command"])
    w("- machine: %s, %.1f GiB RAM, Linux %s, host %s" % (header["cpu"], header["mem"], platform.release(), header["host"]))
    if machine:
        ts = sorted(t for (k, t) in machine if k == "fma")
        if machine_disturbed(machine):
            w("- **the machine measurements were disturbed by other processes** (others' CPU below): "
              "they may read low, and % peak high")
        w("- measured FMA peak (float32): " + ", ".join(
            "%.1f GFLOP/s on %d thread(s) (others' CPU %.0f%%)" % (
                machine[("fma", t)][0], t, 100 * machine[("fma", t)][2]) for t in ts))
        w("- measured memory read bandwidth: " + ", ".join(
            "%.1f GB/s on %d thread(s) (others' CPU %.0f%%)" % (
                machine[("bw", t)][0], t, 100 * machine[("bw", t)][2]) for t in ts))
    w("- load average before / after: %s / %s" % (header["load_before"], header.get("load_after", "?")))
    if info["macs"] is not None:
        w("- network: `%s`, input %s, %s parameters, %s multiply-adds = %.3f GFLOP per image" % (
            info["name"], info["input"], "{:,}".format(info["params"]), "{:,}".format(info["macs"]), info["gflop"]))
    else:
        w("- network: `%s`, input %s (cnnc could not import it: no parameter or FLOP count)" % (
            info["name"], info["input"]))
    w("- from: %s" % info["source"])
    w("- versions: %s" % header["peers"])
    w("- timing: median of up to %d timed runs after %d warm-up runs (at least %d; fewer when the runs "
      "would take over %g s); %s" % (opts.runs, opts.warmup, opts.min_runs, opts.budget, info["seeds"]))
    w("")
    w("| engine | batch | threads | median ms/batch | ms/image | img/s | GFLOP/s | % peak | × ORT best | min ms | IQR | runs | max rel diff | others' CPU | load ms | peak RSS MiB |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "median" not in r:
            w("| %s | %d | %d | failed: %s |  |  |  |  |  |  |  |  |  |  |  |  |" % (
                r["engine"], r["batch"], r["threads"], r.get("error", "?").replace("|", "/")))
            continue
        m, b, t = r["median"], r["batch"], r["threads"]
        gf = info["gflop"] * b / (m / 1e3) if info["gflop"] else None
        ort = best_ort.get((b, t))
        diff = r.get("diff")
        bad = diff is not None and diff > opts.tol
        w("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %.0f%% | %d | %s%s | %.0f%% | %s | %s |" % (
            r["engine"], b, t, num(m), num(m / b), num(1e3 * b / m), num(gf) if gf else "-",
            fmt(100 * gf / peak[t] if gf and t in peak else None, "%.0f%%"),
            fmt(m / ort if ort else None, "%.2f"), num(r["min"]), 100 * r["spread"],
            len(r["times"]), fmt(diff, "%.1e"), " FAIL" if bad else "", 100 * r["others"],
            num(r["load_ms"]) if r.get("load_ms") is not None else "-",
            num(r["rss"] / 2**20) if r.get("rss") else "-"))
    w("")
    cn = [r for r in rows if r["engine"] == "cnnc" and "median" in r]
    if cn and info["gflop"]:
        best = min(cn, key=lambda r: r["median"] / r["batch"])
        gf = info["gflop"] * best["batch"] / (best["median"] / 1e3)
        w("cnnc at its best here: %.1f GFLOP/s (batch %d, %d thread(s), kernels %s)%s." % (
            gf, best["batch"], best["threads"], best["detail"],
            ", %.0f%% of the %d-thread peak (%.0f GFLOP/s)" % (
                100 * gf / peak[best["threads"]], best["threads"], peak[best["threads"]])
            if best["threads"] in peak else ""))
    bad = [r for r in rows if r.get("diff") is not None and r["diff"] > opts.tol]
    if bad:
        w("")
        w("**Outputs disagree** (max |y - ref| / max |ref| over %g): %s." % (
            opts.tol, ", ".join("%s b%d t%d" % (r["engine"], r["batch"], r["threads"]) for r in bad)))
    # The ONNX forms must be the same network: compare their outputs directly.
    forms = {}
    for r in rows:
        if r["engine"].startswith("onnxruntime") and "output" in r:
            forms.setdefault((r["batch"], r["threads"]), []).append(r["output"])
    fd = [float(np.abs(a - o).max() / max(np.abs(o).max(), 1e-30))
          for outs in forms.values() if len(outs) > 1 for a in outs[1:] for o in outs[:1]]
    if fd:
        w("")
        w("The ONNX forms agree with each other to %.1e (max |difference| / max |output|)." % max(fd))
    layers = info.get("layers") or {}
    if layers:
        w("")
        w("## cnnc per layer")
        w("")
        w("`cnnc bench -json` on the same weights, after the table above (medians; the whole network's "
          "median may differ from the table's). The algorithm is the plan's (`cnnc passes -plan`). "
          "GFLOP/s and % peak count the direct algorithm's FLOP, so Winograd layers (fewer multiplies) "
          "can show over 100% of the peak. GB/s: for depthwise convolutions and the layers without "
          "multiply-adds (pooling, elementwise, normalisation), the activations read and written "
          "(4 bytes × (inputs + output), each once); for dense layers at batch 1, the fp32 weights they "
          "stream (4 bytes per multiply-add). % bandwidth is that against the read bandwidth that "
          "bench/machine.c measured on as many threads just before; data that stays in cache between "
          "layers or inferences can move faster than memory. Floor: a lower bound on the layer's time "
          "(`floors` in bench.py): the multiply-adds of its algorithm (Winograd's fewer) at the measured "
          "FMA peak, or, where the network's weights exceed the last-level cache, its weights at the "
          "measured read bandwidth, whichever is longer; activations are left out, so the floors of "
          "memory-bound layers are low.")
        llc = l3_bytes()
        for (b, t), (res, bw, plan) in sorted(layers.items()):
            w("")
            w("Batch %d, %d thread(s), kernels %s: %s ms per batch%s." % (
                b, t, res.get("impl", "?"), num(res["median_ms"]),
                ", read bandwidth %.1f GB/s" % bw if bw else ""))
            w("")
            fl = floors(res, plan, b, peak.get(t), bw, llc)
            w("| layer | op | algorithm | output | ms | GFLOP/s | % peak | GB/s | % bandwidth | floor ms | × floor |")
            w("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
            for L in res["layers"]:
                gf, ms = L["gflops"], L["median_ms"]
                algo, nbytes = plan.get(L["name"], ("", 0))
                gbs = None
                if ms > 0 and memory_bound(L, algo) and nbytes:
                    gbs = nbytes / (ms / 1e3) / 1e9
                elif ms > 0 and L["op"].startswith("dense") and b == 1:
                    gbs = 4 * L["macs_per_image"] / (ms / 1e3) / 1e9
                f, by = fl[L["name"]]
                w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    L["name"], L["op"], algo or "-", L["shape"], num(ms), num(gf) if gf else "-",
                    fmt(100 * gf / peak[t] if gf and t in peak else None, "%.0f%%"),
                    fmt(gbs, "%.1f"), fmt(100 * gbs / bw if gbs and bw else None, "%.0f%%"),
                    (num(f) + (" (weights)" if by == "weights" else "")) if f > 0 else "-",
                    fmt(ms / f if f > 0 else None, "%.1f")))
            total = sum(f for f, _ in fl.values())
            if total > 0:
                ort = best_ort.get((b, t))
                target = 0.8 if b == 1 else 0.67
                w("")
                w("Floor of the network: %s ms, the sum of the layers' (%s); cnnc's layers take %.2fx it%s." % (
                    num(total), "FMA peak %.1f GFLOP/s%s" % (
                        peak.get(t, 0), ", weights at %.1f GB/s" % bw if any(by == "weights" for _, by in fl.values()) else ""),
                    sum(L["median_ms"] for L in res["layers"]) / total,
                    "; onnxruntime's median takes %.2fx it, so issue 18's target of %gx onnxruntime is %.2fx the floor%s" % (
                        ort / total, target, target * ort / total,
                        " (below it: out of reach with these algorithms)" if target * ort < total else "")
                    if ort else ""))
    noisy = [r for r in rows if r.get("others", 0) > NOISY]
    if noisy:
        w("")
        w("**Noisy machine**: other processes used over 10%% of the CPUs during %d of %d measurements "
          "(column \"others' CPU\"); treat those rows with care." % (len(noisy), len(rows)))
    if notes:
        w("")
        w("Notes:")
        w("")
        for n in notes:
            w("- " + n.replace("\n", " "))
    w("")
    return "\n".join(out)


# ---------------------------------------------------------------- main

def ints(s):
    return [int(v) for v in s.split(",") if v.strip()]


def parse(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("specs", nargs="*", default=["spec/alexnet.yaml"], metavar="spec.yaml|name",
                   help="specs, or torchvision classifiers by name (e.g. resnet50), exported with random "
                        "weights and imported with cnnc import (default spec/alexnet.yaml)")
    p.add_argument("-batch", "--batch", type=ints, default=[1, 32], help="batch sizes (default 1,32)")
    p.add_argument("-threads", "--threads", type=ints, default=[1, 2], help="thread counts (default 1,2)")
    p.add_argument("-runs", "--runs", type=int, default=30, help="timed runs at most (default 30)")
    p.add_argument("-min-runs", "--min-runs", type=int, default=5, help="timed runs at least (default 5)")
    p.add_argument("-warmup", "--warmup", type=int, default=3, help="untimed runs first (default 3)")
    p.add_argument("-budget", "--budget", type=float, default=20,
                   help="seconds the timed runs of one measurement should take at most (default 20)")
    p.add_argument("-engines", "--engines", default="cnnc,onnxruntime,pytorch",
                   help="engines to run (default cnnc,onnxruntime,pytorch)")
    p.add_argument("-wait-idle", "--wait-idle", type=float, default=20,
                   help="before each measurement wait up to this many seconds for other processes "
                        "to use under 10%% of the CPUs (default 20; 0: don't)")
    p.add_argument("-retries", "--retries", type=int, default=2,
                   help="measure again up to this many times when other processes used over 10%% "
                        "of the CPUs meanwhile (default 2)")
    p.add_argument("-tol", "--tol", type=float, default=1e-3,
                   help="largest max|y-ref|/max|ref| accepted (default 1e-3)")
    p.add_argument("-results", "--results", default=None,
                   help="folder for <date>-<spec>.md (default bench/results; with -quick none; '' none)")
    p.add_argument("-no-machine", "--no-machine", action="store_true", help="skip the peak FLOP/s and bandwidth runs")
    p.add_argument("-quick", "--quick", action="store_true",
                   help="test the harness: 1 warm-up, 3 runs, short machine runs, no waiting or retries, "
                        "no results file")
    p.add_argument("-keep", "--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("-baseline", "--baseline", default="",
                   help="also run cnnc built from this git commit (e.g. HEAD~3 or main), as the engine "
                        "'cnnc COMMIT', to measure a change before and after in one run")
    o = p.parse_args(argv)
    if o.quick:
        o.warmup, o.runs, o.min_runs, o.budget, o.wait_idle, o.retries = 1, 3, 1, 2, 0, 0
    if o.results is None:
        o.results = "" if o.quick else os.path.join(HERE, "results")
    o.engines = [e.strip() for e in o.engines.split(",") if e.strip()]
    for e in o.engines:
        if e not in ("cnnc", "onnxruntime", "pytorch"):
            p.error("unknown engine %r" % e)
    return o


def cnnc_version():
    """The commit cnnc is built from, and whether the work tree outside
    bench/ differs from it (read-only git plumbing; "" outside a git
    checkout)."""
    try:
        head = sh(["git", "rev-parse", "--short", "HEAD"]).strip()
    except Exception:  # noqa: BLE001
        return ""
    dirty = subprocess.run(["git", "diff-index", "--quiet", "HEAD", "--", ".", ":!bench"],
                           cwd=ROOT).returncode != 0
    return "cnnc %s%s" % (head, " with uncommitted changes" if dirty else "")


def peer_versions(errs):
    v = [cnnc_version()] if cnnc_version() else []
    try:
        v.append(sh(["go", "env", "GOVERSION"]).strip())
    except Exception:  # noqa: BLE001
        pass
    if errs.get("onnxruntime") is None and "onnxruntime" in errs:
        try:
            with open(os.path.join(HERE, "node_modules", "onnxruntime-node", "package.json")) as f:
                ver = json.load(f)["version"]
            v.append("onnxruntime-node %s on node %s (CPU provider), ONNX opset 13" % (
                ver, sh(["node", "--version"]).strip()))
        except Exception:  # noqa: BLE001
            pass
    if errs.get("pytorch") is None and "pytorch" in errs:
        import torch
        v.append("PyTorch %s (oneDNN %s)" % (torch.__version__,
                                             "on" if torch.backends.mkldnn.is_available() else "off"))
    return ", ".join(v)


def main(argv):
    opts = parse(argv[1:])
    # On SIGTERM too, stop the running engine and remove the scratch folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = os.environ.get("BENCH_COMMAND") or " ".join(["/usr/bin/python3", "bench/bench.py"] + argv[1:])
    header = {
        "date": datetime.date.today().isoformat(),
        "command": command,
        "cpu": cpu_info(),
        "mem": mem_gib(),
        "host": socket.gethostname(),
        "load_before": " ".join("%.2f" % v for v in os.getloadavg()),
    }
    errs = peers_available(opts.engines)
    for k, e in errs.items():
        if e:
            log("bench: %s will not run: %s" % (k, e) if k != "torch" else
                "bench: no reference output, outputs will not be checked: %s" % e)
    header["peers"] = peer_versions(errs)

    scratch = tempfile.mkdtemp(prefix="cnnc-bench-")
    status = 0
    try:
        cnnc = os.path.join(scratch, "cnnc")
        sh(["go", "build", "-o", cnnc, "./cmd/cnnc"])
        opts.baseline_bin = None
        if opts.baseline:
            # A detached worktree of the commit, built and removed again.
            rev = sh(["git", "rev-parse", "--short", opts.baseline + "^{commit}"]).strip()
            tree = os.path.join(scratch, "baseline")
            sh(["git", "worktree", "add", "--detach", tree, rev])
            try:
                opts.baseline_bin = os.path.join(scratch, "cnnc-" + rev)
                sh(["go", "build", "-o", opts.baseline_bin, "./cmd/cnnc"], cwd=tree)
            finally:
                sh(["git", "worktree", "remove", "--force", tree])
            opts.baseline = rev
        machine = None
        if not opts.no_machine:
            try:
                machine = measure_machine(opts, scratch)
            except Exception as ex:  # noqa: BLE001
                log("bench: machine measurement failed:", ex)
        written = set()  # results files' names
        for arg in opts.specs:
            notes = ["%s did not run: %s" % (k, e) for k, e in errs.items() if e and k != "torch"]
            if errs["torch"]:
                notes.append("outputs not checked: no PyTorch for the reference")
            try:
                info, rows = run_network(opts, network(arg), cnnc, scratch, errs, notes)
            except Exception as ex:  # noqa: BLE001
                log("bench: %s: %s" % (arg, ex))
                status = 1
                continue
            if not opts.no_machine and machine_disturbed(machine):
                # Measure the machine again, keeping the higher readings.
                try:
                    machine = measure_machine(opts, scratch, machine)
                except Exception as ex:  # noqa: BLE001
                    log("bench: machine measurement failed:", ex)
            header["load_after"] = " ".join("%.2f" % v for v in os.getloadavg())
            md = report(opts, info, rows, machine, header, notes)
            print(md, flush=True)
            if any(r.get("diff") is not None and r["diff"] > opts.tol for r in rows):
                status = 1
            if opts.results:
                os.makedirs(opts.results, exist_ok=True)
                # torchvision's alexnet and spec/alexnet.yaml share a name:
                # the second of a run gets a suffix, not the first's file.
                name = info["name"]
                if name in written:
                    name += "_spec" if arg.endswith(".yaml") else "_torchvision"
                written.add(name)
                path = os.path.join(opts.results, "%s-%s.md" % (header["date"], name))
                with open(path, "w") as f:
                    f.write(md)
                log("bench: wrote", os.path.relpath(path, os.getcwd()))
    finally:
        if opts.keep:
            log("bench: scratch kept in", scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
