/**
 * Would compose be faster as an ONNX graph run by onnxruntime (issue 17's third candidate)?
 * Times a lower bound of it: only the joint bilateral weighting and the weighted sums over the
 * nine taps, on taps already gathered to full size ([1, 9, H, W] inputs), with no range floor,
 * no gathering from the grid and no Lab -> Y'CbCr conversion; against the whole of compose in
 * TypeScript and in WebAssembly SIMD, at 1080p's 960x540 chroma size, CPU time per frame:
 *
 *   npx tsx scripts/bench-compose-onnx.ts
 */
import * as ort from 'onnxruntime-node';
import { ChromaComposer } from '../src/color/compose.js';
import { SimdChromaComposer } from '../src/color/compose-simd.js';
import { buildOnnxModel } from '../test/helpers/onnx-builder.js';

const [width, height, gridWidth, gridHeight, taps] = [960, 540, 100, 56, 9];
const plane = [1, 1, height, width];
const stack = [1, taps, height, width];
const model = buildOnnxModel({
  opset: 17,
  inputs: [{ name: 'guide', shape: plane }, { name: 'g', shape: stack }, { name: 'a', shape: stack }, { name: 'b', shape: stack }, { name: 's', shape: stack }],
  outputs: [{ name: 'a_up', shape: plane }, { name: 'b_up', shape: plane }],
  initializers: [
    { name: 'coefficient', dims: [], values: [-1 / 72] },
    { name: 'axis', dims: [1], values: [1], dtype: 'int64' },
  ],
  nodes: [
    { op: 'Sub', inputs: ['g', 'guide'], outputs: ['d'] },
    { op: 'Mul', inputs: ['d', 'd'], outputs: ['d2'] },
    { op: 'Mul', inputs: ['d2', 'coefficient'], outputs: ['e'] },
    { op: 'Exp', inputs: ['e'], outputs: ['range'] },
    { op: 'Mul', inputs: ['range', 's'], outputs: ['w'] },
    { op: 'Mul', inputs: ['w', 'a'], outputs: ['wa'] },
    { op: 'Mul', inputs: ['w', 'b'], outputs: ['wb'] },
    { op: 'ReduceSum', inputs: ['w', 'axis'], outputs: ['w_sum'], attributes: { keepdims: 1 } },
    { op: 'ReduceSum', inputs: ['wa', 'axis'], outputs: ['a_sum'], attributes: { keepdims: 1 } },
    { op: 'ReduceSum', inputs: ['wb', 'axis'], outputs: ['b_sum'], attributes: { keepdims: 1 } },
    { op: 'Div', inputs: ['a_sum', 'w_sum'], outputs: ['a_up'] },
    { op: 'Div', inputs: ['b_sum', 'w_sum'], outputs: ['b_up'] },
  ],
});

async function cpuMs(work: () => unknown, runs = 10): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < runs; i++) await work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / runs;
}

const random = (length: number, scale: number) => Float32Array.from({ length }, (_, i) => scale * ((Math.imul(i, 2654435761) >>> 16) / 65536));
const n = width * height;
const feeds = {
  guide: new ort.Tensor('float32', random(n, 100), plane),
  g: new ort.Tensor('float32', random(taps * n, 100), stack),
  a: new ort.Tensor('float32', random(taps * n, 60), stack),
  b: new ort.Tensor('float32', random(taps * n, 60), stack),
  s: new ort.Tensor('float32', random(taps * n, 1), stack),
};
const geometry = { chromaWidth: width, chromaHeight: height, gridWidth, gridHeight, matrix: 'bt709', range: 'limited' } as const;
const lightness = random(n, 100);
const gridLightness = random(gridWidth * gridHeight, 100);
const ab = random(2 * gridWidth * gridHeight, 60);
const cb = new Uint8Array(n);
const cr = new Uint8Array(n);
const typescript = new ChromaComposer(geometry);
const simd = new SimdChromaComposer(geometry);
for (const threads of [1, 2]) {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, graphOptimizationLevel: 'all' });
  await session.run(feeds);
  console.log(`ONNX graph, weighting and sums only (${threads} intra-op thread${threads > 1 ? 's' : ''}): ${(await cpuMs(() => session.run(feeds))).toFixed(1)} CPU ms per frame`);
  await session.release();
}
typescript.compose(lightness, gridLightness, ab, cb, cr);
simd.compose(lightness, gridLightness, ab, cb, cr);
console.log(`whole compose, TypeScript: ${(await cpuMs(() => typescript.compose(lightness, gridLightness, ab, cb, cr))).toFixed(1)} CPU ms per frame`);
console.log(`whole compose, WebAssembly SIMD: ${(await cpuMs(() => simd.compose(lightness, gridLightness, ab, cb, cr))).toFixed(1)} CPU ms per frame`);
