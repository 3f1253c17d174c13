import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '../src/decode/binaries.js';
import { CutDetector, detectShots, parseShotSelection, readGrayFrames, shotsFromCuts } from '../src/shots/index.js';
import { mulberry32 } from '../scripts/lib/random.js';

const FPS = 25;

/** Source, frame count: consecutive shots of clearly different content, 160×90. */
const HARD_CUT_SEGMENTS: ReadonlyArray<readonly [string, number]> = [
  ['testsrc2=s=160x90:r=25', 30],
  ['mandelbrot=s=160x90:r=25', 40],
  ['smptebars=s=160x90:r=25', 25],
  ['color=c=gray:s=160x90:r=25,noise=alls=20:allf=t', 35],
  ['life=s=160x90:r=25:mold=10:ratio=0.3:seed=7', 30],
  ['cellauto=s=160x90:r=25:rule=110', 30],
];
const HARD_CUTS = [30, 70, 95, 130, 160];
const HARD_CUT_FRAMES = 190;

/** The same kind of edit aged: gate weave, brightness/contrast flicker and grain over everything. */
const AGED_SEGMENTS: ReadonlyArray<readonly [string, number]> = [
  ...HARD_CUT_SEGMENTS.slice(0, 4),
  ['rgbtestsrc=s=160x90:r=25', 30],
  HARD_CUT_SEGMENTS[5],
];
const AGING =
  "crop=w=160:h=90:x='8+2*sin(n*1.3)+sin(n*3.7)':y='4+2*cos(n*0.9)'," +
  "eq=brightness='0.06*sin(n*2.3)+0.04*sin(n*5.1)':contrast='1+0.08*sin(n*1.7)':eval=frame,noise=alls=8:allf=t";

/**
 * One shot that old film would make hard: gate weave, brightness/contrast flicker and
 * single-frame flashes (frames 20 and 41), fade to black, fade in on new content,
 * a one-second dissolve, grain on everything. None of it is a hard cut.
 */
const NO_CUT_GRAPH = [
  'testsrc2=s=176x99:r=25,trim=end_frame=75,setpts=PTS-STARTPTS,' +
    "crop=160:90:x='8+3*sin(n*1.3)':y='4+2*cos(n*0.7)',setsar=1,format=yuv420p," +
    "eq=brightness='if(eq(n\\,20)+eq(n\\,41)\\,0.5\\,0.07*sin(n*2.3)+0.04*sin(n*5.1))':contrast='1+0.1*sin(n*1.1)':eval=frame," +
    'fade=t=out:st=2:d=1[a]',
  "mandelbrot=s=160x90:r=25,trim=end_frame=50,setpts=PTS-STARTPTS,format=yuv420p,eq=brightness='0.06*sin(n*1.9)':eval=frame,fade=t=in:st=0:d=1[b]",
  'mandelbrot=s=160x90:r=25,trim=start_frame=50:end_frame=100,setpts=PTS-STARTPTS,format=yuv420p[c1]',
  'testsrc2=s=160x90:r=25,trim=end_frame=50,setpts=PTS-STARTPTS,format=yuv420p[c2]',
  "[c1][c2]blend=all_expr='A*max(0\\,1-N/25)+B*min(1\\,N/25)',setsar=1[c]",
  '[a][b][c]concat=n=3:v=1:a=0,noise=alls=10:allf=t[out]',
].join(';');
const NO_CUT_FRAMES = 175;

let dir: string;
let hardCutClip: string;
let noCutClip: string;
let agedClip: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'shots-test-'));
  hardCutClip = path.join(dir, 'hard-cuts.mp4');
  noCutClip = path.join(dir, 'no-cuts.mp4');
  agedClip = path.join(dir, 'aged-hard-cuts.mp4');
  await Promise.all([
    encodeClip(concatGraph(HARD_CUT_SEGMENTS, '160:90', ''), hardCutClip),
    encodeClip(NO_CUT_GRAPH, noCutClip),
    encodeClip(concatGraph(AGED_SEGMENTS, '176:99', `,${AGING}`), agedClip),
  ]);
});

