/**
 * CPU time per frame of the per-frame kernels optimized in issue 17, against the reference versions
 * they must reproduce bit for bit (test/helpers/*-reference.ts), on one thread at 1080p sizes; and
 * the WebAssembly SIMD composer (src/color/compose-simd.ts) against the TypeScript one:
 *
 *   npx tsx scripts/bench-kernels.ts
 */
import { ChromaComposer } from '../src/color/compose.js';
import { SimdChromaComposer } from '../src/color/compose-simd.js';
import { resizeArea } from '../src/color/resample.js';
import { lumaToLightnessLut } from '../src/color/luts.js';
import { frameGeometry } from '../src/decode/frame.js';
import { workingGeometry } from '../src/infer/geometry.js';
import { FramePreparer } from '../src/pipeline/frame-prep.js';
import { ReferenceChromaComposer } from '../test/helpers/compose-reference.js';
import { referenceResizeArea } from '../test/helpers/resample-reference.js';

function cpuMs(work: () => void, runs = 20): number {
  for (let i = 0; i < 3; i++) work();
  const start = process.cpuUsage();
  for (let i = 0; i < runs; i++) work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / runs;
}

const g = frameGeometry(1920, 1080, 'yuv420p');
const w = workingGeometry(1920, 1080, 224, 8, 4);
const lut = lumaToLightnessLut('limited');
const y = Uint8Array.from({ length: 1920 * 1080 }, (_, i) => Math.imul(i, 2654435761) >>> 24);
const chroma = new FramePreparer(g, w, lut).lightnessPlanes(y);
const n = g.chromaWidth * g.chromaHeight;
const ab = Float32Array.from({ length: 2 * w.gridWidth * w.gridHeight }, (_, i) => 30 * Math.cos(i / 7));
const cb = new Uint8Array(n);
const cr = new Uint8Array(n);
const composeGeometry = { chromaWidth: g.chromaWidth, chromaHeight: g.chromaHeight, gridWidth: w.gridWidth, gridHeight: w.gridHeight, matrix: 'bt709', range: 'limited' } as const;
const reference = new ReferenceChromaComposer(composeGeometry);
const optimized = new ChromaComposer(composeGeometry);
const simd = new SimdChromaComposer(composeGeometry);

function referencePlanes(): void {
  const full = new Float32Array(y.length);
  for (let i = 0; i < full.length; i++) full[i] = lut[y[i]];
  const out = new Float32Array(n);
  for (let cy = 0; cy < g.chromaHeight; cy++) {
    for (let cx = 0; cx < g.chromaWidth; cx++) {
      const top = 2 * cy * 1920 + 2 * cx;
      out[cy * g.chromaWidth + cx] = (full[top] + full[top + 1] + (full[top + 1920] + full[top + 1921])) * 0.25;
    }
  }
  const working = referenceResizeArea(out, g.chromaWidth, g.chromaHeight, w.width, w.height);
  referenceResizeArea(working, w.width, w.height, w.gridWidth, w.gridHeight);
}
const preparer = new FramePreparer(g, w, lut);

const rows: [string, number, number][] = [
  [`compose ${g.chromaWidth}x${g.chromaHeight}`, cpuMs(() => reference.compose(chroma.chroma, chroma.grid, ab, cb, cr)), cpuMs(() => optimized.compose(chroma.chroma, chroma.grid, ab, cb, cr))],
  ['L* planes of a 1080p frame', cpuMs(referencePlanes), cpuMs(() => preparer.lightnessPlanes(y))],
  [`area resize ${g.chromaWidth}x${g.chromaHeight} -> ${w.width}x${w.height}`, cpuMs(() => referenceResizeArea(chroma.chroma, g.chromaWidth, g.chromaHeight, w.width, w.height)), cpuMs(() => resizeArea(chroma.chroma, g.chromaWidth, g.chromaHeight, w.width, w.height))],
];
console.log('| kernel | reference (CPU ms) | optimized (CPU ms) | ratio |');
console.log('| --- | --- | --- | --- |');
for (const [name, before, after] of rows) console.log(`| ${name} | ${before.toFixed(1)} | ${after.toFixed(1)} | ${(before / after).toFixed(2)}x |`);
const typescriptMs = cpuMs(() => optimized.compose(chroma.chroma, chroma.grid, ab, cb, cr));
const simdMs = cpuMs(() => simd.compose(chroma.chroma, chroma.grid, ab, cb, cr));
console.log(`\ncompose ${g.chromaWidth}x${g.chromaHeight}: TypeScript ${typescriptMs.toFixed(1)} CPU ms, WebAssembly SIMD ${simdMs.toFixed(1)} CPU ms (${(typescriptMs / simdMs).toFixed(2)}x)`);
