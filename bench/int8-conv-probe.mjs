// Times the graphs bench/int8-conv-probe.py wrote: one intra-op thread, as the pipeline runs on <= 2 cores.
// node bench/int8-conv-probe.mjs DIR
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const dir = process.argv[2] ?? '.out/int8-probe';
const rows = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort()) {
  const session = await ort.InferenceSession.create(join(dir, file), { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const [c, h, w] = file.startsWith('c4') ? [131, 56, 96] : [195, 28, 48];
  const x = new ort.Tensor('float32', Float32Array.from({ length: c * h * w }, () => Math.random()), [1, c, h, w]);
  for (let i = 0; i < 5; i++) await session.run({ x });
  const start = performance.now();
  let runs = 0;
  while (performance.now() - start < 3000) {
    await session.run({ x });
    runs++;
  }
  rows.push({ graph: file, msPerRun: Number(((performance.now() - start) / runs).toFixed(2)) });
}
console.table(rows);
