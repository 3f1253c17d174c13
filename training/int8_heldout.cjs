// Runs a model's float local network and its CPU variant (model.json local.cpu) on the crops
// `training/int8_heldout.py dump` wrote, in onnxruntime-node on one thread; writes ab-float.bin
// and ab-int8.bin beside them and prints how far apart they are (a*b* units).
//   node training/int8_heldout.cjs <model-dir> <crops-dir>
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [modelDir, dir] = process.argv.slice(2);
  if (!modelDir || !dir) throw new Error('usage: node int8_heldout.cjs <model-dir> <crops-dir>');
  const meta = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
  if (!meta.local.cpu) throw new Error(`${modelDir}/model.json lists no CPU variant (local.cpu)`);
  const shapes = JSON.parse(fs.readFileSync(path.join(dir, 'shapes.json'), 'utf8'));
  const read = (name) => { const b = fs.readFileSync(path.join(dir, `${name}.bin`)); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
  const L = read('L'), g = read('g');
  const [n, , h, w] = shapes.L;
  const features = shapes.g[1];
  const stride = meta.local.outputStride;
  const batch = 10;
  const outputs = {};
  for (const [graph, file] of [['float', meta.local.file], ['int8', meta.local.cpu.file]]) {
    const session = await ort.InferenceSession.create(path.join(modelDir, file), { intraOpNumThreads: 1 });
    const ab = new Float32Array(n * 2 * (h / stride) * (w / stride));
    for (let i = 0; i < n; i += batch) {
      const k = Math.min(batch, n - i);
      const feeds = {
        [meta.local.inputs.L]: new ort.Tensor('float32', L.slice(i * h * w, (i + k) * h * w), [k, 1, h, w]),
        [meta.local.inputs.global]: new ort.Tensor('float32', g.slice(i * features, (i + k) * features), [k, features]),
      };
      if (meta.local.inputs.hints) feeds[meta.local.inputs.hints] = new ort.Tensor('float32', new Float32Array(k * 3 * (h / stride) * (w / stride)), [k, 3, h / stride, w / stride]);
      ab.set((await session.run(feeds))[meta.local.output].data, i * 2 * (h / stride) * (w / stride));
    }
    fs.writeFileSync(path.join(dir, `ab-${graph}.bin`), Buffer.from(ab.buffer));
    outputs[graph] = ab;
  }
  const d = outputs.float.map((v, i) => Math.abs(v - outputs.int8[i])).sort();
  const mean = d.reduce((s, v) => s + v, 0) / d.length;
  console.log(JSON.stringify({ crops: n, ab_mean_abs_diff: mean, ab_p99_abs_diff: d[Math.floor(d.length * 0.99)], ab_max_abs_diff: d[d.length - 1] }));
}

main().catch((e) => { console.error('FAIL:', e.message || e); process.exit(1); });
