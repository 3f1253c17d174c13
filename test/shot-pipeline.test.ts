import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Colorizer } from '../src/infer/colorizer.js';
import { ffmpegPath } from '../src/decode/binaries.js';
import { colorizeVideo } from '../src/pipeline/colorize-video.js';
import { ffmpeg, rawFrames, runCli } from './helpers/media.js';
import { writeTestModel } from './helpers/test-models.js';

const W = 160;
const H = 96;
const FRAME_BYTES = (W * H * 3) / 2;
/** Three shots of clearly different content: frames 0-29, 30-69, 70-94. */
const SEGMENTS: Array<[string, number]> = [
  [`testsrc2=s=${W}x${H}:r=25`, 30],
  [`mandelbrot=s=${W}x${H}:r=25`, 40],
  [`smptebars=s=${W}x${H}:r=25`, 25],
];
const SHOT_STARTS = [0, 30, 70, 95];

let dir: string;
let clip: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-shots-'));
  // The global term makes a* depend on the shot's global features: a* = 5 + 0.5 * mean(normalized L of the view).
  model = await writeTestModel(join(dir, 'model'), { a: 5, b: 0, globalGain: 40, workingShortSide: 64 });
  clip = join(dir, 'three-shots.mkv');
  const inputs = SEGMENTS.flatMap(([source]) => ['-f', 'lavfi', '-i', source]);
  const graph = SEGMENTS.map(([, frames], i) => `[${i}:v]trim=end_frame=${frames},setpts=PTS-STARTPTS,format=yuv420p,setsar=1[s${i}]`).join(';');
  await ffmpeg([...inputs, '-filter_complex', `${graph};[s0][s1][s2]concat=n=3:v=1:a=0,hue=s=0[v]`, '-map', '[v]', '-c:v', 'ffv1', '-pix_fmt', 'yuv420p', clip]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function chromaOf(frames: Buffer, frame: number): Buffer {
  return frames.subarray(frame * FRAME_BYTES + W * H, (frame + 1) * FRAME_BYTES);
}

describe('shots in the pipeline', () => {
  it('runs the global network exactly once per shot', async () => {
    const colorizer = await Colorizer.load(model, 'cpu');
    try {
      const result = await colorizeVideo({ input: clip, output: join(dir, 'all.mkv'), codec: 'ffv1', colorizer, overwrite: true });
      expect(result.shots).toBe(3);
      expect(colorizer.globalRuns).toBe(3);
      expect(result.frames).toBe(95);
    } finally {
      await colorizer.release();
    }
  });

  it('takes the global network\'s samples from the shot scan\'s own decode: one decode of the film fewer, the same film', async () => {
    // A wrapper that logs every ffmpeg the render starts, then runs the real one.
    const log = join(dir, 'ffmpeg-calls.log');
    const wrapper = join(dir, 'ffmpeg-logged.sh');
    await writeFile(wrapper, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${ffmpegPath()}' "$@"\n`, { mode: 0o755 });
    const colorizer = await Colorizer.load(model, 'cpu');
    const before = process.env.FFMPEG_PATH;
    process.env.FFMPEG_PATH = wrapper;
    try {
      const scanned = join(dir, 'scanned.mkv');
      await colorizeVideo({ input: clip, output: scanned, codec: 'ffv1', colorizer, overwrite: true });
      const calls = (await readFile(log, 'utf8')).trim().split('\n');
      const decodes = calls.filter((line) => line.includes(' -f rawvideo ') && line.includes('pipe:1'));
      // the scan (with the views stacked under it) and the render's own decode; no square-view decode of its own
      expect(decodes.length, decodes.join('\n')).toBe(2);
      expect(decodes.filter((line) => line.includes('vstack'))).toHaveLength(1);
      expect(colorizer.globalRuns).toBe(3);
      // A render of the three shots by number samples them with a decode of their own, as before.
      await rm(log);
      const separately = join(dir, 'separately.mkv');
      await colorizeVideo({ input: clip, output: separately, codec: 'ffv1', colorizer, overwrite: true, shots: '0-2' });
      expect((await readFile(log, 'utf8')).includes('scale=32:32:flags=area,format=gray -vsync')).toBe(true);
      expect((await rawFrames(scanned)).equals(await rawFrames(separately))).toBe(true);
    } finally {
      if (before === undefined) delete process.env.FFMPEG_PATH;
      else process.env.FFMPEG_PATH = before;
      await colorizer.release();
    }
  });

  it('a model that fails to load while the shots are scanned stops the render with its own error', async () => {
    const broken = await writeTestModel(join(dir, 'broken-model'), { a: 5, b: 0, globalGain: 40, workingShortSide: 64 });
    await rm(join(broken, 'global.onnx'));
    await expect(colorizeVideo({ input: clip, output: join(dir, 'broken.mkv'), codec: 'ffv1', model: broken })).rejects.toThrow(/^model file missing: .*global\.onnx$/);
  });

  it('inferEvery (default 3) runs the network on every Nth frame of each shot (first frames always), carrying the colours between and nothing across cuts', async () => {
    const colorizer = await Colorizer.load(model, 'cpu');
    try {
      const everyFrame = join(dir, 'every1.mkv');
      const third = join(dir, 'every3.mkv');
      const full = await colorizeVideo({ input: clip, output: everyFrame, codec: 'ffv1', colorizer, overwrite: true, batchSize: 1, inferEvery: 1 });
      expect(full.framesInferred).toBe(95);
      const runsBefore = colorizer.localRuns;
      const result = await colorizeVideo({ input: clip, output: third, codec: 'ffv1', colorizer, overwrite: true, batchSize: 1, inferEvery: 3 });
      expect(result.frames).toBe(95);
      expect(result.framesInferred).toBe(10 + 14 + 9); // ceil(30/3), ceil(40/3), ceil(25/3)
      expect(colorizer.localRuns - runsBefore).toBe(33);
      // This model's colour is constant within a shot and differs between shots, so a frame carried
      // over from the wrong shot (or not carried at all) shows as a chroma difference.
      const [a, b] = await Promise.all([rawFrames(everyFrame), rawFrames(third)]);
      for (let frame = 0; frame < 95; frame++) {
        const ca = chromaOf(a, frame);
        const cb = chromaOf(b, frame);
        let worst = 0;
        for (let i = 0; i < ca.length; i++) worst = Math.max(worst, Math.abs(ca[i] - cb[i]));
        expect(worst, `frame ${frame}`).toBeLessThanOrEqual(1);
      }
      // Batches fill with frames the network runs on; the frames it skips ride along in order.
      const runsBeforeBatched = colorizer.localRuns;
      const batched = await colorizeVideo({ input: clip, output: join(dir, 'every3-batch4.mkv'), codec: 'ffv1', colorizer, overwrite: true, batchSize: 4, inferEvery: 3 });
      expect(batched.framesInferred).toBe(33);
      expect(colorizer.localRuns - runsBeforeBatched).toBe(9); // ceil(33 / 4)
      expect((await rawFrames(join(dir, 'every3-batch4.mkv'))).equals(b)).toBe(true);
      const untouched = await colorizeVideo({ input: clip, output: join(dir, 'every3-off.mkv'), codec: 'ffv1', colorizer, overwrite: true, inferEvery: 3, temporalStrength: 0 });
      expect(untouched.framesInferred).toBe(95); // nothing carries colours without the temporal stage
      const byDefault = await colorizeVideo({ input: clip, output: join(dir, 'every-default.mkv'), codec: 'ffv1', colorizer, overwrite: true });
      expect(byDefault.framesInferred).toBe(10 + 14 + 9);
      expect((await rawFrames(join(dir, 'every-default.mkv'))).equals(b)).toBe(true);
      await expect(colorizeVideo({ input: clip, output: join(dir, 'bad.mkv'), colorizer, inferEvery: 0 })).rejects.toThrow(/inferEvery must be a whole number/);
    } finally {
      await colorizer.release();
    }
  });

  it('--shot N renders exactly that shot, and lists render several', async () => {
    const input = await rawFrames(clip);
    const one = join(dir, 'shot1.mkv');
    let result = await runCli([clip, '--model', model, '--codec', 'ffv1', '--shot', '1', '-o', one]);
    expect(result.code, result.stderr).toBe(0);
    const frames = await rawFrames(one);
    expect(frames.length / FRAME_BYTES).toBe(40);
    for (const [k, f] of [[0, 30], [39, 69]]) {
      const y = frames.subarray(k * FRAME_BYTES, k * FRAME_BYTES + W * H);
      expect(y.equals(input.subarray(f * FRAME_BYTES, f * FRAME_BYTES + W * H)), `output frame ${k} is input frame ${f}`).toBe(true);
    }
    const several = join(dir, 'shots02.mkv');
    result = await runCli([clip, '--model', model, '--codec', 'ffv1', '--shot', '0,2', '-o', several]);
    expect(result.code, result.stderr).toBe(0);
    expect((await rawFrames(several)).length / FRAME_BYTES).toBe(55);
    result = await runCli([clip, '--model', model, '--shot', '7', '-o', join(dir, 'nope.mp4')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/shot 7 is out of range: the film has 3 shots/);
  });

  it('a reference image changes the colors of its shot only (and the temporal stage carries nothing across the cuts)', async () => {
    const white = join(dir, 'white.png');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toFile(white);
    const map = join(dir, 'refs.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(map, JSON.stringify({ '1': 'white.png' })));
    const plain = join(dir, 'plain.mkv');
    const styled = join(dir, 'styled.mkv');
    expect((await runCli([clip, '--model', model, '--codec', 'ffv1', '-o', plain])).code).toBe(0);
    const styledRun = await runCli([clip, '--model', model, '--codec', 'ffv1', '--reference-map', map, '-o', styled]);
    expect(styledRun.code, styledRun.stderr).toBe(0);
    const a = await rawFrames(plain);
    const b = await rawFrames(styled);
    for (let f = 0; f < 95; f++) {
      const inShot1 = f >= SHOT_STARTS[1] && f < SHOT_STARTS[2];
      expect(chromaOf(a, f).equals(chromaOf(b, f)), `frame ${f} chroma ${inShot1 ? 'changed' : 'unchanged'}`).toBe(!inShot1);
    }
    const bad = await runCli([clip, '--model', model, '--reference', join(dir, 'missing.jpg'), '-o', join(dir, 'x.mp4')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/reference image .*missing\.jpg could not be read/);
    const outOfRange = join(dir, 'refs-out-of-range.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(outOfRange, JSON.stringify({ '5': 'white.png' })));
    const beyond = await runCli([clip, '--model', model, '--reference-map', outOfRange, '-o', join(dir, 'y.mp4')]);
    expect(beyond.code).toBe(2);
    expect(beyond.stderr).toMatch(/reference map names shot 5, but the film has 3 shots \(0-2\)/);
  });

  it('--side-by-side puts the gray input beside the colorized frame', async () => {
    const output = join(dir, 'review.mkv');
    const result = await runCli([clip, '--model', model, '--codec', 'ffv1', '--start', '0', '--duration', '0.2', '--side-by-side', '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const frames = await rawFrames(output);
    const input = await rawFrames(clip);
    const wide = 2 * W;
    expect(frames.length).toBe(5 * wide * H * 1.5);
    for (let row = 0; row < H; row++) {
      const line = input.subarray(row * W, (row + 1) * W);
      expect(frames.subarray(row * wide, row * wide + W).equals(line)).toBe(true);
      expect(frames.subarray(row * wide + W, (row + 1) * wide).equals(line)).toBe(true);
    }
    const chromaW = wide / 2;
    const crStart = wide * H + chromaW * (H / 2);
    let leftNeutral = 0;
    let rightColored = 0;
    for (let row = 0; row < H / 2; row++) {
      for (let x = 0; x < chromaW; x++) {
        const v = frames[crStart + row * chromaW + x];
        if (x < chromaW / 2 && v === 128) leftNeutral++;
        if (x >= chromaW / 2 && v !== 128) rightColored++;
      }
    }
    expect(leftNeutral).toBe((chromaW / 2) * (H / 2));
    expect(rightColored).toBeGreaterThan(0.9 * (chromaW / 2) * (H / 2));
  });

  it('shots --contact-sheet --colorize writes one image with a gray and a colorized thumbnail per shot', async () => {
    const sheet = join(dir, 'sheet.png');
    const result = await runCli(['shots', clip, '--json', '--contact-sheet', sheet, '--colorize', '--model', model]);
    expect(result.code, result.stderr).toBe(0);
    const shots = JSON.parse(result.stdout) as Array<{ index: number; startFrame: number; endFrame: number }>;
    expect(shots.map((s) => [s.startFrame, s.endFrame])).toEqual([[0, 30], [30, 70], [70, 95]]);
    const { data, info } = await sharp(sheet).raw().toBuffer({ resolveWithObject: true });
    // Three gray|color pairs of 192-px thumbnails in one row.
    expect(info.width).toBe(6 + 3 * (2 * 192 + 2 + 6));
    const pixel = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const [gr, gg, gb] = pixel(6 + 96, 6 + 40);
    expect(gr === gg && gg === gb).toBe(true);
    const [cr, cg, cb] = pixel(6 + 192 + 2 + 96, 6 + 40);
    expect(Math.max(cr, cg, cb) - Math.min(cr, cg, cb)).toBeGreaterThan(3);
  });
});