function concatGraph(segments: ReadonlyArray<readonly [string, number]>, size: string, after: string): string {
  const chains = segments.map(
    ([source, frames], i) => `${source},trim=end_frame=${frames},setpts=PTS-STARTPTS,scale=${size},setsar=1,format=yuv420p[v${i}]`,
  );
  const inputs = segments.map((_, i) => `[v${i}]`).join('');
  return `${chains.join(';')};${inputs}concat=n=${segments.length}:v=1:a=0${after}[out]`;
}

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('detectShots', () => {
  it('splits a clip of different sources exactly at the cuts', async () => {
    const shots = await detectShots(hardCutClip, { fps: FPS, durationSeconds: HARD_CUT_FRAMES / FPS });
    expect(shots.slice(1).map((s) => s.startFrame)).toEqual(HARD_CUTS);
    expect(shots[0]).toEqual({ index: 0, startFrame: 0, endFrame: 30, startTime: 0, endTime: 1.2 });
    expect(shots[shots.length - 1]).toMatchObject({ index: 5, endFrame: HARD_CUT_FRAMES, endTime: 7.6 });
  });

  it('finds the same cuts under weave, flicker and grain', async () => {
    const shots = await detectShots(agedClip, { fps: FPS, durationSeconds: HARD_CUT_FRAMES / FPS });
    expect(shots.slice(1).map((s) => s.startFrame)).toEqual(HARD_CUTS);
  });

  it('finds no cut in flicker, weave, flashes, fades and a dissolve', async () => {
    const shots = await detectShots(noCutClip, { fps: FPS, durationSeconds: NO_CUT_FRAMES / FPS });
    expect(shots).toEqual([{ index: 0, startFrame: 0, endFrame: NO_CUT_FRAMES, startTime: 0, endTime: 7 }]);
  });

  it('scans from a start time with absolute frame numbers', async () => {
    const shots = await detectShots(hardCutClip, { fps: FPS, durationSeconds: HARD_CUT_FRAMES / FPS, start: 2 });
    expect(shots.map((s) => [s.startFrame, s.endFrame])).toEqual([
      [50, 70], [70, 95], [95, 130], [130, 160], [160, 190],
    ]);
    expect(shots[0].startTime).toBe(2);
  });

  it('stops after frameCount frames', async () => {
    const shots = await detectShots(hardCutClip, { fps: FPS, durationSeconds: HARD_CUT_FRAMES / FPS, frameCount: 110 });
    expect(shots.map((s) => s.startFrame)).toEqual([0, 30, 70, 95]);
    expect(shots[3]).toMatchObject({ endFrame: 110, endTime: 4.4 });
  });

  it('ends the last shot at the film duration when the scan reaches the end', async () => {
    const shots = await detectShots(hardCutClip, { fps: FPS, durationSeconds: 7.62, frameCount: HARD_CUT_FRAMES });
    expect(shots[shots.length - 1]).toMatchObject({ endFrame: HARD_CUT_FRAMES, endTime: 7.62 });
  });

  it('with views, hands each frame\'s view from the same decode, bit-identical to decoding that size alone, and finds the same cuts', async () => {
    for (const view of [{ width: 224, height: 224 }, { width: 32, height: 40 }]) {
      const seen: number[] = [];
      let views = Buffer.alloc(0);
      let lastCuts: number[] = [];
      const shots = await detectShots(agedClip, {
        fps: FPS,
        durationSeconds: HARD_CUT_FRAMES / FPS,
        start: 2,
        views: {
          ...view,
          consume: (frame, bytes, cuts) => {
            seen.push(frame);
            views = Buffer.concat([views, bytes]);
            expect(cuts.slice(0, lastCuts.length)).toEqual(lastCuts); // confirmed cuts only grow
            lastCuts = [...cuts];
          },
        },
      });
      expect(shots.slice(1).map((s) => s.startFrame)).toEqual(HARD_CUTS.slice(1));
      expect(seen).toEqual(Array.from({ length: HARD_CUT_FRAMES - 50 }, (_, k) => 50 + k));
      expect(lastCuts).toEqual(HARD_CUTS.slice(1));
      const alone: Buffer[] = [];
      for await (const frame of readGrayFrames(agedClip, { ...view, start: 49.5 / FPS })) alone.push(Buffer.from(frame));
      expect(views.equals(Buffer.concat(alone)), `${view.width}x${view.height}`).toBe(true);
    }
  });

  it('rejects with a one-line message when ffmpeg fails', async () => {
    const missing = path.join(dir, 'missing.mp4');
    const notVideo = path.join(dir, 'not-video.mp4');
    await writeFile(notVideo, 'this is not a video\n');
    for (const input of [missing, notVideo]) {
      const error = await detectShots(input, { fps: FPS, durationSeconds: 1 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      const message = (error as Error).message;
      expect(message).toContain(`ffmpeg could not decode "${input}"`);
      expect(message).not.toContain('\n');
    }
  });
});

describe('CutDetector on synthetic frames', () => {
  const width = 48;
  const height = 36;
  const pattern = (seed: number): Uint8Array => {
    const random = mulberry32(seed);
    const coarse = Array.from({ length: 12 * 9 }, () => 30 + random() * 190);
    const frame = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) frame[y * width + x] = coarse[Math.floor(y / 4) * 12 + Math.floor(x / 4)];
    }
    return frame;
  };
  const withGrain = (frame: Uint8Array, seed: number, gain = 1): Uint8Array => {
    const random = mulberry32(seed);
    return frame.map((v) => Math.max(0, Math.min(255, Math.round(v * gain + (random() - 0.5) * 12))));
  };
  const run = (frames: Uint8Array[], minShotFrames?: number): number[] => {
    const detector = new CutDetector({ width, height, fps: FPS, ...(minShotFrames ? { minShotFrames } : {}) });
    frames.forEach((frame, i) => detector.push(i, frame));
    return detector.finish();
  };
  const shot = (seed: number, length: number, gain: (i: number) => number = () => 1): Uint8Array[] =>
    Array.from({ length }, (_, i) => withGrain(pattern(seed), seed * 1000 + i, gain(i)));

  it('finds a cut between two grainy shots', () => {
    expect(run([...shot(1, 20), ...shot(2, 20)])).toEqual([20]);
  });

  it('ignores strong per-frame exposure flicker', () => {
    expect(run(shot(3, 60, (i) => (i % 2 === 0 ? 1 : 0.7) + 0.1 * Math.sin(i)))).toEqual([]);
  });

  it('skips a single-frame flash but not a cut right after it', () => {
    const flash = new Uint8Array(width * height).fill(250);
    expect(run([...shot(4, 20), flash, ...shot(4, 20)])).toEqual([]);
    expect(run([...shot(4, 20), flash, ...shot(5, 20)])).toEqual([20]);
    expect(run([...shot(4, 20), flash, flash, ...shot(4, 20)])).toEqual([]);
  });

  it('enforces the minimum shot length, also for the last shot', () => {
    expect(run([...shot(6, 20), ...shot(7, 5), ...shot(8, 20)])).toEqual([20]);
    expect(run([...shot(6, 20), ...shot(7, 5), ...shot(8, 20)], 3)).toEqual([20, 25]);
    expect(run([...shot(6, 20), ...shot(7, 5)])).toEqual([]);
    expect(run([...shot(6, 20), ...shot(7, 2)], 2)).toEqual([20]);
  });

  it('rejects frames out of order', () => {
    const detector = new CutDetector({ width, height });
    detector.push(3, pattern(1));
    expect(() => detector.push(3, pattern(1))).toThrow(/increasing order/);
    expect(() => new CutDetector({ width, height, minShotFrames: 0 })).toThrow(/invalid minShotFrames 0/);
  });
});

