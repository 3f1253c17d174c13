import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Colorizer } from '../src/infer/colorizer.js';
import { defaultModelPath } from '../src/pipeline/model-path.js';

describe('the shipped model (models/)', () => {
  it('keeps every ONNX file under 16 MiB', async () => {
    const dir = defaultModelPath();
    const onnx = (await readdir(dir)).filter((f) => f.endsWith('.onnx'));
    expect(onnx.sort()).toEqual(['colorizer.onnx', 'global.onnx']);
    for (const file of onnx) expect((await stat(join(dir, file))).size).toBeLessThan(16 * 1024 * 1024);
  });

  it('loads on the CPU and gives a*b* of the right shape and range', async () => {
    const colorizer = await Colorizer.load(defaultModelPath(), 'cpu');
    try {
      const { global, local } = colorizer.config;
      // A smooth synthetic scene: dark bottom, bright sky, a textured middle.
      const view = Float32Array.from({ length: global.size * global.size }, (_, i) => {
        const y = Math.floor(i / global.size) / global.size;
        return 90 - 70 * y + 5 * Math.sin(i * 0.3);
      });
      const features = await colorizer.globalFeatures([view, view.map((v) => 100 - v)]);
      expect(features.length).toBe(global.features);
      expect(features.every(Number.isFinite)).toBe(true);
      const width = 96;
      const height = 64;
      const frames = [0, 1].map((k) => Float32Array.from({ length: width * height }, (_, i) => 50 + 40 * Math.sin((i % width) / (7 + k)) * Math.cos(i / width / 5)));
      const abs = await colorizer.colorize(frames, width, height, [features, features]);
      expect(abs).toHaveLength(2);
      for (const ab of abs) {
        expect(ab.length).toBe((2 * width * height) / (local.outputStride * local.outputStride));
        expect(ab.every((v) => Number.isFinite(v) && v > -128 && v < 128)).toBe(true);
      }
      // A colorizer that predicts gray everywhere would pass the checks above; ours must not.
      expect(Math.max(...abs[0].map(Math.abs))).toBeGreaterThan(1);
    } finally {
      await colorizer.release();
    }
  });
});
