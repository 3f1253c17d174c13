import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Colorizer } from '../src/infer/colorizer.js';
import { makeClip, rawFrames, runCli } from './helpers/media.js';
import { writeTestModel } from './helpers/test-models.js';

let dir: string;
/** A model whose float network says a* = 20 and whose CPU variant says a* = -30. */
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-cpu-variant-'));
  model = await writeTestModel(join(dir, 'model'), { a: 20, b: -10 });
  const variant = await writeTestModel(join(dir, 'variant'), { a: -30, b: 30 });
  await copyFile(join(variant, 'colorizer.onnx'), join(model, 'colorizer-cpu.onnx'));
  const meta = JSON.parse(await readFile(join(model, 'model.json'), 'utf8'));
  meta.local.cpu = { file: 'colorizer-cpu.onnx' };
  await writeFile(join(model, 'model.json'), JSON.stringify(meta));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function firstAb(colorizer: Colorizer): Promise<[number, number]> {
  const width = 32;
  const height = 32;
  const global = await colorizer.globalFeatures([new Float32Array(colorizer.config.global.size ** 2).fill(50)]);
  const [ab] = await colorizer.colorize([new Float32Array(width * height).fill(50)], width, height, [global]);
  return [ab[0], ab[ab.length / 2]];
}

describe('CPU variant of the local network (model.json local.cpu)', () => {
  it('runs on the CPU device, and --no-int8 (cpuVariant: false) runs the float network instead', async () => {
    const variant = await Colorizer.load(model, 'cpu', { workers: 1 });
    try {
      expect(variant.localFile).toBe('colorizer-cpu.onnx');
      expect(await firstAb(variant)).toEqual([-30, 30]);
    } finally {
      await variant.release();
    }
    const float = await Colorizer.load(model, 'cpu', { workers: 1, cpuVariant: false });
    try {
      expect(float.localFile).toBe('colorizer.onnx');
      expect(await firstAb(float)).toEqual([20, -10]);
    } finally {
      await float.release();
    }
  });

  it('the CLI names the graph it ran in its --json summary; --no-int8 picks the float one', async () => {
    const clip = await makeClip(join(dir, 'clip.mp4'), { video: 'testsrc2=size=64x48:rate=25', seconds: 0.2 });
    for (const [flags, file] of [[[], 'colorizer-cpu.onnx'], [['--no-int8'], 'colorizer.onnx']] as const) {
      const run = await runCli([clip, '-o', join(dir, `out-${file}.mp4`), '--model', model, '--device', 'cpu', '--json', ...flags]);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).model).toBe(`test-constant-ab (model/${file})`);
    }
  });

  it('batch renders honour --no-int8 too, and a batch resumed with another graph or --infer-every renders its chunks again', async () => {
    const clip = await makeClip(join(dir, 'batch-clip.mp4'), { video: 'testsrc2=size=64x48:rate=25', seconds: 2 });
    const meanCr = async (file: string) => {
      const raw = await rawFrames(file);
      const plane = 64 * 48;
      const cr = raw.subarray(plane * 1.25, plane * 1.5); // first frame's V plane
      return cr.reduce((sum, v) => sum + v, 0) / cr.length;
    };
    const batch = async (out: string, flags: string[]) => {
      const run = await runCli(['batch', clip, '--out-dir', out, '--model', model, '--device', 'cpu', '--chunk-seconds', '0.5', '--keep-work', '--overwrite', ...flags]);
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(await readFile(join(out, 'colorize-batch-report.json'), 'utf8'));
      return { cr: await meanCr(join(out, 'batch-clip.color.mp4')), entry: report.files[0] };
    };
    // The variant says a* = -30 (green: Cr below 128), the float network a* = +20 (red: Cr above).
    expect((await batch(join(dir, 'batch-int8'), [])).cr).toBeLessThan(120);
    expect((await batch(join(dir, 'batch-float'), ['--no-int8'])).cr).toBeGreaterThan(136);

    const out = join(dir, 'batch-resume');
    const first = await batch(out, []);
    expect(first.entry.chunksReused).toBe(0);
    const remove = () => rm(join(out, 'batch-clip.color.mp4'));
    await remove();
    expect((await batch(out, [])).entry.chunksReused).toBe(first.entry.chunks);
    await remove();
    const float = await batch(out, ['--no-int8']);
    expect(float.entry.chunksReused).toBe(0);
    expect(float.cr).toBeGreaterThan(136);
    await remove();
    expect((await batch(out, ['--no-int8', '--infer-every', '2'])).entry.chunksReused).toBe(0);
  });

  it('a CPU variant that is missing or differs from what model.json records is refused', async () => {
    const meta = JSON.parse(await readFile(join(model, 'model.json'), 'utf8'));
    const missing = join(dir, 'missing');
    await writeTestModel(missing, { a: 1, b: 1 });
    await writeFile(join(missing, 'model.json'), JSON.stringify({ ...meta, local: { ...meta.local, cpu: { file: 'nowhere.onnx' } } }));
    await expect(Colorizer.load(missing, 'cpu')).rejects.toThrow(/model file missing: .*nowhere\.onnx/);

    const wrong = join(dir, 'wrong');
    await writeTestModel(wrong, { a: 1, b: 1 });
    await copyFile(join(model, 'colorizer-cpu.onnx'), join(wrong, 'colorizer-cpu.onnx'));
    await writeFile(join(wrong, 'model.json'), JSON.stringify({ ...meta, local: { ...meta.local, cpu: { file: 'colorizer-cpu.onnx', bytes: 1 } } }));
    await expect(Colorizer.load(wrong, 'cpu')).rejects.toThrow(/colorizer-cpu\.onnx is damaged or not the one described/);
  });
});
