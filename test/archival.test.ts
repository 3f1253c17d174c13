import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpeg, runCli, streamFacts } from './helpers/media.js';
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
    // A preview starting half a second in carries the timecode of its own first frame.
    const piece = join(dir, 'hq.piece.mov');
    const preview = await colorize([input, '--start', '0.5', '--duration', '0.25', '-o', piece]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(await videoFacts(piece)).toMatchObject({ frames: 6, timecode: '01:02:03:16', reel: 'R042' });
    // The same reel rendered in resumable chunks (as a long film is) and joined keeps all of it too.
    const chunked = join(dir, 'hq.chunked.mov');
    const resumable = await colorize([input, '--chunk-seconds', '0.25', '-o', chunked]);
    expect(resumable.code, resumable.stderr).toBe(0);
    expect(resumable.summary).toMatchObject({ sourceBits: 10, outputBits: 10, frames: 24, chunks: 4 });
    expect(await videoFacts(chunked)).toMatchObject({ codecName: 'ffv1', pixelFormat: 'yuv422p10le', frames: 24, timecode: '01:02:03:04', reel: 'R042' });
    expectSameLuma((await lumaSamples(input)).samples, (await lumaSamples(chunked)).samples);
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

  it('previews (--start) and side-by-side renders work at 10 bits: exact frames, depth kept', async () => {
    const input = await source('y10-preview.mkv', ['-c:v', 'ffv1', '-level', '3', '-pix_fmt', 'yuv422p10le']);
    const piece = join(dir, 'y10-piece.mkv');
    const a = await colorize([input, '--start', '0.5', '--duration', '0.25', '-o', piece]);
    expect(a.code, a.stderr).toBe(0);
    const all = (await lumaSamples(input)).samples;
    const part = await lumaSamples(piece);
    expect(part).toMatchObject({ frames: 6, pixelFormat: 'yuv422p10le' });
    expectSameLuma(all.subarray(12 * 64 * 48, 18 * 64 * 48), part.samples);
    const sbs = join(dir, 'y10-sbs.mkv');
    const b = await colorize([input, '--side-by-side', '-o', sbs]);
    expect(b.code, b.stderr).toBe(0);
    expect(await videoFacts(sbs)).toMatchObject({ width: 128, height: 48, pixelFormat: 'yuv422p10le', frames: 24 });
    const joined = (await lumaSamples(sbs)).samples;
    // Both halves of every row are the source row.
    for (const [f, row] of [[0, 0], [23, 47]]) {
      const src = all.subarray((f * 48 + row) * 64, (f * 48 + row + 1) * 64);
      const out = joined.subarray((f * 48 + row) * 128, (f * 48 + row + 1) * 128);
      expectSameLuma(src, out.subarray(0, 64));
      expectSameLuma(src, out.subarray(64, 128));
    }
  });

  it('contact sheets work on a 10-bit film and on a 16-bit TIFF folder: a gray and a colorized thumbnail per shot', async () => {
    const sharp = (await import('sharp')).default;
    const { mkdir } = await import('node:fs/promises');
    const film = await source('y10-sheet.mkv', ['-c:v', 'ffv1', '-pix_fmt', 'yuv420p10le']);
    const folder = join(dir, 'sheet-scan');
    await mkdir(folder, { recursive: true });
    await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${SIZE}:rate=24,hue=s=0`, '-t', '0.5', '-pix_fmt', 'rgb48le', join(folder, 'scan_%04d.tif')]);
    for (const [input, name] of [[film, 'sheet10.png'], [folder, 'sheet-scan.png']]) {
      const sheet = join(dir, name);
      const result = await runCli(['shots', input, '--contact-sheet', sheet, '--colorize', '--model', model]);
      expect(result.code, result.stderr).toBe(0);
      const { data, info } = await sharp(sheet).raw().toBuffer({ resolveWithObject: true });
      const pixel = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
      const [gr, gg, gb] = pixel(6 + 96, 6 + 40);
      expect(gr === gg && gg === gb, `${name}: the gray thumbnail is gray`).toBe(true);
      const [cr, cg, cb] = pixel(6 + 192 + 2 + 96, 6 + 40);
      expect(Math.max(cr, cg, cb) - Math.min(cr, cg, cb), `${name}: the colorized thumbnail has colour`).toBeGreaterThan(3);
    }
  });

  it('memory follows bytes: a 4096x3112 16-bit 4:4:4 frame leaves room for one frame per queue at the default budget', async () => {
    const { framesWithinBudget } = await import('../src/pipeline/colorize-video.js');
    const { frameGeometry } = await import('../src/decode/frame.js');
    const { workingGeometry } = await import('../src/infer/geometry.js');
    const big = frameGeometry(4096, 3112, 'yuv444p', 16);
    expect(big.frameBytes).toBe(4096 * 3112 * 3 * 2);
    expect(framesWithinBudget(big, workingGeometry(4096, 3112, 224, 8, 4), 768 * 1024 * 1024)).toBe(1);
    const small = frameGeometry(64, 48, 'yuv420p', 10);
    expect(framesWithinBudget(small, workingGeometry(64, 48, 32, 8, 4), 768 * 1024 * 1024)).toBeGreaterThan(100);
    // Through the pipeline: a small budget shortens the queues, and they never hold more.
    const { colorizeVideo } = await import('../src/pipeline/colorize-video.js');
    const input = await source('y10-budget.mkv', ['-c:v', 'ffv1', '-level', '3', '-pix_fmt', 'yuv420p10le'], 24, 0.5);
    const budget = 150_000;
    const fit = framesWithinBudget(small, workingGeometry(64, 48, 32, 8, 4), budget);
    expect(fit).toBe(2);
    const result = await colorizeVideo({ input, output: join(dir, 'budget.mkv'), model, batchSize: 4, memoryBytes: budget });
    expect(result.queueFrames).toBe(fit);
    expect(result.queueHighWater).toBeLessThanOrEqual(3 * fit);
    expect(result.frames).toBe(12);
  });

  it('an ffmpeg (FFMPEG_PATH) that cannot write the depth is named in one line', async () => {
    const { writeFile, chmod } = await import('node:fs/promises');
    const { ffmpegPath } = await import('../src/decode/binaries.js');
    // A build whose FFV1 encoder takes 8-bit samples only, as slimmer or older builds do.
    const fake = join(dir, 'ffmpeg-8bit-ffv1.sh');
    await writeFile(fake, `#!/bin/sh\nif [ "$3" = "encoder=ffv1" ]; then echo "Encoder ffv1 [FFmpeg video codec #1]:"; echo "    Supported pixel formats: yuv420p yuv422p yuv444p gray"; exit 0; fi\nexec ${ffmpegPath()} "$@"\n`);
    await chmod(fake, 0o755);
    const input = await source('y10-fake.mkv', ['-c:v', 'ffv1', '-level', '3', '-pix_fmt', 'yuv420p10le'], 24, 0.25);
    const result = await runCli([input, '--model', model, '-o', join(dir, 'fake.mkv')], { env: { FFMPEG_PATH: fake } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/cannot write yuv420p10le with ffv1: set FFMPEG_PATH to a build that can/)]);
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
    // The same from a preview that starts just before the damage (it is found in the first moments of decoding).
    const piece = await colorize([damaged, '--start', '6', '--duration', '1', '-o', output]);
    expect(piece.code).toBe(1);
    expect(piece.stderr.trim().split('\n')).toEqual([expect.stringMatching(/is damaged at frame 150 \(0:00:06\.250\)/)]);
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

  it('batch --conceal lists the damaged range in the batch report', async () => {
    const { readFile } = await import('node:fs/promises');
    const outDir = join(dir, 'batch-out');
    const result = await runCli(['batch', damaged, '--out-dir', outDir, '--model', model, '--conceal']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(await readFile(join(outDir, 'colorize-batch-report.json'), 'utf8')) as { files: Array<{ status: string; frames: number; damagedFrames: Array<{ firstFrame: number }> }> };
    expect(report.files[0]).toMatchObject({ status: 'done', frames: 240 });
    expect(report.files[0].damagedFrames[0].firstFrame).toBe(150);
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

/** A numbered image sequence from lavfi: `count` frames starting at `start`, at `pixelFormat`. */
async function sequence(folder: string, pattern: string, pixelFormat: string, start: number, count = 12, filter = 'hue=s=0'): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  const path = join(dir, folder);
  await mkdir(path, { recursive: true });
  await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${SIZE}:rate=24,${filter}`, '-frames:v', String(count), '-pix_fmt', pixelFormat, '-start_number', String(start), join(path, pattern)]);
  return path;
}

const image2 = (start: number, fps = 24) => ['-f', 'image2', '-framerate', String(fps), '-start_number', String(start)];

describe('image sequences', () => {
  it('16-bit TIFF folder in: starts at its own first number, 16-bit luma bit-identical in lossless FFV1 at 24 fps', async () => {
    const folder = await sequence('tiff16', 'scan_%06d.tif', 'gray16le', 1001);
    const { code, stderr, summary } = await colorize([folder]);
    expect(code, stderr).toBe(0);
    const output = join(dir, 'tiff16.color.mkv');
    expect(summary).toMatchObject({ output, frames: 12, sourceBits: 16, outputBits: 16 });
    const facts = await videoFacts(output);
    expect(facts).toMatchObject({ codecName: 'ffv1', frames: 12, frameRate: '24/1' });
    const inLuma = await lumaSamples(join(folder, 'scan_%06d.tif'), image2(1001));
    expect(inLuma.frames).toBe(12);
    expectSameLuma(inLuma.samples, (await lumaSamples(output)).samples);
  });

  it('10-bit DPX RGB scan in, DPX sequence out: same numbering and count, luma within one code of the scan', async () => {
    // A scan-like sequence: R, G and B nearly (not exactly) equal.
    const folder = await sequence('dpx10', 'reel_%07d.dpx', 'gbrp10le', 86400, 12, 'hue=s=0.05');
    const { mkdir, readdir } = await import('node:fs/promises');
    const outFolder = join(dir, 'dpx10-out');
    await mkdir(outFolder);
    const { code, stderr, summary } = await colorize([join(folder, 'reel_%07d.dpx'), '--fps', '16', '-o', join(outFolder, 'color_%07d.dpx')]);
    expect(code, stderr).toBe(0);
    expect(summary).toMatchObject({ frames: 12, sourceBits: 10, outputBits: 10 });
    const names = (await readdir(outFolder)).sort();
    expect(names).toHaveLength(12);
    expect(names[0]).toBe('color_0086400.dpx');
    expect(names[11]).toBe('color_0086411.dpx');

    // Luma of the scan (BT.601 at 10 bits, full range, computed here from its R'G'B') against a lossless render's Y'.
    const mkv = join(dir, 'dpx10.mkv');
    const lossless = await colorize([join(folder, 'reel_%07d.dpx'), '-o', mkv]);
    expect(lossless.code, lossless.stderr).toBe(0);
    const rgb = await rawRgb(join(folder, 'reel_%07d.dpx'), image2(86400));
    const y = (await lumaSamples(mkv)).samples;
    expect(y.length).toBe(rgb.length / 3);
    let worst = 0;
    for (let i = 0; i < y.length; i++) {
      const [r, g, b] = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]];
      const exact = 0.299 * r + 0.587 * g + 0.114 * b;
      worst = Math.max(worst, Math.abs(y[i] - exact));
    }
    expect(worst).toBeLessThanOrEqual(1);
    // And the colored DPX frames written: their luma, computed from their R'G'B', is still the scan's.
    const colored = await rawRgb(join(outFolder, 'color_%07d.dpx'), image2(86400));
    let worstOut = 0;
    let chroma = 0;
    for (let i = 0; i < y.length; i++) {
      const scan = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
      const out = 0.299 * colored[3 * i] + 0.587 * colored[3 * i + 1] + 0.114 * colored[3 * i + 2];
      worstOut = Math.max(worstOut, Math.abs(out - scan));
      chroma += Math.abs(colored[3 * i] - colored[3 * i + 2]);
    }
    expect(worstOut).toBeLessThanOrEqual(1);
    expect(chroma / y.length, 'the output has color').toBeGreaterThan(20);
  });

  it('DPX timecode is read from the header and carried: to a video (ffprobe shows it) and to every DPX frame out, counted on', async () => {
    const { mkdir, open: openFile } = await import('node:fs/promises');
    const folder = await sequence('dpx-tc', 'tc_%04d.dpx', 'rgb48le', 1, 6);
    const first = await openFile(join(folder, 'tc_0001.dpx'), 'r+');
    const magic = Buffer.alloc(4);
    await first.read(magic, 0, 4, 0);
    const bcd = Buffer.alloc(4);
    if (magic.toString('latin1') === 'SDPX') bcd.writeUInt32BE(0x10000020);
    else bcd.writeUInt32LE(0x10000020);
    await first.write(bcd, 0, 4, 1920); // 10:00:00:20
    await first.close();
    const video = join(dir, 'dpx-tc.mov');
    const a = await colorize([folder, '-o', video]);
    expect(a.code, a.stderr).toBe(0);
    expect((await videoFacts(video)).timecode).toBe('10:00:00:20');
    const outFolder = join(dir, 'dpx-tc-out');
    await mkdir(outFolder);
    const b = await colorize([folder, '-o', join(outFolder, 'o_%04d.dpx')]);
    expect(b.code, b.stderr).toBe(0);
    const { readFile } = await import('node:fs/promises');
    const codes: string[] = [];
    for (const n of [1, 5, 6]) {
      const bytes = await readFile(join(outFolder, `o_000${n}.dpx`));
      const word = bytes.toString('latin1', 0, 4) === 'SDPX' ? bytes.readUInt32BE(1920) : bytes.readUInt32LE(1920);
      codes.push(word.toString(16).padStart(8, '0'));
    }
    // 24 fps: frame 5 after 10:00:00:20 is 10:00:01:00.
    expect(codes).toEqual(['10000020', '10000100', '10000101']);
  });

  it('batch takes a sequence folder as one film (found in a folder or given), at --fps, in lossless FFV1 at its depth, and resumes it', async () => {
    const { mkdir, readFile, rename } = await import('node:fs/promises');
    const archive = join(dir, 'archive');
    await mkdir(archive, { recursive: true });
    const folder = await sequence('archive/reel1', 'scan_%06d.tif', 'gray16le', 1001, 12);
    await source('archive/clip.mp4', ['-c:v', 'libx264', '-preset', 'ultrafast']);
    const master = await source('archive/master.mov', ['-c:v', 'prores_ks', '-profile:v', '3', '-pix_fmt', 'yuv422p10le']);
    const out = join(dir, 'archive-out');
    const run = () => runCli(['batch', archive, '--out-dir', out, '--model', model, '--fps', '16']);
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    const output = join(out, 'reel1.color.mkv');
    expect(await videoFacts(output)).toMatchObject({ codecName: 'ffv1', frames: 12, frameRate: '16/1' });
    expectSameLuma((await lumaSamples(join(folder, 'scan_%06d.tif'), image2(1001, 16))).samples, (await lumaSamples(output)).samples);
    expect(await videoFacts(join(out, 'clip.color.mp4'))).toMatchObject({ codecName: 'h264' });
    // A 10-bit master without --codec keeps its depth, as a single render does.
    expect(await videoFacts(join(out, 'master.color.mov'))).toMatchObject({ codecName: 'ffv1', pixelFormat: 'yuv422p10le' });
    expectSameLuma((await lumaSamples(master)).samples, (await lumaSamples(join(out, 'master.color.mov'))).samples);
    const report = JSON.parse(await readFile(join(out, 'colorize-batch-report.json'), 'utf8')) as { files: Array<{ input: string; status: string }> };
    expect(report.files.map((f) => [f.input, f.status])).toEqual([
      [join(archive, 'clip.mp4'), 'done'],
      [join(archive, 'master.mov'), 'done'],
      [folder, 'done'],
    ]);
    // Run again: both complete, nothing rendered.
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    const again = JSON.parse(await readFile(join(out, 'colorize-batch-report.json'), 'utf8')) as { files: Array<{ status: string }> };
    expect(again.files.map((f) => f.status)).toEqual(['skipped', 'skipped', 'skipped']);
    // The folder given by itself is one film too.
    await rename(output, `${output}.first`);
    const alone = await runCli(['batch', folder, '--out-dir', out, '--model', model, '--fps', '16']);
    expect(alone.code, alone.stderr).toBe(0);
    expect(await videoFacts(output)).toMatchObject({ frames: 12, frameRate: '16/1' });
  });

  it('a gap, frames of different sizes and an unsupported pixel format are one-line errors', async () => {
    const { rm: remove, copyFile } = await import('node:fs/promises');
    const gappy = await sequence('gappy', 'f_%04d.png', 'gray16be', 1, 6);
    await remove(join(gappy, 'f_0004.png'));
    const gap = await colorize([gappy]);
    expect(gap.code).toBe(1);
    expect(gap.stderr.trim().split('\n')).toEqual([expect.stringMatching(/has a gap: frame number 4 is missing$/)]);

    const mixed = await sequence('mixed', 'f_%04d.png', 'rgb48be', 1, 4);
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=32x24', '-frames:v', '1', '-pix_fmt', 'rgb48be', join(dir, 'small.png')]);
    await copyFile(join(dir, 'small.png'), join(mixed, 'f_0003.png'));
    const odd = await colorize([join(mixed, 'f_%04d.png')]);
    expect(odd.code).toBe(1);
    expect(odd.stderr.trim().split('\n')).toEqual([expect.stringMatching(/f_0003\.png is 32x24, the frames before it are 64x48$/)]);

    const { sourceSamples } = await import('../src/decode/pixel-format.js');
    expect(() => sourceSamples('grayf32le')).toThrow(/^unsupported pixel format grayf32le: /);
    expect(sourceSamples('gbrp10le')).toEqual({ kind: 'rgb', bits: 10, layout: 'yuv444p' });
    expect(sourceSamples('yuv422p12le')).toEqual({ kind: 'yuv', bits: 12, layout: 'yuv422p' });
  });
});

describe('frame times', () => {
  it('16, 18 and 25 fps render with exact frame times and the source duration', async () => {
    for (const rate of [16, 18, 25]) {
      const input = await source(`rate${rate}.mkv`, ['-c:v', 'ffv1', '-pix_fmt', 'yuv420p10le'], rate, 1);
      const output = join(dir, `rate${rate}.out.mkv`);
      const { code, stderr } = await colorize([input, '-o', output]);
      expect(code, stderr).toBe(0);
      const facts = await videoFacts(output);
      expect(facts.frameRate).toBe(`${rate}/1`);
      expect(facts.frames).toBe(rate);
      facts.times.forEach((t, i) => expect(Math.abs(t - i / rate), `frame ${i} at ${rate} fps`).toBeLessThanOrEqual(0.001));
    }
  });
});

describe('variable frame rate', () => {
  /** A 2 s gray clip with audio whose frames come at uneven times: 10 frames dropped after frame 9, a 1/48 s jump after frame 24. */
  async function vfrSource(): Promise<string> {
    const path = join(dir, 'vfr.mp4');
    await ffmpeg([
      '-f', 'lavfi', '-i', `testsrc2=size=${SIZE}:rate=24`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '2',
      '-vf', "hue=s=0,select='not(between(n,10,19))',setpts='PTS+if(gte(N,25),1,0)/TB/48'", '-vsync', 'vfr',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12', '-pix_fmt', 'yuv420p', '-c:a', 'aac', path,
    ]);
    return path;
  }

  it('a whole-film render keeps every frame time: MP4 and MOV exactly, Matroska to the millisecond; luma and audio kept; batch renders it whole', async () => {
    const input = await vfrSource();
    const source = await videoFacts(input);
    expect(source.frames).toBe(38);
    const gaps = source.times.slice(1).map((t, i) => t - source.times[i]);
    expect(Math.max(...gaps) - Math.min(...gaps), 'the source is uneven').toBeGreaterThan(0.3);

    // (The .mp4 with chunks short enough to make a long film resumable: a variable-rate film stays one pass.)
    for (const [name, extra] of [['vfr.out.mp4', ['--chunk-seconds', '0.25']], ['vfr.out.mov', ['--codec', 'ffv1']]] as const) {
      const output = join(dir, name);
      const { code, stderr, summary } = await colorize([input, '-o', output, ...extra]);
      expect(code, stderr).toBe(0);
      expect(summary.chunks, name).toBeNull();
      expect(stderr, 'no "evened out" warning').toBe('');
      const facts = await videoFacts(output);
      expect(facts.times, name).toEqual(source.times);
      expect((await streamFacts(output)).map((s) => s.codecType)).toContain('audio');
      if (name.endsWith('.mov')) expectSameLuma((await lumaSamples(input)).samples, (await lumaSamples(output)).samples);
    }

    // Matroska counts in milliseconds and shifts the whole film to start with its audio: the spacing is kept.
    const mkv = join(dir, 'vfr.out.mkv');
    expect((await colorize([input, '-o', mkv, '--codec', 'ffv1'])).code).toBe(0);
    const times = (await videoFacts(mkv)).times;
    expect(times.length).toBe(38);
    times.forEach((t, i) => expect(Math.abs(t - times[0] - (source.times[i] - source.times[0])), `frame ${i}`).toBeLessThanOrEqual(0.0011));

    // Batch renders a variable-rate film whole (its chunks would be found at the nominal rate).
    const outDir = join(dir, 'vfr-batch');
    const batch = await runCli(['batch', input, '--out-dir', outDir, '--model', model, '--chunk-seconds', '0.5']);
    expect(batch.code, batch.stderr).toBe(0);
    const { readdir } = await import('node:fs/promises');
    const produced = (await readdir(outDir)).filter((f) => f.endsWith('.mp4'));
    expect(produced).toHaveLength(1);
    expect((await videoFacts(join(outDir, produced[0]))).times).toEqual(source.times);
  });

  it('where frame times cannot be kept (a preview, AVI, an image sequence) one line says they are evened out', async () => {
    const input = join(dir, 'vfr.mp4');
    const preview = await colorize([input, '--start', '0.2', '--duration', '0.5', '-o', join(dir, 'vfr.piece.mp4')]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stderr.trim().split('\n')).toEqual([expect.stringMatching(/warning: .*variable frame rate: a part of the film is rendered, so .* frame times evened out/)]);
    const avi = await colorize([input, '--codec', 'ffv1', '-o', join(dir, 'vfr.avi')]);
    expect(avi.code, avi.stderr).toBe(0);
    expect(avi.stderr).toMatch(/AVI has no per-frame times/);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'vfr-frames'), { recursive: true });
    const sequence = await colorize([input, '-o', join(dir, 'vfr-frames', 'f_%04d.png')]);
    expect(sequence.code, sequence.stderr).toBe(0);
    expect(sequence.stderr).toMatch(/an image sequence has no frame times/);
  });
});

/** R'G'B' samples of every frame (interleaved, at 16-bit words, values at the source's depth for gbrp10le). */
async function rawRgb(path: string, inputArgs: string[]): Promise<Uint16Array> {
  const { execFile } = await import('node:child_process');
  const { ffmpegPath } = await import('../src/decode/binaries.js');
  const out = await new Promise<Buffer>((resolve, reject) =>
    execFile(ffmpegPath(), ['-v', 'error', ...inputArgs, '-i', path, '-f', 'rawvideo', '-pix_fmt', 'gbrp10le', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 28 }, (e, stdout) =>
      e ? reject(e) : resolve(stdout),
    ),
  );
  const plane = 64 * 48;
  const frames = out.length / (6 * plane);
  const rgb = new Uint16Array(frames * plane * 3);
  for (let f = 0; f < frames; f++) {
    const base = f * 6 * plane;
    for (let i = 0; i < plane; i++) {
      const g = out.readUInt16LE(base + 2 * i);
      const b = out.readUInt16LE(base + 2 * (plane + i));
      const r = out.readUInt16LE(base + 2 * (2 * plane + i));
      rgb.set([r, g, b], 3 * (f * plane + i));
    }
  }
  return rgb;
}
