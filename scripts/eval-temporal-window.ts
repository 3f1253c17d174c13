/**
 * Does the temporal stage need a bidirectional window (look-ahead) to avoid lag and colour trails?
 * Run: npx tsx scripts/eval-temporal-window.ts [--model DIR] [--seconds N] [--start S] [--lookahead K,...] [--videos a,b]
 *
 * Measured on the model's own a*b* grid, for the first N seconds (or N from S) of each eval clip:
 * the truth's L* (area-scaled to the working size) is colorized frame by frame, and the predicted
 * a*b* is smoothed in several ways:
 *   - off:       the prediction as is;
 *   - causal:    TemporalSmoother, as the pipeline runs it (only past frames);
 *   - window K:  the causal output averaged with a backward pass over the next K frames (a fresh
 *                smoother run from frame t+K back to t): what a streaming look-ahead of K frames can do;
 *   - two-pass:  causal forward pass averaged with a causal backward pass over the whole clip (the
 *                offline upper bound of any window).
 * Reported: a*b* RMSE against the truth's a*b* on the same grid (lag and trails raise it) and
 * E_warp on a*b* (SharedFlowWarpError, as in scripts/eval-temporal.ts, on the gray grid).
 * Each clip is taken as one shot (the three clips have no cuts).
 */
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { srgbToLab } from '../src/color/lab.js';
import { resizeArea } from '../src/color/resample.js';
import { probeVideo } from '../src/decode/probe.js';
import { Colorizer } from '../src/infer/colorizer.js';
import { workingGeometry } from '../src/infer/geometry.js';
import { defaultModelPath } from '../src/pipeline/model-path.js';
import { DEFAULT_TEMPORAL_STRENGTH, TemporalSmoother } from '../src/temporal/smoother.js';
import { mean } from './lib/image-metrics.js';
import { evalVideos } from './lib/eval-videos.js';
import { ScriptError, runMain } from './lib/paths.js';
import { fixed, markdownTable, sci } from './lib/table.js';
import { readAnalysisFrames } from './lib/video-frames.js';
import { SharedFlowWarpError } from './lib/warp-error.js';

