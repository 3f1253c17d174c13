/**
 * Measures hard-cut detection on a clip assembled from the eval videos with cuts at
 * known frames. Run: npx tsx scripts/eval-shots.ts [--segments N] [--seed S] [--keep DIR] [--jump-cuts]
 * (--keep leaves the assembled clips in DIR instead of a deleted temp folder; --jump-cuts
 * lets neighbouring segments come from the same video, i.e. jump cuts within one scene).
 *
 * Two variants of the same edit are scored: "clean" and "aged" (brightness flicker,
 * gate weave and grain over the whole clip, as in old film, plus 1- and 2-frame
 * flashes in the middle of some shots, which must not count as cuts).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ffmpegPath, ffprobePath } from '../src/decode/binaries.js';
import { detectShots } from '../src/shots/index.js';
import { mulberry32 } from './lib/random.js';

const FPS = 25;
const WIDTH = 320;
const HEIGHT = 180;
const VIDEO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/datasets/eval/videos');

interface Segment {
  file: string;
  offset: number;
  frames: number;
}

interface Score {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

function agingFilter(flashFrames: number[]): string {
  const isFlash = flashFrames.map((frame) => `eq(n,${frame})`).join('+') || '0';
  return (
    "crop=w=iw-16:h=ih-10:x='8+3*sin(n*1.3)+2*sin(n*3.7)':y='5+2*cos(n*0.9)'," +
    `scale=${WIDTH}:${HEIGHT},` +
    `eq=brightness='if(${isFlash},0.45,0.06*sin(n*2.3)+0.04*sin(n*5.1))':contrast='1+0.08*sin(n*1.7)':eval=frame,` +
    'noise=alls=14:allf=t'
  );
}

/** Mid-shot flashes in every third segment: one frame long, two frames in every sixth. */
function flashFrames(segments: Segment[]): number[] {
  const frames: number[] = [];
  let start = 0;
  segments.forEach((segment, i) => {
    const middle = start + Math.floor(segment.frames / 2);
    if (i % 3 === 1) frames.push(middle);
    if (i % 6 === 1) frames.push(middle + 1);
    start += segment.frames;
  });
  return frames;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { segments: { type: 'string', default: '24' }, seed: { type: 'string', default: '5' }, keep: { type: 'string' }, 'jump-cuts': { type: 'boolean', default: false } } });
  const segmentCount = Number(values.segments);
  const videos = await listVideos();
  const durations = await Promise.all(videos.map(probeDuration));
  const segments = planSegments(videos, durations, segmentCount, Number(values.seed), values['jump-cuts']);
  const truth = cutFrames(segments);
  const totalFrames = segments.reduce((sum, s) => sum + s.frames, 0);
  const flashes = flashFrames(segments);
  const jumpCuts = new Set(truth.filter((_, i) => segments[i].file === segments[i + 1].file));
  console.log(`${segments.length} segments from ${videos.length} videos, ${totalFrames} frames at ${FPS} fps, ${truth.length} cuts`);
  console.log(`aged variant: flash frames ${flashes.join(', ')}`);
  if (jumpCuts.size > 0) console.log(`jump cuts (same video on both sides): ${[...jumpCuts].join(', ')}`);

  const dir = values.keep ? path.resolve(values.keep) : await mkdtemp(path.join(tmpdir(), 'eval-shots-'));
  if (values.keep) await mkdir(dir, { recursive: true });
  try {
    for (const [name, aging] of [['clean', ''], ['aged', agingFilter(flashes)]] as const) {
      const clip = path.join(dir, `${name}.mp4`);
      await assembleClip(segments, aging, clip);
      const started = performance.now();
      const shots = await detectShots(clip, { fps: FPS, durationSeconds: totalFrames / FPS });
      const seconds = (performance.now() - started) / 1000;
      const decoded = shots[shots.length - 1].endFrame;
      if (decoded !== totalFrames) throw new Error(`${name}: decoded ${decoded} frames, expected ${totalFrames}`);
      const found = shots.slice(1).map((shot) => shot.startFrame);
      console.log(`\n${name}: ${found.length} cuts found in ${seconds.toFixed(1)} s`);
      report('frame-exact', score(truth, found, 0));
      report('within ±1 frame', score(truth, found, 1));
      const missed = truth.filter((cut) => !found.some((f) => Math.abs(f - cut) <= 1));
      const invented = found.filter((f) => !truth.some((cut) => Math.abs(f - cut) <= 1));
      if (missed.length > 0) console.log(`  missed: ${missed.map((cut) => (jumpCuts.has(cut) ? `${cut} (jump cut)` : cut)).join(', ')}`);
      if (invented.length > 0) console.log(`  invented: ${invented.join(', ')}`);
      if (values.keep) console.log(`  clip: ${clip}; true cuts: ${truth.join(',')}`);
    }
  } finally {
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }
}