describe('shotsFromCuts', () => {
  it('covers every frame, end exclusive, times from the frame rate', () => {
    expect(shotsFromCuts([10, 25], 40, 10)).toEqual([
      { index: 0, startFrame: 0, endFrame: 10, startTime: 0, endTime: 1 },
      { index: 1, startFrame: 10, endFrame: 25, startTime: 1, endTime: 2.5 },
      { index: 2, startFrame: 25, endFrame: 40, startTime: 2.5, endTime: 4 },
    ]);
    expect(shotsFromCuts([], 5, 25)).toEqual([{ index: 0, startFrame: 0, endFrame: 5, startTime: 0, endTime: 0.2 }]);
    expect(shotsFromCuts([], 0, 25)).toEqual([]);
  });

  it('supports a first frame and an explicit end time', () => {
    expect(shotsFromCuts([60], 20, 10, { firstFrame: 50, endTime: 7.05 })).toEqual([
      { index: 0, startFrame: 50, endFrame: 60, startTime: 5, endTime: 6 },
      { index: 1, startFrame: 60, endFrame: 70, startTime: 6, endTime: 7.05 },
    ]);
  });

  it('rejects invalid cuts and arguments', () => {
    expect(() => shotsFromCuts([0], 10, 25)).toThrow(/invalid cut at frame 0/);
    expect(() => shotsFromCuts([5, 5], 10, 25)).toThrow(/invalid cut at frame 5/);
    expect(() => shotsFromCuts([7, 3], 10, 25)).toThrow(/invalid cut at frame 3/);
    expect(() => shotsFromCuts([10], 10, 25)).toThrow(/invalid cut at frame 10/);
    expect(() => shotsFromCuts([], 10, 0)).toThrow(/invalid fps/);
    expect(() => shotsFromCuts([], -1, 25)).toThrow(/invalid frame count/);
  });
});

