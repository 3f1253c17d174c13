import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Colorizer } from '../src/infer/colorizer.js';
import { ChromaComposer } from '../src/color/compose.js';
import { colorizeImageLightness, labToSrgb8, srgb8ToLightness } from '../src/pipeline/colorize-image.js';
import { WarpErrorAccumulator } from '../src/temporal/metrics.js';
import { evalVideos } from '../scripts/lib/eval-videos.js';
import { colorfulness, psnr8 } from '../scripts/lib/image-metrics.js';
import { ScriptError, datasetDir } from '../scripts/lib/paths.js';
import { analysisSize, lockstep, readAnalysisFrames } from '../scripts/lib/video-frames.js';
import { SharedFlowWarpError } from '../scripts/lib/warp-error.js';
import { writeTestModel } from './helpers/test-models.js';
import { makeClip } from './helpers/media.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eval-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A smooth L* ramp with a hard vertical edge, so the edge-aware upsampling has something to respect. */
function lightnessImage(width: number, height: number): Float32Array {
  const l = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) l[y * width + x] = (x < width / 2 ? 20 : 70) + (10 * y) / height;
  return l;
}

describe('colorizeImageLightness', () => {
  it('gives the constant a*b* of the test model at every pixel of the full-size picture', async () => {
    const model = await writeTestModel(join(dir, 'const-model'), { a: 17, b: -23 });
    const colorizer = await Colorizer.load(model, 'cpu');
    try {
      for (const [width, height] of [
        [203, 131],
        [40, 64],
      ]) {
        const ab = await colorizeImageLightness(colorizer, lightnessImage(width, height), width, height);
        expect(ab.length).toBe(2 * width * height);
        const n = width * height;
        for (let i = 0; i < n; i++) {
          expect(ab[i]).toBeCloseTo(17, 4);
          expect(ab[n + i]).toBeCloseTo(-23, 4);
        }
      }
      expect(colorizer.globalRuns).toBe(2);
      await expect(colorizeImageLightness(colorizer, new Float32Array(10), 4, 4)).rejects.toThrow(/expected 4x4/);
    } finally {
      await colorizer.release();
    }
  });

  it('works at an explicit resolution too', async () => {
    const model = await writeTestModel(join(dir, 'const-model-2'), { a: -5, b: 40 });
    const colorizer = await Colorizer.load(model, 'cpu');
    try {
      const ab = await colorizeImageLightness(colorizer, lightnessImage(96, 72), 96, 72, { resolution: 32 });
      expect(Math.min(...ab.subarray(0, 96 * 72))).toBeCloseTo(-5, 4);
      expect(Math.max(...ab.subarray(96 * 72))).toBeCloseTo(40, 4);
    } finally {
      await colorizer.release();
    }
  });
});

describe('ChromaComposer.upsampleAb', () => {
  it('returns planar a*b* at chroma size as a fresh copy each call', () => {
    const composer = new ChromaComposer({ chromaWidth: 16, chromaHeight: 12, gridWidth: 4, gridHeight: 3, matrix: 'bt709', range: 'limited' });
    const grid = new Float32Array(12).fill(50);
    const ab = new Float32Array(24);
    ab.fill(8, 0, 12);
    ab.fill(-3, 12);
    const first = composer.upsampleAb(new Float32Array(16 * 12).fill(50), grid, ab);
    expect(first.length).toBe(2 * 16 * 12);
    expect([...first.subarray(0, 192)].every((v) => Math.abs(v - 8) < 1e-5)).toBe(true);
    expect([...first.subarray(192)].every((v) => Math.abs(v + 3) < 1e-5)).toBe(true);
    const second = composer.upsampleAb(new Float32Array(16 * 12).fill(50), grid, new Float32Array(24));
    expect(second).not.toBe(first);
    expect(first[0]).toBeCloseTo(8, 5);
    expect(second[0]).toBe(0);
  });
});

describe('L* <-> 8-bit sRGB helpers', () => {
  it('gray pixels survive L* and back; colors keep their lightness', () => {
    const rgb = Uint8Array.from([0, 0, 0, 37, 37, 37, 119, 119, 119, 255, 255, 255, 200, 30, 90]);
    const l = srgb8ToLightness(rgb, 5, 1, 3);
    expect(l[2]).toBeCloseTo(50.03, 1);
    const gray = labToSrgb8(l, undefined, 5, 1);
    expect([...gray.subarray(0, 12)]).toEqual([...rgb.subarray(0, 12)]);
    // The gray version of a color pixel has R = G = B and the same L*.
    expect(gray[12]).toBe(gray[13]);
    expect(gray[13]).toBe(gray[14]);
    expect(srgb8ToLightness(gray.subarray(12), 1, 1, 3)[0]).toBeCloseTo(l[4], 0);
    // One-channel input is read as gray.
    expect(srgb8ToLightness(Uint8Array.of(119), 1, 1, 1)[0]).toBeCloseTo(50.03, 1);
  });
});

