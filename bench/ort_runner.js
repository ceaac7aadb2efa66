// ort_runner.js times an ONNX model with onnxruntime-node, for bench/bench.py.
//
//   node ort_runner.js MODEL INPUT OUTPUT SHAPE THREADS WARMUP RUNS MIN_RUNS BUDGET
//
// INPUT is raw little-endian float32 of SHAPE (comma-separated, e.g.
// 32,3,227,227); OUTPUT gets the last run's output the same way. The session
// uses the CPU provider with intraOpNumThreads=THREADS, interOpNumThreads=1,
// sequential execution and every graph optimisation. After WARMUP untimed
// runs it times up to RUNS runs (fewer, but at least MIN_RUNS, when they
// would take longer than BUDGET seconds) and prints one JSON line with the
// times in milliseconds, load_ms: how long InferenceSession.create took,
// and peak_rss_bytes: the process's peak resident set (VmHWM).
'use strict';

const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, output, shapeArg, threadsArg, warmupArg, runsArg, minRunsArg, budgetArg] =
    process.argv.slice(2);
  if (!budgetArg) {
    console.error('usage: node ort_runner.js MODEL INPUT OUTPUT SHAPE THREADS WARMUP RUNS MIN_RUNS BUDGET');
    process.exit(2);
  }
  const shape = shapeArg.split(',').map(Number);
  const threads = Number(threadsArg);

  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;

  const raw = fs.readFileSync(input);
  const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  if (data.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new Error(`${input}: ${data.length} floats, want shape ${shape}`);
  }
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
  const outName = session.outputNames[0];

  const once = async () => {
    const t = process.hrtime.bigint();
    const res = await session.run(feeds);
    return [Number(process.hrtime.bigint() - t) / 1e6, res[outName]];
  };

  const warm = [];
  let last;
  for (let i = 0; i < Math.max(Number(warmupArg), 1); i++) {
    const [ms, out] = await once();
    warm.push(ms);
    last = out;
  }
  const est = [...warm].sort((a, b) => a - b)[warm.length >> 1];
  let n = Number(runsArg);
  if (est > 0) n = Math.min(n, Math.floor((Number(budgetArg) * 1000) / est));
  n = Math.max(n, Number(minRunsArg), 1);
  const times = [];
  for (let i = 0; i < n; i++) {
    const [ms, out] = await once();
    times.push(ms);
    last = out;
  }

  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  const y = last.data;
  fs.writeFileSync(output, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  console.log(JSON.stringify({ ort: ort.env.versions.node, threads, load_ms: loadMs,
    peak_rss_bytes: hwm ? Number(hwm[1]) * 1024 : 0, warmup_ms: warm, times_ms: times }));
}

main().catch((e) => {
  console.error('ort_runner:', e && e.message ? e.message : e);
  process.exit(1);
});