describe('parseShotSelection', () => {
  it('parses numbers and ranges into sorted unique 0-based shot indices', () => {
    expect(parseShotSelection('3,5-7', 9)).toEqual([3, 5, 6, 7]);
    expect(parseShotSelection(' 7 , 0, 2 - 3,3 ', 9)).toEqual([0, 2, 3, 7]);
    expect(parseShotSelection('8', 9)).toEqual([8]);
  });

  it('explains malformed lists', () => {
    expect(() => parseShotSelection('', 9)).toThrow('empty shot list');
    expect(() => parseShotSelection('3,,4', 9)).toThrow('invalid shot list entry ""');
    expect(() => parseShotSelection('a', 9)).toThrow('invalid shot list entry "a"');
    expect(() => parseShotSelection('5-', 9)).toThrow('invalid shot list entry "5-"');
    expect(() => parseShotSelection('-2', 9)).toThrow('invalid shot list entry "-2"');
    expect(() => parseShotSelection('1.5', 9)).toThrow('invalid shot list entry "1.5"');
    expect(() => parseShotSelection('7-5', 9)).toThrow('invalid shot range "7-5": 7 is after 5');
  });

  it('names out-of-range shots and the valid range', () => {
    expect(() => parseShotSelection('12', 9)).toThrow('shot 12 is out of range: the film has 9 shots (0-8)');
    expect(() => parseShotSelection('9', 9)).toThrow('shot 9 is out of range: the film has 9 shots (0-8)');
    expect(() => parseShotSelection('0-20', 9)).toThrow('shot 20 is out of range');
    expect(() => parseShotSelection('1', 1)).toThrow('shot 1 is out of range: the film has 1 shot (0)');
  });
});

function encodeClip(graph: string, output: string): Promise<void> {
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-filter_complex', graph, '-map', '[out]',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '10', '-pix_fmt', 'yuv420p', output];
  return new Promise((resolve, reject) => {
    const ffmpeg = spawn(ffmpegPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    ffmpeg.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    ffmpeg.once('error', reject);
    ffmpeg.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed to build ${output}: ${stderr}`))));
  });
}

