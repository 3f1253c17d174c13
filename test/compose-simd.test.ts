import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChromaComposer, type ChromaGeometry } from '../src/color/compose.js';
import { DeepChromaComposer } from '../src/color/compose-deep.js';
import { SimdChromaComposer } from '../src/color/compose-simd.js';
import { createChromaComposer } from '../src/color/composer.js';
import { srgbToLab } from '../src/color/lab.js';
import { resizeArea } from '../src/color/resample.js';
import { sourceSha256 } from '../src/color/simd/compose-wasm.js';
import { composeGeometries, seededRandom } from './helpers/compose-cases.js';
import { makeClip, rawFrames, runCli } from './helpers/media.js';

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

describe('chroma composition in WebAssembly SIMD', () => {
  it('runs the kernel built from the committed C source (rebuild with scripts/build-simd.sh after editing it)', () => {
    const source = readFileSync(join(import.meta.dirname, '..', 'src', 'color', 'simd', 'compose.c'));
    expect(createHash('sha256').update(source).digest('hex')).toBe(sourceSha256);
  });

  it('is what the pipeline composes with, unless COLORIZE_VIDEO_COMPOSE=typescript asks for the reference', () => {
    const geometry = { chromaWidth: 8, chromaHeight: 4, gridWidth: 2, gridHeight: 1, matrix: 'bt709', range: 'limited' } as const;
    expect(createChromaComposer(geometry)).toBeInstanceOf(SimdChromaComposer);
    const before = process.env.COLORIZE_VIDEO_COMPOSE;
    process.env.COLORIZE_VIDEO_COMPOSE = 'typescript';
    try {
      expect(createChromaComposer(geometry)).toBeInstanceOf(ChromaComposer);
      expect(createChromaComposer({ ...geometry, bitDepth: 10 })).not.toBeInstanceOf(SimdChromaComposer);
    } finally {
      if (before === undefined) delete process.env.COLORIZE_VIDEO_COMPOSE;
      else process.env.COLORIZE_VIDEO_COMPOSE = before;
    }
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
    ...composeGeometries,
    { chromaWidth: 61, chromaHeight: 7, gridWidth: 9, gridHeight: 2, matrix: 'bt709', range: 'limited', edgeSigma: 6, bitDepth: 16 },
  ] as const)('stays close to the TypeScript composer on noise, out-of-gamut a*b* and odd sizes (%j)', (geometry) => {
    const next = seededRandom(geometry.chromaWidth * 17 + geometry.gridHeight);
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

describe('the pipeline with either composer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'colorize-simd-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // The shipped model's colours on a textured gray film, lossless out, rendered once with each composer.
  it.each([
    { name: '8-bit 4:2:0', pixelFormat: 'yuv420p', bytes: 1, chromaShare: 0.5, largest: 1 },
    { name: '10-bit 4:2:2', pixelFormat: 'yuv422p10le', bytes: 2, chromaShare: 1, largest: 2 },
  ])('writes the same Y\' and all but a few chroma samples the same ($name)', async ({ name, pixelFormat, bytes, chromaShare, largest }) => {
    const [width, height] = [320, 180];
    const clip = await makeClip(join(dir, `${pixelFormat}.mkv`), { video: `mandelbrot=size=${width}x${height}:rate=25`, seconds: 1, gray: true, codec: ['-c:v', 'ffv1'], pixelFormat });
    const render = async (composer: string) => {
      const output = join(dir, `${pixelFormat}-${composer}.mkv`);
      const result = await runCli([clip, '--codec', 'ffv1', '-o', output, '--json'], { env: { COLORIZE_VIDEO_COMPOSE: composer } });
      expect(result.stderr, name).toBe('');
      expect(result.code).toBe(0);
      const frames = await rawFrames(output, pixelFormat);
      return bytes === 2 ? new Uint16Array(frames.buffer, frames.byteOffset, frames.length / 2) : new Uint8Array(frames);
    };
    const reference = await render('typescript');
    const simd = await render('simd');
    expect(simd.length).toBe(reference.length);
    const luma = width * height;
    const frameSamples = luma * (1 + chromaShare);
    const frames = reference.length / frameSamples;
    expect(frames).toBe(25);
    let differing = 0;
    let most = 0;
    let colourful = 0;
    const neutral = bytes === 2 ? 512 : 128;
    for (let f = 0; f < frames; f++) {
      const start = f * frameSamples;
      expect(simd.subarray(start, start + luma)).toEqual(reference.subarray(start, start + luma));
      for (let i = start + luma; i < start + frameSamples; i++) {
        const d = Math.abs(simd[i] - reference[i]);
        if (d > 0) differing++;
        most = Math.max(most, d);
        if (Math.abs(reference[i] - neutral) > 4 * bytes) colourful++;
      }
    }
    const chromaSamples = frames * luma * chromaShare;
    expect(colourful / chromaSamples).toBeGreaterThan(0.2); // the model did colour it: a comparison of gray with gray would prove nothing
    expect(most).toBeLessThanOrEqual(largest);
    expect(differing / chromaSamples).toBeLessThan(1e-3);
  });
});
