import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpeg, runCli } from './helpers/media.js';
import { lumaSamples, videoFacts } from './helpers/planes.js';
import { writeTestModel } from './helpers/test-models.js';

const SIZE = '64x48';
let dir: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-archival-'));
  model = await writeTestModel(join(dir, 'model'), { a: 20, b: -10, workingShortSide: 32 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A 1 s black-and-white test clip at 24 fps from lavfi, encoded with `codec` (extra output args allowed). */
async function source(name: string, codec: string[], rate = 24, seconds = 1): Promise<string> {
  const path = join(dir, name);
  await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${SIZE}:rate=${rate},hue=s=0`, '-t', String(seconds), ...codec, path]);
  return path;
}

async function colorize(args: string[]): Promise<{ code: number | null; stderr: string; summary: Record<string, unknown> }> {
  const result = await runCli([...args, '--model', model, '--json', '--overwrite']);
  let summary: Record<string, unknown> = {};
  try {
    summary = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    // left empty: the assertions on code/stderr say what went wrong
  }
  return { code: result.code, stderr: result.stderr, summary };
}

function expectSameLuma(a: Uint16Array, b: Uint16Array): void {
  expect(b.length).toBe(a.length);
  let differing = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
  expect(differing, 'luma samples that differ').toBe(0);
}

describe('high bit depth', () => {
  it('10-bit ProRes 422 HQ in: default output is lossless 10-bit FFV1 with the luma sample for sample, timecode and reel kept', async () => {
    const input = await source('hq.mov', ['-c:v', 'prores_ks', '-profile:v', '3', '-pix_fmt', 'yuv422p10le', '-timecode', '01:02:03:04', '-metadata:s:v', 'reel_name=R042']);
    const { code, stderr, summary } = await colorize([input]);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');
    const output = join(dir, 'hq.color.mov');
    expect(summary).toMatchObject({ output, sourceBits: 10, outputBits: 10, frames: 24 });
    const facts = await videoFacts(output);
    expect(facts).toMatchObject({ codecName: 'ffv1', pixelFormat: 'yuv422p10le', frames: 24, timecode: '01:02:03:04', reel: 'R042' });
    expectSameLuma((await lumaSamples(input)).samples, (await lumaSamples(output)).samples);
  });

  it('12-bit ProRes 4444 in: FFV1 at 12 bits keeps the luma; ProRes out says in one line that depth is lost', async () => {
    const input = await source('p4444.mov', ['-c:v', 'prores_ks', '-profile:v', '4', '-pix_fmt', 'yuv444p10le']);
    // The bundled decoder reads ProRes 4444 as 12-bit.
    expect((await videoFacts(input)).pixelFormat).toBe('yuv444p12le');
    const lossless = join(dir, 'p4444.mkv');
    const first = await colorize([input, '--codec', 'ffv1', '-o', lossless]);
    expect(first.code, first.stderr).toBe(0);
    expect((await videoFacts(lossless)).pixelFormat).toBe('yuv444p12le');
    expectSameLuma((await lumaSamples(input)).samples, (await lumaSamples(lossless)).samples);

    const prores = join(dir, 'p4444.out.mov');
    const second = await colorize([input, '--codec', 'prores', '-o', prores]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr.trim().split('\n')).toEqual([expect.stringMatching(/warning: .*12-bit samples but prores stores 10 bits/)]);
    const facts = await videoFacts(prores);
    expect(facts).toMatchObject({ codecName: 'prores', profile: '4444', frames: 24 });
  });

  it('FFV1 gray16 and yuv420p10 in: luma bit-identical at 16 and 10 bits', async () => {
    for (const [name, format] of [['g16.mkv', 'gray16le'], ['y10.mkv', 'yuv420p10le']] as const) {
      const input = await source(name, ['-c:v', 'ffv1', '-level', '3', '-pix_fmt', format]);
      const output = join(dir, `${name}.out.mkv`);
      const { code, stderr, summary } = await colorize([input, '-o', output]);
      expect(code, stderr).toBe(0);
      const bits = format === 'gray16le' ? 16 : 10;
      expect(summary).toMatchObject({ sourceBits: bits, outputBits: bits });
      const inLuma = await lumaSamples(input);
      const outLuma = await lumaSamples(output);
      expect(outLuma.pixelFormat).toBe(bits === 16 ? 'yuv420p16le' : 'yuv420p10le');
      expectSameLuma(inLuma.samples, outLuma.samples);
      // 16-bit codes really are used (not 8-bit values shifted up).
      if (bits === 16) expect(inLuma.samples.some((v) => v % 256 !== 0)).toBe(true);
    }
  });

  it('H.265 Main10 out keeps 10 bits; H.264 out warns that the depth is lost', async () => {
    const input = await source('y10-h265.mkv', ['-c:v', 'ffv1', '-level', '3', '-pix_fmt', 'yuv420p10le'], 24, 0.5);
    const h265 = join(dir, 'main10.mp4');
    const a = await colorize([input, '--codec', 'h265', '--preset', 'ultrafast', '-o', h265]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toBe('');
    expect(await videoFacts(h265)).toMatchObject({ codecName: 'hevc', pixelFormat: 'yuv420p10le', profile: 'Main 10' });
    const h264 = join(dir, 'eight.mp4');
    const b = await colorize([input, '--codec', 'h264', '--preset', 'ultrafast', '-o', h264]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/warning: .*10-bit samples but h264 stores 8 bits/);
    expect(await videoFacts(h264)).toMatchObject({ codecName: 'h264', pixelFormat: 'yuv420p' });
  });
});

/** Flips bits in the middle of the packet of frame `frame` (ffprobe gives its position), as a scratch or a bad sector would. */
async function damagePacket(path: string, frame: number, out: string): Promise<void> {
  const { execFile } = await import('node:child_process');
  const { readFile, writeFile } = await import('node:fs/promises');
  const { ffprobePath } = await import('../src/decode/binaries.js');
  const csv = await new Promise<string>((resolve, reject) =>
    execFile(ffprobePath(), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=size,pos', '-of', 'csv=p=0', path], (e, stdout) => (e ? reject(e) : resolve(stdout))),
  );
  const [size, pos] = csv.trim().split('\n')[frame].split(',').map(Number);
  const bytes = await readFile(path);
  for (let i = pos + Math.floor(size / 4); i < pos + Math.floor((3 * size) / 4); i++) bytes[i] ^= 0x5a;
  await writeFile(out, bytes);
}

describe('damaged reels', () => {
  let reel: string;
  let damaged: string;
  beforeAll(async () => {
    reel = await source('reel.mkv', ['-c:v', 'ffv1', '-level', '3', '-slicecrc', '1', '-pix_fmt', 'yuv420p10le'], 24, 10);
    damaged = join(dir, 'reel-damaged.mkv');
    await damagePacket(reel, 150, damaged);
  });

  it('stops at the first damaged frame with one line naming its number and time, leaving no output', async () => {
    const output = join(dir, 'reel-damaged.out.mkv');
    const { code, stderr } = await colorize([damaged, '-o', output]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/reel-damaged\.mkv is damaged at frame 150 \(0:00:06\.250\): .*--conceal/)]);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).filter((f) => f.startsWith('reel-damaged.out') || f.includes('.partial-'))).toEqual([]);
  });

  it('--conceal completes with the film frame count and reports the damaged range', async () => {
    const output = join(dir, 'reel-concealed.mkv');
    const { code, stderr, summary } = await colorize([damaged, '--conceal', '-o', output]);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/warning: .*damaged frames rendered with the decoder's concealment \(frames 150/);
    const ranges = summary.damagedFrames as Array<{ firstFrame: number; lastFrame: number; startTime: number }>;
    expect(ranges.length).toBeGreaterThanOrEqual(1);
    expect(ranges[0]).toMatchObject({ firstFrame: 150, startTime: 6.25 });
    expect(ranges[ranges.length - 1].lastFrame).toBeLessThan(240);
    expect((await videoFacts(output)).frames).toBe(240);
    // Frames before the damage are untouched.
    const inLuma = (await lumaSamples(reel)).samples;
    const outLuma = (await lumaSamples(output)).samples;
    expectSameLuma(inLuma.subarray(0, 150 * 64 * 48), outLuma.subarray(0, 150 * 64 * 48));
  });

  it('a half-copied file is reported as truncated at its last readable frame, before any work', async () => {
    const { readFile, writeFile } = await import('node:fs/promises');
    const bytes = await readFile(reel);
    const half = join(dir, 'reel-half.mkv');
    await writeFile(half, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const { code, stderr } = await colorize([half, '-o', join(dir, 'half.out.mkv')]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/reel-half\.mkv is truncated: 240 frames promised, the last readable one is frame \d+ \(0:00:0\d\.\d{3}\)/)]);

    const mp4 = await source('reel.mp4', ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'], 24, 4);
    const mp4Bytes = await readFile(mp4);
    const halfMp4 = join(dir, 'reel-half.mp4');
    await writeFile(halfMp4, mp4Bytes.subarray(0, Math.floor(mp4Bytes.length * 0.5)));
    const second = await colorize([halfMp4, '-o', join(dir, 'half.out.mp4')]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/reel-half\.mp4 is truncated: 96 frames promised, the last readable one is frame \d+/);
  });
});
