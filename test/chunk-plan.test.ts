import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planChunks } from '../src/batch/chunks.js';
import { renderFilm } from '../src/batch/film.js';
import { ffmpegPath } from '../src/decode/binaries.js';
import { probeVideo, type VideoInfo } from '../src/decode/probe.js';
import { Colorizer } from '../src/infer/colorizer.js';
import { colorizeVideo } from '../src/pipeline/colorize-video.js';
import { defaultModelPath } from '../src/pipeline/model-path.js';
import { shotsFromCuts } from '../src/shots/index.js';
import { abDifferencePerFrame } from '../scripts/lib/ab-difference.js';
import { makeClip } from './helpers/media.js';

const run = promisify(execFile);
let dir: string;
let clip: string;
let info: VideoInfo;
let colorizer: Colorizer;
let whole: string;

// The shipped model (its colours vary over the picture, so the temporal state matters) on a small,
// moving, single-shot clip: 2 s at 25 fps, split at 0.6 s chunks into three pieces.
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'chunk-plan-'));
  clip = await makeClip(path.join(dir, 'zoom.mp4'), { video: 'mandelbrot=size=160x90:rate=25', seconds: 2, gray: true });
  info = await probeVideo(clip);
  colorizer = await Colorizer.load(defaultModelPath(), 'cpu');
  whole = path.join(dir, 'whole.mkv');
  await colorizeVideo({ input: clip, output: whole, codec: 'ffv1', colorizer, resolution: 64, audio: false });
});

afterAll(async () => {
  await colorizer?.release();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function chunked(warmupSeconds: number): Promise<string> {
  const output = path.join(dir, `warmup-${warmupSeconds}`, 'zoom.mkv');
  const result = await renderFilm({
    info,
    output,
    workDir: path.join(dir, `work-${warmupSeconds}`),
    settings: { codec: 'ffv1', resolution: 64 },
    colorizer: async () => colorizer,
    chunkSeconds: 0.6,
    warmupSeconds,
  });
  expect(result).toMatchObject({ status: 'done', shots: 1, chunks: 3, frames: 50 });
  return output;
}

async function frameMd5(file: string): Promise<string[]> {
  const { stdout } = await run(ffmpegPath(), ['-v', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-']);
  return stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop()!.trim());
}

describe('pieces of a long shot', () => {
  it('with a warm-up back to the cut, equal a single run frame for frame', async () => {
    const output = await chunked(3);
    expect(await frameMd5(output)).toEqual(await frameMd5(whole));
  }, 300_000);

  it('with a shorter warm-up, come closer to a single run at the seams than without one', async () => {
    const seams = planChunks(shotsFromCuts([], 50, 25), 25, { chunkSeconds: 0.6 }).slice(1).map((c) => c.startFrame);
    expect(seams).toEqual([17, 33]);
    const none = await abDifferencePerFrame(whole, await chunked(0));
    const some = await abDifferencePerFrame(whole, await chunked(0.4));
    const atSeams = (diff: number[]) => Math.max(...seams.map((f) => diff[f]));
    // Frames before the first seam are rendered identically either way.
    expect(Math.max(...none.slice(0, 17), ...some.slice(0, 17))).toBe(0);
    expect(atSeams(none)).toBeGreaterThan(0.5);
    expect(atSeams(some)).toBeLessThan(atSeams(none));
  }, 300_000);
});