async function listVideos(): Promise<string[]> {
  if (!existsSync(VIDEO_DIR)) throw new Error(`eval videos not found: ${VIDEO_DIR} does not exist`);
  const files = (await readdir(VIDEO_DIR)).filter((name) => name.endsWith('.mp4')).sort();
  if (files.length < 2) throw new Error(`need at least 2 .mp4 files in ${VIDEO_DIR}, found ${files.length}`);
  return files.map((name) => path.join(VIDEO_DIR, name));
}

/** Segments of 1.5–4 s at random offsets; neighbours come from different videos unless `jumpCuts`. */
function planSegments(videos: string[], durations: number[], count: number, seed: number, jumpCuts: boolean): Segment[] {
  const random = mulberry32(seed);
  const segments: Segment[] = [];
  let previous = -1;
  for (let i = 0; i < count; i++) {
    let video = Math.floor(random() * videos.length);
    if (video === previous && !jumpCuts) video = (video + 1) % videos.length;
    previous = video;
    const seconds = 1.5 + random() * 2.5;
    const offset = random() * Math.max(0, durations[video] - seconds - 1);
    segments.push({ file: videos[video], offset: Math.round(offset * 100) / 100, frames: Math.round(seconds * FPS) });
  }
  return segments;
}

function cutFrames(segments: Segment[]): number[] {
  const cuts: number[] = [];
  let frame = 0;
  for (const segment of segments.slice(0, -1)) {
    frame += segment.frames;
    cuts.push(frame);
  }
  return cuts;
}

async function assembleClip(segments: Segment[], aging: string, output: string): Promise<void> {
  const inputs = segments.flatMap((s) => ['-ss', String(s.offset), '-t', String(s.frames / FPS + 1), '-i', s.file]);
  const chains = segments.map(
    (s, i) =>
      `[${i}:v]fps=${FPS},scale=${WIDTH}:${HEIGHT},setsar=1,format=gray,trim=end_frame=${s.frames},setpts=PTS-STARTPTS[s${i}]`,
  );
  const joined = segments.map((_, i) => `[s${i}]`).join('');
  const after = aging ? `,${aging}` : '';
  const graph = `${chains.join(';')};${joined}concat=n=${segments.length}:v=1:a=0${after},format=yuv420p[out]`;
  await run(ffmpegPath(), [
    '-hide_banner', '-nostdin', '-v', 'error', '-y', ...inputs,
    '-filter_complex', graph, '-map', '[out]',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16', output,
  ]);
}

async function probeDuration(file: string): Promise<number> {
  const text = await run(ffprobePath(), ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  const seconds = Number(text.trim());
  if (!(seconds > 0)) throw new Error(`could not read the duration of ${file}`);
  return seconds;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${path.basename(command)} failed: ${stderr.trim().split('\n').pop() ?? code}`)),
    );
  });
}

/** Greedy one-to-one matching of found cuts to true cuts within `tolerance` frames. */
function score(truth: number[], found: number[], tolerance: number): Score {
  const unmatched = new Set(found);
  let truePositives = 0;
  for (const cut of truth) {
    const match = [...unmatched].find((f) => Math.abs(f - cut) <= tolerance);
    if (match !== undefined) {
      unmatched.delete(match);
      truePositives++;
    }
  }
  return { truePositives, falsePositives: unmatched.size, falseNegatives: truth.length - truePositives };
}

function report(label: string, { truePositives, falsePositives, falseNegatives }: Score): void {
  const precision = truePositives / Math.max(1, truePositives + falsePositives);
  const recall = truePositives / Math.max(1, truePositives + falseNegatives);
  console.log(
    `  ${label.padEnd(16)} precision ${precision.toFixed(3)}  recall ${recall.toFixed(3)}  ` +
      `(TP ${truePositives}, FP ${falsePositives}, FN ${falseNegatives})`,
  );
}

main().catch((error: unknown) => {
  console.error(`eval-shots: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
