// Load an exported model directory with onnxruntime-node (the runtime the
// product uses), run the fixed reference inputs written by export.py and
// compare with the PyTorch outputs.
//   node training/verify_onnx.cjs <model-dir> <reference.json> [tolerance]
// Exits non-zero on a load failure, a shape mismatch or a difference above
// the tolerance (a*b* units and feature units; default 0.01). The int8 CPU variant
// (model.json local.cpu, export.py --int8-cpu) gets its own tolerance: INT8_TOLERANCE
// a*b* units (default 3).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [dir, refPath, tolArg] = process.argv.slice(2);
  if (!dir || !refPath) throw new Error('usage: node verify_onnx.cjs <model-dir> <reference.json> [tolerance]');
  const tol = tolArg ? Number(tolArg) : 0.01;
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const ref = JSON.parse(fs.readFileSync(refPath, 'utf8'));
  const tensor = (t) => new ort.Tensor('float32', Float32Array.from(t.data), t.dims);
  const maxAbs = (a, b) => {
    if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
    let m = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
    }
    return m;
  };
  const sameDims = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

  const gs = await ort.InferenceSession.create(path.join(dir, meta.global.file));
  const ls = await ort.InferenceSession.create(path.join(dir, meta.local.file));
  console.log(`global.onnx inputs ${gs.inputNames} outputs ${gs.outputNames}`);
  console.log(`colorizer.onnx inputs ${ls.inputNames} outputs ${ls.outputNames}`);

  const gOut = (await gs.run({ [meta.global.input]: tensor(ref.L_global) }))[meta.global.output];
  if (!sameDims(gOut.dims, ref.global_features.dims)) throw new Error(`global dims ${gOut.dims} != ${ref.global_features.dims}`);
  if (gOut.dims[1] !== meta.global.features) throw new Error(`features ${gOut.dims[1]} != model.json ${meta.global.features}`);
  const dG = maxAbs(gOut.data, ref.global_features.data);

  // colorizer on the PyTorch global features, then on onnxruntime's own
  const hintsName = meta.local.inputs.hints;
  const withHints = (feeds, hints) => (hintsName ? { ...feeds, [hintsName]: hints } : feeds);
  const zeroHints = (n, h, w) => new ort.Tensor('float32', new Float32Array(n * 3 * h * w), [n, 3, h, w]);
  const feeds = (g) => withHints({ [meta.local.inputs.L]: tensor(ref.L), [meta.local.inputs.global]: g }, ref.hints && tensor(ref.hints));
  const ab1 = (await ls.run(feeds(tensor(ref.global_features))))[meta.local.output];
  const ab2 = (await ls.run(feeds(gOut)))[meta.local.output];
  const [n, , H, W] = ref.L.dims;
  const want = [n, 2, H / meta.local.outputStride, W / meta.local.outputStride];
  if (!sameDims(ab1.dims, want)) throw new Error(`ab dims ${ab1.dims} != ${want}`);
  const dAb = maxAbs(ab1.data, ref.ab.data);
  const dAbChain = maxAbs(ab2.data, ref.ab.data);
  let lo = Infinity, hi = -Infinity;
  for (const v of ab1.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }

  // dynamic shapes: a different batch and size must run too
  const h2 = 64, w2 = 160;
  const L2 = new ort.Tensor('float32', new Float32Array(h2 * w2).fill(0.1), [1, 1, h2, w2]);
  const g2 = new ort.Tensor('float32', gOut.data.slice(0, meta.global.features), [1, meta.global.features]);
  const ab3 = (await ls.run(withHints({ [meta.local.inputs.L]: L2, [meta.local.inputs.global]: g2 }, zeroHints(1, h2 / 4, w2 / 4))))[meta.local.output];
  if (!sameDims(ab3.dims, [1, 2, h2 / 4, w2 / 4])) throw new Error(`dynamic-shape ab dims ${ab3.dims}`);

  console.log(JSON.stringify({
    global_features_max_abs_diff: dG,
    ab_max_abs_diff: dAb,
    ab_max_abs_diff_chained: dAbChain,
    ab_range_onnx: [lo, hi],
    ab_range_torch: ref.ab_range,
    tolerance: tol,
  }));
  if (!(dG <= tol && dAb <= tol && dAbChain <= tol)) {
    console.error('FAIL: onnxruntime-node output differs from PyTorch beyond tolerance');
    process.exit(1);
  }
  console.log('OK: onnxruntime-node matches PyTorch');

  const qs = meta.local.cpu && (await ort.InferenceSession.create(path.join(dir, meta.local.cpu.file)));
  if (qs) {
    const int8Tol = Number(process.env.INT8_TOLERANCE ?? 3);
    const abQ = (await qs.run(feeds(tensor(ref.global_features))))[meta.local.output];
    if (!sameDims(abQ.dims, want)) throw new Error(`int8 ab dims ${abQ.dims} != ${want}`);
    const dQ = maxAbs(abQ.data, ref.ab.data);
    let sum = 0;
    for (let i = 0; i < abQ.data.length; i++) sum += Math.abs(abQ.data[i] - ref.ab.data[i]);
    console.log(JSON.stringify({ int8_ab_max_abs_diff: dQ, int8_ab_mean_abs_diff: sum / abQ.data.length, int8_tolerance: int8Tol }));
    if (!(dQ <= int8Tol)) {
      console.error(`FAIL: ${meta.local.cpu.file} differs from PyTorch beyond ${int8Tol} a*b* units`);
      process.exit(1);
    }
    console.log(`OK: ${meta.local.cpu.file} within ${int8Tol} a*b* units`);
  }

  if (process.env.BENCH) {  // BENCH=1: time one 224x416 frame (default session options)
    const Lb = new ort.Tensor('float32', new Float32Array(224 * 416).fill(0.1), [1, 1, 224, 416]);
    const S = meta.global.size;
    const Gb = new ort.Tensor('float32', new Float32Array(S * S).fill(0.1), [1, 1, S, S]);
    const time = async (fn, n) => { await fn(); const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) await fn(); return Number(process.hrtime.bigint() - t) / 1e6 / n; };
    const tl = await time(() => ls.run(withHints({ [meta.local.inputs.L]: Lb, [meta.local.inputs.global]: g2 }, zeroHints(1, 56, 104))), 20);
    const tg = await time(() => gs.run({ [meta.global.input]: Gb }), 20);
    const timings = { colorizer_224x416_ms: tl, global_ms: tg };
    if (qs) {
      timings.colorizer_int8_224x416_ms = await time(() => qs.run(withHints({ [meta.local.inputs.L]: Lb, [meta.local.inputs.global]: g2 }, zeroHints(1, 56, 104))), 20);
    }
    console.log(JSON.stringify(timings));
  }
}

main().catch((e) => { console.error('FAIL:', e.message || e); process.exit(1); });
