import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpeg, makeClip } from './helpers/media.js';
import { writeTestModel } from './helpers/test-models.js';

const run = promisify(execFile);
let dir: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-memory-'));
  model = await writeTestModel(join(dir, 'model'), { a: 15, b: 15, workingShortSide: 64 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Renders in a fresh Node process and returns its peak resident memory in MiB. */
async function peakMemoryOfRender(
  clip: string,
  output = `${clip}.out.mp4`,
): Promise<{ peakMiB: number; frames: number; queueHighWater: number; queueFrames: number; outputBits: number }> {
  const script = join(dir, 'render.mjs');
  const entry = resolve('dist/src/pipeline/index.js');
  await writeFile(
    script,
    `import { colorizeVideo } from ${JSON.stringify(entry)};
const r = await colorizeVideo({ input: process.argv[2], output: process.argv[3], overwrite: true, model: process.argv[4], preset: 'ultrafast', temporalStrength: 0.8 });
console.log(JSON.stringify({ peakMiB: process.resourceUsage().maxRSS / 1024, frames: r.frames, queueHighWater: r.queueHighWater, queueFrames: r.queueFrames, outputBits: r.outputBits }));`,
  );
  const { stdout } = await run(process.execPath, [script, clip, output, model], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('memory', () => {
  it('stays flat whatever the film length (3,000 frames at 640x360 vs 150)', async () => {
    const short = await makeClip(join(dir, 'short.mp4'), { video: 'testsrc2=size=640x360:rate=25', seconds: 6, audioHz: 300 });
    const long = await makeClip(join(dir, 'long.mp4'), { video: 'testsrc2=size=640x360:rate=25', seconds: 120, audioHz: 300 });
    const a = await peakMemoryOfRender(short);
    const b = await peakMemoryOfRender(long);
    expect(a.frames).toBe(150);
    expect(b.frames).toBe(3000);
    // Frames in flight never exceed the inter-stage queues (2 x 8, plus 2 per compose worker, at most 6 workers).
    expect(b.queueHighWater).toBeLessThanOrEqual(16 + 2 * 6);
    // 20x the frames, (almost) the same peak: growth would show as hundreds of MiB (each frame is 337 KiB + float planes).
    expect(b.peakMiB).toBeLessThan(a.peakMiB + 60);
    expect(b.peakMiB).toBeLessThan(700);
  }, 600_000);

  it('a 4096x3112 16-bit RGB scan sequence renders at 16 bits within the stated bound (2.5 GiB peak resident), one frame per queue', async () => {
    // Black-and-white film scans: R = G = B, 76 MB per frame.
    const folder = join(dir, 'scan4k');
    await mkdir(folder);
    await ffmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=size=4096x3112:rate=24,hue=s=0,format=rgb48le',
      '-frames:v', '5', '-start_number', '1', join(folder, 'scan_%06d.tif'),
    ]);
    const r = await peakMemoryOfRender(folder, join(dir, 'scan4k.mkv'));
    expect(r.frames).toBe(5);
    expect(r.outputBits).toBe(16);
    expect(r.queueFrames).toBe(1);
    expect(r.peakMiB).toBeLessThan(2560);
  }, 600_000);
});
