"""Tests of bench.py's own logic, and one quick end-to-end run of the
torchvision path (skipped where a peer is missing).

    /usr/bin/python3 bench/test_bench.py [-v]

They assert what the harness computes and that it runs, never a timing.
"""

import contextlib
import datetime
import importlib.util
import io
import os
import shutil
import sys
import tempfile
import unittest

# bench.py by its path: "bench" is also the folder's name, which a test
# runner started from the repository root imports as a package.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # bench.py imports netmodel from beside it
_spec = importlib.util.spec_from_file_location("cnnc_bench", os.path.join(HERE, "bench.py"))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

# What `cnnc passes -final` and `cnnc passes -final -plan` print, cut down.
FINAL = """graph tiny: 5 nodes, output add
name   op              inputs       shape      attributes                                   fused    buffer
input  input           -            3x8x8      -                                            -        caller
c1     conv            input        4x8x8      filters=4 kernel=3x3 stride=1x1 pad=1 act=relu  r1       @0
dw     conv            c1           4x8x8      filters=4 kernel=3x3 stride=1x1 pad=1 groups=4  -        @256
add    add             c1,dw        4x8x8      act=relu                                     relu2    @0 (shared)
gap    global_avgpool  add          4x1x1      -                                            -        @256
arena: 512 elements (2.0 KiB) per image; without reuse 1024 (4.0 KiB)
"""

PLAN = """layer  op              algorithm                      purego             avx2               avx512
c1     conv            winograd F4x3 1x(M4 N4 K3)     4x16: 1+1 tasks    6x16: 1+1 tasks    14x32: 1+1 tasks
dw     conv            depthwise                      4 tasks            4 tasks            4 tasks
add    add             per image                      1 task             1 task             1 task
gap    global_avgpool  per image                      1 task             1 task             1 task
purego: scratch 100 floats per worker, staging 0 floats
"""


class TestTables(unittest.TestCase):
    def test_final_graph(self):
        g = bench.final_graph(FINAL)
        self.assertEqual(g, {"input": ([], 192), "c1": (["input"], 256), "dw": (["c1"], 256),
                             "add": (["c1", "dw"], 256), "gap": (["add"], 4)})
        # add reads c1 and dw and writes its output: 3 tensors of 256 floats.
        self.assertEqual(bench.layer_bytes(g, "add"), 4 * 3 * 256)
        self.assertEqual(bench.layer_bytes(g, "gap"), 4 * (256 + 4))

    def test_plan(self):
        p = bench.plan_algorithms(PLAN)
        self.assertEqual(p, {"c1": "winograd F4x3 1x(M4 N4 K3)", "dw": "depthwise",
                             "add": "per image", "gap": "per image"})

    def test_memory_bound(self):
        self.assertTrue(bench.memory_bound({"macs_per_image": 100}, "depthwise"))
        self.assertTrue(bench.memory_bound({"macs_per_image": 0}, "per image"))
        self.assertFalse(bench.memory_bound({"macs_per_image": 100}, "winograd F4x3"))