describe('image metrics', () => {
  it('colorfulness of a gray image is 0', () => {
    const gray = new Uint8Array(3 * 100);
    for (let i = 0; i < 100; i++) gray.fill((i * 37) % 256, 3 * i, 3 * i + 3);
    expect(colorfulness(gray)).toBe(0);
  });

  it('colorfulness of half pure red, half pure blue is what Hasler & Süsstrunk give', () => {
    const image = new Uint8Array(3 * 10);
    for (let i = 0; i < 10; i++) image.set(i < 5 ? [255, 0, 0] : [0, 0, 255], 3 * i);
    // red: rg = 255, yb = 127.5; blue: rg = 0, yb = -255.
    const muRg = 127.5;
    const muYb = (127.5 - 255) / 2;
    const sigmaRg = 127.5;
    const sigmaYb = (127.5 + 255) / 2;
    const expected = Math.sqrt(sigmaRg ** 2 + sigmaYb ** 2) + 0.3 * Math.sqrt(muRg ** 2 + muYb ** 2);
    expect(colorfulness(image)).toBeCloseTo(expected, 9);
    expect(expected).toBeCloseTo(272.63, 1);
  });

  it('PSNR: identical images give Infinity, a difference of 1 everywhere gives 20·log10(255)', () => {
    const a = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
    expect(psnr8(a, a.slice())).toBe(Infinity);
    const b = a.map((v) => (v === 255 ? 254 : v + 1));
    expect(psnr8(a, b)).toBeCloseTo(20 * Math.log10(255), 9);
  });
});

describe('temporal evaluation helpers', () => {
  it('shared-flow E_warp equals WarpErrorAccumulator for every video', () => {
    const width = 40;
    const height = 30;
    const size = width * height;
    const frame = (t: number, tint: number) => {
      const gray = new Float32Array(size);
      const rgb = new Float32Array(3 * size);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = y * width + x;
          const v = 0.5 + 0.3 * Math.sin(0.35 * (x - 1.5 * t)) * Math.cos(0.25 * (y - 0.5 * t));
          gray[i] = v;
          rgb[i] = v;
          rgb[size + i] = Math.min(1, v * (0.8 + 0.05 * tint * (t % 2)));
          rgb[2 * size + i] = 0.3 + 0.1 * tint * Math.sin(t + x * 0.1);
        }
      }
      return { gray, rgb };
    };
    const shared = new SharedFlowWarpError(width, height, 2);
    const single = [new WarpErrorAccumulator({ width, height }), new WarpErrorAccumulator({ width, height })];
    for (let t = 0; t < 4; t++) {
      const a = frame(t, 1);
      const b = frame(t, 3);
      shared.push(a.gray, [a.rgb, b.rgb]);
      single[0].push(a.gray, a.rgb);
      single[1].push(a.gray, b.rgb);
    }
    expect(shared.pairs).toBe(3);
    expect(shared.values[0]).toBeGreaterThan(0);
    expect(shared.values[0]).toBeCloseTo(single[0].value, 12);
    expect(shared.values[1]).toBeCloseTo(single[1].value, 12);
  });

  it('analysis size keeps the aspect, is even, and never upscales', () => {
    expect(analysisSize(768, 432, 384)).toEqual({ width: 384, height: 216 });
    expect(analysisSize(640, 360, 384)).toEqual({ width: 384, height: 216 });
    expect(analysisSize(100, 50, 384)).toEqual({ width: 100, height: 50 });
  });

  it('reads videos in lockstep as RGB in [0, 1] at the analysis size', async () => {
    const color = await makeClip(join(dir, 'red.mkv'), { video: 'color=c=0xC03020:size=64x48:rate=10', seconds: 0.5, codec: ['-c:v', 'ffv1'] });
    const gray = await makeClip(join(dir, 'gray.mkv'), { video: 'color=c=0xC03020:size=64x48:rate=10', seconds: 0.5, codec: ['-c:v', 'ffv1'], gray: true });
    const size = analysisSize(64, 48, 32);
    let frames = 0;
    for await (const [g, c] of lockstep([readAnalysisFrames(gray, size, 5), readAnalysisFrames(color, size, 5)])) {
      const n = size.width * size.height;
      expect(c.rgb.length).toBe(3 * n);
      // 0xC03020 through 4:2:0 limited-range Y'CbCr: close to (0.75, 0.19, 0.13).
      expect(c.rgb[0]).toBeCloseTo(0xc0 / 255, 1);
      expect(c.rgb[n]).toBeCloseTo(0x30 / 255, 1);
      expect(c.rgb[2 * n]).toBeCloseTo(0x20 / 255, 1);
      // The gray version: R = G = B = Y', the same Y' as the color clip.
      expect(g.rgb[0]).toBeCloseTo(g.rgb[n], 5);
      expect(g.gray[0]).toBeCloseTo(c.gray[0], 5);
      frames++;
    }
    expect(frames).toBe(5);
    await expect(async () => {
      for await (const _ of readAnalysisFrames(color, size, 50)) void _;
    }).rejects.toThrow(/gave 5 of 50 frames/);
  });

  it('selects eval clips by name, with or without extension, and names an unknown one', async () => {
    const picked = await evalVideos('car-detection,bottle-detection.mp4');
    expect(picked.map((path) => path.split('/').pop())).toEqual(['bottle-detection.mp4', 'car-detection.mp4']);
    await expect(evalVideos('car-detection,no-such-clip')).rejects.toThrow(/^no eval video named no-such-clip \(have /);
  });

  it('names a missing dataset folder in one line', () => {
    expect(() => datasetDir('no-such-folder-here')).toThrow(ScriptError);
    try {
      datasetDir('no-such-folder-here');
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
      expect((error as Error).message).toMatch(/not found/);
    }
  });
});