interface Clip {
  name: string;
  gridWidth: number;
  gridHeight: number;
  /** Per frame: L* on the grid, predicted a*b*, truth a*b* (planar). */
  luma: Float32Array[];
  predicted: Float32Array[];
  truth: Float32Array[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      start: { type: 'string', default: '0' },
      lookahead: { type: 'string', default: '2,4,8' },
      videos: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const start = Number(values.start);
  if (!(seconds > 0) || !(start >= 0)) throw new ScriptError('--seconds must be > 0 and --start ≥ 0');
  const lookaheads = values.lookahead.split(',').map(Number);
  if (lookaheads.some((k) => !Number.isInteger(k) || k < 1)) throw new ScriptError(`--lookahead takes positive integers, got "${values.lookahead}"`);
  const videos = await evalVideos(values.videos);

  const colorizer = await Colorizer.load(values.model ?? defaultModelPath(), 'cpu');
  const variants = ['off', 'causal', ...lookaheads.map((k) => `window ${k}`), 'two-pass'];
  const rows: Record<string, { rmse: number[]; eWarp: number[] }> = Object.fromEntries(variants.map((v) => [v, { rmse: [], eWarp: [] }]));
  try {
    for (const video of videos) {
      const clip = await predictClip(video, colorizer, start, seconds);
      const forward = causal(clip);
      const outputs: Record<string, Float32Array[]> = {
        off: clip.predicted,
        causal: forward,
        ...Object.fromEntries(lookaheads.map((k) => [`window ${k}`, withLookahead(clip, forward, k)])),
        'two-pass': twoPass(clip, forward),
      };
      // One flow per frame pair for every variant and the truth (the last video).
      const warp = new SharedFlowWarpError(clip.gridWidth, clip.gridHeight, variants.length + 1, 2);
      clip.luma.forEach((luma, t) => warp.push(luma, [...variants.map((v) => outputs[v][t]), clip.truth[t]]));
      const eWarps = warp.values;
      console.log(`\n## ${clip.name} (${clip.predicted.length} frames, a*b* grid ${clip.gridWidth}x${clip.gridHeight})\n`);
      const table: string[][] = [];
      variants.forEach((variant, v) => {
        const rmse = abRmse(outputs[variant], clip.truth);
        rows[variant].rmse.push(rmse);
        rows[variant].eWarp.push(eWarps[v]);
        table.push([variant, fixed(rmse, 3), sci(eWarps[v])]);
      });
      table.push(['truth', '', sci(eWarps[variants.length])]);
      console.log(markdownTable(['a*b*', 'RMSE vs truth', 'E_warp on a*b*'], table));
    }
  } finally {
    await colorizer.release();
  }
  console.log('\n## Mean over clips\n');
  console.log(markdownTable(['a*b*', 'RMSE vs truth', 'E_warp on a*b*'], variants.map((v) => [v, fixed(mean(rows[v].rmse), 3), sci(mean(rows[v].eWarp))])));
}

async function predictClip(path: string, colorizer: Colorizer, start: number, seconds: number): Promise<Clip> {
  const info = await probeVideo(path);
  const { local, global } = colorizer.config;
  const working = workingGeometry(info.width, info.height, local.workingShortSide, local.multipleOf, local.outputStride);
  const { width, height, gridWidth, gridHeight } = working;
  const frames = Math.floor(seconds * info.fps);
  const firstFrame = Math.round(start * info.fps);
  const clip: Clip = { name: basename(path, extname(path)), gridWidth, gridHeight, luma: [], predicted: [], truth: [] };
  const pending: Float32Array[] = [];
  let globalFeatures: Float32Array | undefined;
  let index = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    if (!globalFeatures) globalFeatures = await colorizer.globalFeatures([resizeArea(pending[0], width, height, global.size, global.size)]);
    const abs = await colorizer.colorize(pending, width, height, pending.map(() => globalFeatures as Float32Array));
    clip.predicted.push(...abs);
    pending.length = 0;
  };
  process.stderr.write(`${clip.name}: colorizing ${frames} frames at ${width}x${height}\n`);
  for await (const frame of readAnalysisFrames(path, { width, height }, firstFrame + frames)) {
    if (index++ < firstFrame) continue;
    const pixels = width * height;
    const l = new Float32Array(pixels);
    const a = new Float32Array(pixels);
    const b = new Float32Array(pixels);
    for (let i = 0; i < pixels; i++) [l[i], a[i], b[i]] = srgbToLab(frame.rgb[i], frame.rgb[pixels + i], frame.rgb[2 * pixels + i]);
    const grid = gridWidth * gridHeight;
    const truth = new Float32Array(2 * grid);
    truth.set(resizeArea(a, width, height, gridWidth, gridHeight), 0);
    truth.set(resizeArea(b, width, height, gridWidth, gridHeight), grid);
    clip.truth.push(truth);
    clip.luma.push(resizeArea(l, width, height, gridWidth, gridHeight));
    pending.push(l);
    if (pending.length === 4) await flush();
  }
  await flush();
  return clip;
}

function causal(clip: Clip): Float32Array[] {
  const smoother = new TemporalSmoother(clip.gridWidth, clip.gridHeight, { strength: DEFAULT_TEMPORAL_STRENGTH });
  return clip.predicted.map((ab, t) => smoother.process(clip.luma[t], ab));
}

function backwardFrom(clip: Clip, last: number, first: number): Float32Array {
  const smoother = new TemporalSmoother(clip.gridWidth, clip.gridHeight, { strength: DEFAULT_TEMPORAL_STRENGTH });
  let out = clip.predicted[last];
  for (let t = last; t >= first; t--) out = smoother.process(clip.luma[t], clip.predicted[t]);
  return out;
}

function average(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = 0.5 * (a[i] + b[i]);
  return out;
}

function withLookahead(clip: Clip, forward: Float32Array[], k: number): Float32Array[] {
  const n = clip.predicted.length;
  return forward.map((f, t) => average(f, backwardFrom(clip, Math.min(n - 1, t + k), t)));
}

function twoPass(clip: Clip, forward: Float32Array[]): Float32Array[] {
  const smoother = new TemporalSmoother(clip.gridWidth, clip.gridHeight, { strength: DEFAULT_TEMPORAL_STRENGTH });
  const backward: Float32Array[] = [];
  for (let t = clip.predicted.length - 1; t >= 0; t--) backward[t] = smoother.process(clip.luma[t], clip.predicted[t]);
  return forward.map((f, t) => average(f, backward[t]));
}

function abRmse(outputs: Float32Array[], truth: Float32Array[]): number {
  let sum = 0;
  let count = 0;
  outputs.forEach((ab, t) => {
    for (let i = 0; i < ab.length; i++) sum += (ab[i] - truth[t][i]) ** 2;
    count += ab.length / 2;
  });
  return Math.sqrt(sum / count);
}

runMain(main);
