/**
 * Color quality on the eval clips, colorized through the CLI as a user runs it (issue #12).
 * Run: npm run build && npx tsx scripts/eval-clips.ts [--model DIR] [--previous DIR] [--seconds N] [--width PX] [--videos a,b] [--infer-every N]
 *
 * For each clip in ../shared/datasets/eval/videos: a gray version of its first N seconds (default 10;
 * see scripts/lib/gray-clip.ts) is colorized by `node bin/colorize-video.js … --codec ffv1` (default
 * settings otherwise), then the output, the gray input and the original are decoded in lockstep at the
 * analysis size (--width, default 384) and measured: mean per-frame PSNR against the original, mean
 * colorfulness (Hasler & Süsstrunk) of ours and of the truth, and the class-balanced hue recall pooled
 * over the clip. Checks per clip: PSNR ≥ gray + 0.5 dB, colorfulness ≥ 0.7 × truth, hue recall ≥ 0.65.
 * --previous DIR renders and measures a second model beside it. Summary: .out/eval-clips.json.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { probeVideo } from '../src/decode/probe.js';
import { defaultModelPath } from '../src/pipeline/model-path.js';
import { PsnrAccumulator } from '../src/temporal/metrics.js';
import { evalVideos } from './lib/eval-videos.js';
import { makeGrayClip } from './lib/gray-clip.js';
import { formatSector, HUE_SECTOR_NAMES, HueRecall, type HueSector } from './lib/hue-recall.js';
import { colorfulness, mean } from './lib/image-metrics.js';
import { OUT_DIR, PROJECT_ROOT, ScriptError, runMain } from './lib/paths.js';
import { fixed, markdownTable, toJson, verdict } from './lib/table.js';
import { analysisSize, lockstep, readAnalysisFrames } from './lib/video-frames.js';

const PSNR_MARGIN = 0.5;
const COLORFULNESS_RATIO = 0.7;
const HUE_RECALL_MIN = 0.65;

interface Measures {
  psnr: number;
  colorfulness: number;
  hueRecall: number;
  hueSectors: HueSector[];
}

interface ClipResult {
  clip: string;
  frames: number;
  models: Record<string, Measures>;
  gray: { psnr: number };
  truth: { colorfulness: number };
  checks: { psnr: boolean; colorfulness: boolean; hueRecall: boolean };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      previous: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      width: { type: 'string', default: '384' },
      'infer-every': { type: 'string' },
      videos: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new ScriptError(`--seconds must be a positive number, got "${values.seconds}"`);
  const maxWidth = Number(values.width);
  if (!Number.isInteger(maxWidth) || maxWidth < 16) throw new ScriptError(`--width must be an integer ≥ 16, got "${values.width}"`);
  const cli = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(cli)) throw new ScriptError('the CLI is not built: run `npm run build` first');
  const models: Record<string, string> = { ours: resolve(values.model ?? defaultModelPath()) };
  if (values.previous) models.previous = resolve(values.previous);
  const videos = await evalVideos(values.videos);
  const workDir = join(OUT_DIR, 'clips');
  await mkdir(workDir, { recursive: true });
  console.log(`models ${Object.entries(models).map(([k, v]) => `${k}=${v}`).join(', ')}; first ${seconds} s of ${videos.length} clips`);
  const results: ClipResult[] = [];
  for (const video of videos) results.push(await evaluateClip(video, workDir, models, seconds, maxWidth, values['infer-every']));
  const names = Object.keys(models);
  const rows = results.flatMap((r) =>
    names.map((m) => [
      r.clip,
      m,
      fixed(r.models[m].psnr, 2),
      fixed(r.gray.psnr, 2),
      fixed(r.models[m].psnr - r.gray.psnr, 2),
      fixed(r.models[m].colorfulness / r.truth.colorfulness, 2),
      fixed(r.models[m].hueRecall, 2),
      m === 'ours' ? verdict(r.checks.psnr && r.checks.colorfulness && r.checks.hueRecall) : '',
    ]),
  );
  console.log();
  console.log(markdownTable(['clip', 'model', 'PSNR', 'PSNR gray', 'ΔPSNR', 'CF / truth', 'hue recall', 'checks'], rows));
  const pass = results.every((r) => r.checks.psnr && r.checks.colorfulness && r.checks.hueRecall);
  const avg = (m: string, pick: (x: Measures) => number) => mean(results.map((r) => pick(r.models[m])));
  for (const m of names) {
    console.log(
      `${m}: mean ΔPSNR ${fixed(avg(m, (x) => x.psnr) - mean(results.map((r) => r.gray.psnr)), 2)} dB, ` +
        `CF/truth ${fixed(mean(results.map((r) => r.models[m].colorfulness / r.truth.colorfulness)), 2)}, hue recall ${fixed(avg(m, (x) => x.hueRecall), 2)}`,
    );
  }
  console.log('\nhue recall per sector of the true hue (share of the scored pixels in brackets):');
  console.log(markdownTable(['clip', 'model', ...HUE_SECTOR_NAMES], results.flatMap((r) => names.map((m) => [r.clip, m, ...r.models[m].hueSectors.map(formatSector)]))));
  console.log(`acceptance (#12, every clip): ${verdict(pass)}`);
  const json = join(OUT_DIR, 'eval-clips.json');
  await writeFile(json, toJson({ models, seconds, analysisMaxWidth: maxWidth, pass, clips: results }));
  console.log(`wrote ${json}`);
}

async function evaluateClip(original: string, workDir: string, models: Record<string, string>, seconds: number, maxWidth: number, inferEvery?: string): Promise<ClipResult> {
  const name = basename(original, extname(original));
  process.stderr.write(`${name}: gray version\n`);
  const { gray, truth } = await makeGrayClip(original, workDir, name, { start: 0, seconds });
  const outputs: string[] = [];
  for (const [label, dir] of Object.entries(models)) {
    const output = join(workDir, `${name}.${label}.mkv`);
    process.stderr.write(`${name}: colorize-video (${label})\n`);
    await runCli([gray, '-o', output, '--codec', 'ffv1', '--model', dir, '--overwrite', '--json', ...(inferEvery ? ['--infer-every', inferEvery] : [])]);
    outputs.push(output);
  }
  const info = await probeVideo(gray);
  const frames = info.frameCount;
  const size = analysisSize(info.width, info.height, maxWidth);
  const readers = [gray, truth, ...outputs].map((path) => readAnalysisFrames(path, size, frames));
  const labels = Object.keys(models);
  const psnr = labels.map(() => new PsnrAccumulator());
  const hue = labels.map(() => new HueRecall());
  const cf: number[][] = labels.map(() => []);
  const grayPsnr = new PsnrAccumulator();
  const truthCf: number[] = [];
  for await (const [g, t, ...outs] of lockstep(readers)) {
    grayPsnr.push(g.rgb, t.rgb);
    truthCf.push(colorfulness(toRgb8(t.rgb)));
    outs.forEach((o, k) => {
      psnr[k].push(o.rgb, t.rgb);
      hue[k].addPlanarRgb(o.rgb, t.rgb);
      cf[k].push(colorfulness(toRgb8(o.rgb)));
    });
  }
  const result: ClipResult = {
    clip: name,
    frames,
    models: Object.fromEntries(labels.map((m, k) => [m, { psnr: psnr[k].mean, colorfulness: mean(cf[k]), hueRecall: hue[k].value, hueSectors: hue[k].sectors }])),
    gray: { psnr: grayPsnr.mean },
    truth: { colorfulness: mean(truthCf) },
    checks: { psnr: false, colorfulness: false, hueRecall: false },
  };
  const ours = result.models.ours;
  result.checks = {
    psnr: ours.psnr >= result.gray.psnr + PSNR_MARGIN,
    colorfulness: ours.colorfulness >= COLORFULNESS_RATIO * result.truth.colorfulness,
    hueRecall: ours.hueRecall >= HUE_RECALL_MIN,
  };
  return result;
}

/** Planar R'G'B' in [0, 1] -> interleaved 8-bit. */
function toRgb8(planar: Float32Array): Uint8Array {
  const n = planar.length / 3;
  const out = new Uint8Array(planar.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round(255 * Math.min(1, Math.max(0, planar[c * n + i])));
  return out;
}

function runCli(args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'colorize-video.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolvePromise();
      else reject(new ScriptError(`colorize-video failed (${code}): ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
}

runMain(main);
