import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ChromaComposer, type ChromaGeometry } from '../src/color/compose.js';
import { DeepChromaComposer } from '../src/color/compose-deep.js';
import { SimdChromaComposer } from '../src/color/compose-simd.js';
import { createChromaComposer } from '../src/color/composer.js';
import { srgbToLab } from '../src/color/lab.js';
import { resizeArea } from '../src/color/resample.js';
import { sourceSha256 } from '../src/color/simd/compose-wasm.js';

const kodak = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'eval', 'images', 'kodak24');

interface Planes {
  lightness: Float32Array;
  gridLightness: Float32Array;
  ab: Float32Array;
}

/** Codes of both composers and how they differ. */
function compare(geometry: ChromaGeometry, planes: Planes): { differing: number; largest: number; samples: number } {
  const n = geometry.chromaWidth * geometry.chromaHeight;
  const wide = (geometry.bitDepth ?? 8) > 8;
  const make = () => (wide ? new Uint16Array(n) : new Uint8Array(n));
  const expected = { cb: make(), cr: make() };
  const actual = { cb: make(), cr: make() };
  if (wide) new DeepChromaComposer(geometry, geometry.bitDepth!).compose(planes.lightness, planes.gridLightness, planes.ab, expected.cb as Uint16Array, expected.cr as Uint16Array);
  else new ChromaComposer(geometry).compose(planes.lightness, planes.gridLightness, planes.ab, expected.cb, expected.cr);
  new SimdChromaComposer(geometry).compose(planes.lightness, planes.gridLightness, planes.ab, actual.cb, actual.cr);
  let differing = 0;
  let largest = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.max(Math.abs(expected.cb[i] - actual.cb[i]), Math.abs(expected.cr[i] - actual.cr[i]));
    if (d > 0) differing++;
    largest = Math.max(largest, d);
  }
  return { differing, largest, samples: n };
}

/** A photograph as L* at half size and its own a*b* and L* on a grid a quarter of that. */
async function photograph(name: string): Promise<{ geometry: { chromaWidth: number; chromaHeight: number; gridWidth: number; gridHeight: number }; planes: Planes }> {
  const { data, info } = await sharp(join(kodak, name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const l = new Float32Array(n);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) [l[i], a[i], b[i]] = srgbToLab(data[3 * i] / 255, data[3 * i + 1] / 255, data[3 * i + 2] / 255);
  const chromaWidth = info.width / 2;
  const chromaHeight = info.height / 2;
  const gridWidth = Math.round(chromaWidth / 4);
  const gridHeight = Math.round(chromaHeight / 4);
  const grid = (plane: Float32Array) => resizeArea(plane, info.width, info.height, gridWidth, gridHeight);
  const ab = new Float32Array(2 * gridWidth * gridHeight);
  ab.set(grid(a));
  ab.set(grid(b), gridWidth * gridHeight);
  return {
    geometry: { chromaWidth, chromaHeight, gridWidth, gridHeight },
    planes: { lightness: resizeArea(l, info.width, info.height, chromaWidth, chromaHeight), gridLightness: grid(l), ab },
  };
}

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('chroma composition in WebAssembly SIMD', () => {
  it('runs the kernel built from the committed C source (rebuild with scripts/build-simd.sh after editing it)', () => {
    const source = readFileSync(join(import.meta.dirname, '..', 'src', 'color', 'simd', 'compose.c'));
    expect(createHash('sha256').update(source).digest('hex')).toBe(sourceSha256);
  });

  it('is what the pipeline composes with', () => {
    expect(createChromaComposer({ chromaWidth: 8, chromaHeight: 4, gridWidth: 2, gridHeight: 1, matrix: 'bt709', range: 'limited' })).toBeInstanceOf(SimdChromaComposer);
  });

  // Float32 moves a value across a rounding boundary now and then: by one code at 8 bits, by more
  // codes of a finer scale above (kept under half an 8-bit step).
  it.each(['kodim03.jpg', 'kodim05.jpg', 'kodim14.jpg', 'kodim23.jpg'])('gives the TypeScript codes on a photograph but for 1 sample in 1,000 or fewer, off by under half an 8-bit step (%s)', async (name) => {
    const { geometry, planes } = await photograph(name);
    for (const colour of [
      { matrix: 'bt709', range: 'limited' },
      { matrix: 'bt601', range: 'full' },
      { matrix: 'bt709', range: 'limited', bitDepth: 10 },
      { matrix: 'bt601', range: 'limited', bitDepth: 12 },
    ] as const) {
      const { differing, largest, samples } = compare({ ...geometry, ...colour }, planes);
      expect(largest, JSON.stringify(colour)).toBeLessThanOrEqual(Math.max(1, 2 ** ((colour.bitDepth ?? 8) - 9)));
      expect(differing / samples, JSON.stringify(colour)).toBeLessThan((colour.bitDepth ?? 8) > 8 ? 1e-3 : 2e-4);
    }
  });

  it.each([
    { chromaWidth: 97, chromaHeight: 55, gridWidth: 20, gridHeight: 11, matrix: 'bt709', range: 'limited', edgeSigma: 6 },
    { chromaWidth: 64, chromaHeight: 36, gridWidth: 16, gridHeight: 9, matrix: 'bt601', range: 'full', edgeSigma: 6 },
    { chromaWidth: 33, chromaHeight: 17, gridWidth: 33, gridHeight: 17, matrix: 'bt709', range: 'limited', edgeSigma: 0 },
    { chromaWidth: 8, chromaHeight: 5, gridWidth: 12, gridHeight: 7, matrix: 'bt601', range: 'limited', edgeSigma: 3 },
    { chromaWidth: 3, chromaHeight: 2, gridWidth: 1, gridHeight: 1, matrix: 'bt601', range: 'limited', edgeSigma: 6 },
    { chromaWidth: 61, chromaHeight: 7, gridWidth: 9, gridHeight: 2, matrix: 'bt709', range: 'limited', edgeSigma: 6, bitDepth: 16 },
  ] as const)('stays close to the TypeScript composer on noise, out-of-gamut a*b* and odd sizes (%j)', (geometry) => {
    const next = random(geometry.chromaWidth * 17 + geometry.gridHeight);
    const n = geometry.chromaWidth * geometry.chromaHeight;
    const gridN = geometry.gridWidth * geometry.gridHeight;
    const planes = {
      lightness: Float32Array.from({ length: n }, () => 100 * next()),
      gridLightness: Float32Array.from({ length: gridN }, () => 100 * next()),
      ab: Float32Array.from({ length: 2 * gridN }, () => 260 * next() - 130),
    };
    const { differing, largest, samples } = compare(geometry, planes);
    const bits = ('bitDepth' in geometry ? geometry.bitDepth : undefined) ?? 8;
    expect(largest).toBeLessThanOrEqual(Math.max(1, 2 ** (bits - 9)));
    expect(differing / samples).toBeLessThan(0.02);
  });

  it('refuses planes of another size than its geometry', () => {
    const composer = new SimdChromaComposer({ chromaWidth: 8, chromaHeight: 4, gridWidth: 2, gridHeight: 1, matrix: 'bt709', range: 'limited' });
    const plane = new Uint8Array(32);
    expect(() => composer.compose(new Float32Array(31), new Float32Array(2), new Float32Array(4), plane, plane)).toThrow(/geometry/);
  });
});