class TestFloors(unittest.TestCase):
    # AlexNet's conv1 as s2d Winograd, a 1x1 conv, a depthwise conv, a
    # dense layer at batch 1.
    LAYERS = [
        {"name": "c1", "op": "conv", "shape": "64x55x55", "macs_per_image": 70276800},
        {"name": "pw", "op": "conv", "shape": "256x7x7", "macs_per_image": 256 * 49 * 128},
        {"name": "dw", "op": "conv", "shape": "128x7x7", "macs_per_image": 128 * 49 * 9},
        {"name": "fc", "op": "dense", "shape": "4096", "macs_per_image": 4096 * 9216},
    ]
    PLAN = {"c1": ("winograd F4x3 s2d4 1x(M64 N196 K48)", 0), "pw": ("direct gemm 1x(M256 N49 K128)", 0),
            "dw": ("depthwise", 0), "fc": ("gemm 1x(M1 N4096 K9216) [relu]", 0)}

    def test_mults(self):
        L = {x["name"]: x for x in self.LAYERS}
        # 14x14 tiles of 4x4 outputs, 36 products per tile, channel and filter.
        self.assertEqual(bench.layer_mults(L["c1"], self.PLAN["c1"][0]), 36 * 64 * 48 * 14 * 14)
        self.assertEqual(bench.layer_mults(L["pw"], self.PLAN["pw"][0]), 256 * 49 * 128)
        self.assertEqual(bench.layer_mults(L["dw"], "depthwise"), 128 * 49 * 9)
        self.assertEqual(bench.layer_weights(L["c1"], self.PLAN["c1"][0]), 4 * 36 * 64 * 48)
        self.assertEqual(bench.layer_weights(L["pw"], self.PLAN["pw"][0]), 4 * 256 * 128)
        self.assertEqual(bench.layer_weights(L["dw"], "depthwise"), 0)
        self.assertEqual(bench.layer_weights(L["fc"], self.PLAN["fc"][0]), 4 * 4096 * 9216)

    def test_floors(self):
        res = {"layers": self.LAYERS}
        # 100 GFLOP/s, 10 GB/s, weights past a 1 MiB cache: the dense
        # layer's 151 MB take 15.1 ms, more than its 0.75 ms of FMAs.
        f = bench.floors(res, self.PLAN, 1, 100, 10, 1 << 20)
        self.assertEqual(f["fc"][1], "weights")
        self.assertAlmostEqual(f["fc"][0], 4 * 4096 * 9216 / 10e9 * 1e3)
        self.assertEqual(f["pw"][1], "fma")
        self.assertAlmostEqual(f["pw"][0], 2 * 256 * 49 * 128 / 100e9 * 1e3)
        # Weights that fit the cache set no floor; batch multiplies the FMAs.
        f = bench.floors(res, self.PLAN, 4, 100, 10, 1 << 30)
        self.assertEqual(f["fc"][1], "fma")
        self.assertAlmostEqual(f["fc"][0], 4 * 2 * 4096 * 9216 / 100e9 * 1e3)
        self.assertAlmostEqual(f["c1"][0], 4 * 2 * 36 * 64 * 48 * 196 / 100e9 * 1e3)


class TestNetwork(unittest.TestCase):
    def test_spec_or_name(self):
        self.assertIsInstance(bench.network(os.path.join(bench.ROOT, "spec", "lenet5.yaml")), bench.SpecNet)
        self.assertIsInstance(bench.network("spec/missing.yaml"), bench.SpecNet)  # fails as a spec
        self.assertIsInstance(bench.network("resnet50"), bench.TorchvisionNet)


def _missing_peer():
    if not shutil.which("go"):
        return "go is not on PATH"
    if not shutil.which("node") or not os.path.exists(
            os.path.join(bench.HERE, "node_modules", "onnxruntime-node", "package.json")):
        return "no onnxruntime-node (bench/run installs it)"
    try:
        import onnx  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        return str(e)
    return None


class TestTorchvisionQuick(unittest.TestCase):
    """bench/run -quick on squeezenet1_1 at batch 1 and 2, cnnc and
    onnxruntime: about 20 s on two cores."""

    @unittest.skipIf(_missing_peer(), _missing_peer())
    def test_squeezenet(self):
        results = tempfile.mkdtemp(prefix="cnnc-bench-test-")
        self.addCleanup(shutil.rmtree, results, True)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = bench.main(["bench.py", "-quick", "-no-machine", "-batch", "1,2", "-threads", "1",
                                 "-engines", "cnnc,onnxruntime", "-results", results, "squeezenet1_1"])
        md = out.getvalue()
        self.assertEqual(status, 0, err.getvalue()[-2000:])
        self.assertIn("torchvision", md)
        rows = [line.split(" | ") for line in md.splitlines() if line.startswith(("| cnnc |", "| onnxruntime |"))]
        self.assertEqual(sorted((r[0], r[1]) for r in rows),
                         [("| cnnc", "1"), ("| cnnc", "2"), ("| onnxruntime", "1"), ("| onnxruntime", "2")])
        for r in rows:
            diff = float(r[12].split()[0])
            self.assertLess(diff, 1e-4, r)
        self.assertIn("winograd", md)  # the per-layer table names the algorithm
        self.assertEqual(os.listdir(results), ["%s-squeezenet1_1.md" % datetime.date.today().isoformat()])


if __name__ == "__main__":
    unittest.main()
