import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpeg, makeClip, rawFrames, runCli, streamFacts } from './helpers/media.js';
import { writeTestModel } from './helpers/test-models.js';

const W = 160;
const H = 96;
const FPS = 25;
const A = 20;
const B = -10;

let dir: string;
let model: string;
let clip: string;
let grayClip: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-pipeline-'));
  model = await writeTestModel(join(dir, 'model'), { a: A, b: B, workingShortSide: 64 });
  clip = await makeClip(join(dir, 'clip.mp4'), { video: `testsrc2=size=${W}x${H}:rate=${FPS}`, seconds: 2, audioHz: 440 });
  grayClip = await makeClip(join(dir, 'gray.mkv'), {
    video: `testsrc2=size=${W}x${H}:rate=${FPS}`,
    seconds: 1,
    gray: true,
    codec: ['-c:v', 'ffv1'],
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('colorize-video end to end', () => {
  it('keeps frame count, frame rate, duration and audio, and writes <name>.color.<ext> beside the input', async () => {
    const result = await runCli([clip, '--model', model, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    const output = join(dir, 'clip.color.mp4');
    expect(summary).toMatchObject({ input: clip, output, frames: 2 * FPS, device: 'cpu' });
    for (const key of ['seconds', 'fps', 'model']) expect(summary).toHaveProperty(key);
    const [inVideo, inAudio] = await streamFacts(clip);
    const out = await streamFacts(output);
    const outVideo = out.find((s) => s.codecType === 'video')!;
    const outAudio = out.find((s) => s.codecType === 'audio')!;
    expect(outVideo.frames).toBe(inVideo.frames);
    expect(outVideo.frameRate).toBe(inVideo.frameRate);
    expect(outVideo.duration).toBeCloseTo(inVideo.duration!, 1);
    expect(outAudio).toBeDefined();
    expect(outAudio.duration).toBeCloseTo(inAudio.duration!, 1);
    expect((await readdir(dir)).filter((f) => f.includes('.partial-'))).toEqual([]);
  });

  it('writes the input luma bit-identical with --codec ffv1, and chroma from the model', async () => {
    const output = join(dir, 'gray.color.mkv');
    const result = await runCli([grayClip, '--model', model, '--codec', 'ffv1', '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const input = await rawFrames(grayClip);
    const colored = await rawFrames(output);
    const frameBytes = (W * H * 3) / 2;
    expect(colored.length).toBe(input.length);
    const frames = input.length / frameBytes;
    for (let f = 0; f < frames; f++) {
      const y = f * frameBytes;
      expect(colored.subarray(y, y + W * H).equals(input.subarray(y, y + W * H)), `Y plane of frame ${f}`).toBe(true);
    }
    // Constant a*b* from the test graph: every chroma sample must be what Lab(L, A, B) gives in BT.601 limited range.
    let worst = 0;
    const cw = W / 2;
    const ch = H / 2;
    for (let f = 0; f < frames; f++) {
      const base = f * frameBytes;
      for (let cy = 0; cy < ch; cy++) {
        for (let cx = 0; cx < cw; cx++) {
          let lSum = 0;
          for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) lSum += lightnessOfLimitedCode(input[base + (2 * cy + dy) * W + 2 * cx + dx]);
          const [cb, cr] = expectedChroma(lSum / 4, A, B);
          const i = cy * cw + cx;
          worst = Math.max(worst, Math.abs(colored[base + W * H + i] - cb), Math.abs(colored[base + W * H + cw * ch + i] - cr));
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('renders exactly the requested frames with --start/--duration', async () => {
    const output = join(dir, 'piece.mkv');
    const result = await runCli([grayClip, '--model', model, '--codec', 'ffv1', '--start', '0.4', '--duration', '0.36', '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const frameBytes = (W * H * 3) / 2;
    const piece = await rawFrames(output);
    expect(piece.length / frameBytes).toBe(9);
    const input = await rawFrames(grayClip);
    // Frame-exact: the first output frame is input frame 10 (0.4 s at 25 fps), the last is frame 18.
    expect(piece.subarray(0, W * H).equals(input.subarray(10 * frameBytes, 10 * frameBytes + W * H))).toBe(true);
    expect(piece.subarray(8 * frameBytes, 8 * frameBytes + W * H).equals(input.subarray(18 * frameBytes, 18 * frameBytes + W * H))).toBe(true);
  });

  it('keeps color tags and sample aspect ratio', async () => {
    const tagged = await makeClip(join(dir, 'tagged.mkv'), {
      video: `testsrc2=size=${W}x${H}:rate=${FPS},setsar=4/3`,
      seconds: 0.4,
      extraOutput: ['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709'],
    });
    const output = join(dir, 'tagged.out.mkv');
    const result = await runCli([tagged, '--model', model, '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const [video] = await streamFacts(output);
    expect(video).toMatchObject({ colorSpace: 'bt709', colorPrimaries: 'bt709', colorTransfer: 'bt709', sampleAspectRatio: '4:3', frames: 10 });
    expect((await stat(output)).size).toBeGreaterThan(0);
  });
});

describe('rotation', () => {
  it('keeps the display rotation of the source', async () => {
    const plain = await makeClip(join(dir, 'upright.mp4'), { video: `testsrc2=size=${W}x${H}:rate=${FPS}`, seconds: 0.4 });
    const rotated = join(dir, 'rotated.mp4');
    await ffmpeg(['-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    const output = join(dir, 'rotated.color.mp4');
    const result = await runCli([rotated, '--model', model, '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const [video] = await streamFacts(output);
    expect(video).toMatchObject({ width: W, height: H, rotation: 90, frames: 10 });
  });
});

function lightnessOfLimitedCode(code: number): number {
  const v = Math.min(1, Math.max(0, (code - 16) / 219));
  const linear = v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  return linear > 216 / 24389 ? 116 * Math.cbrt(linear) - 16 : (24389 / 27) * linear;
}

/** Reference Lab -> sRGB -> BT.601 limited-range Cb/Cr, written out independently of src/color. */
function expectedChroma(l: number, a: number, b: number): [number, number] {
  const fy = (l + 16) / 116;
  const finv = (t: number) => (t ** 3 > 216 / 24389 ? t ** 3 : (116 * t - 16) / (24389 / 27));
  const x = 0.95047 * finv(fy + a / 500);
  const y = finv(fy);
  const z = 1.08883 * finv(fy - b / 200);
  const lin = [3.2404542 * x - 1.5371385 * y - 0.4985314 * z, -0.969266 * x + 1.8760108 * y + 0.041556 * z, 0.0556434 * x - 0.2040259 * y + 1.0572252 * z];
  const [r, g, bl] = lin.map((c) => {
    const v = Math.min(1, Math.max(0, c));
    return v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055;
  });
  const luma = 0.299 * r + 0.587 * g + 0.114 * bl;
  const cb = Math.round(128 + (224 * (bl - luma)) / 1.772);
  const cr = Math.round(128 + (224 * (r - luma)) / 1.402);
  return [Math.min(240, Math.max(16, cb)), Math.min(240, Math.max(16, cr))];
}
