/**
 * Temporal stability of the product's video path on the eval clips (issue #6).
 * Run: npx tsx scripts/eval-temporal.ts [--model DIR] [--seconds N] [--start S] [--strength S] [--infer-every N] [--width PX] [--videos a,b]
 *
 * --infer-every N renders the "on" version with the network on every Nth frame only (the frames between
 * carried along the flow), to measure what that costs against N = 1.
 *
 * The acceptance figures are those of the first N seconds. --start S measures the N seconds from S instead:
 * frames disjoint from the acceptance ones, used as a development split to choose settings on.
 *
 * For each clip in ../shared/datasets/eval/videos: a gray version of its first N seconds (default 10;
 * ffmpeg hue=s=0, so Y' is the original's, lossless FFV1) is colorized by colorizeVideo twice —
 * temporal stage on (default strength, or --strength) and off (temporalStrength 0) — to lossless
 * FFV1 .mkv, so compression does not blur the measurement. The outputs, the gray input and the
 * original are then decoded in lockstep, all area-scaled by ffmpeg to the same analysis size
 * (--width, default 384), and measured: E_warp (flow on the gray input), CDC (d ∈ {1, 2, 4}) on RGB as
 * specified and, reported beside it, on a*b* only, and PSNR against the original; E_warp and CDC of the original and of the
 * gray input are given for scale (the gray input's E_warp is the luminance floor that every output shares).
 * Checks (on the clip averages): E_warp reduced ≥ 40%, CDC reduced ≥ 30%, |ΔPSNR| ≤ 0.2 dB.
 * Everything derived goes to .out/temporal/; the summary to .out/eval-temporal.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { probeVideo } from '../src/decode/probe.js';
import { Colorizer } from '../src/infer/colorizer.js';
import { colorizeVideo, type ColorizeResult } from '../src/pipeline/colorize-video.js';
import { defaultModelPath } from '../src/pipeline/model-path.js';
import { CdcAccumulator, PsnrAccumulator } from '../src/temporal/metrics.js';
import { evalVideos } from './lib/eval-videos.js';
import { makeGrayClip } from './lib/gray-clip.js';
import { OUT_DIR, ScriptError, runMain } from './lib/paths.js';
import { analysisSize, lockstep, readAnalysisFrames } from './lib/video-frames.js';
import { SharedFlowWarpError } from './lib/warp-error.js';
import { change, fixed, markdownTable, sci, toJson, verdict } from './lib/table.js';
import { mean } from './lib/image-metrics.js';

const WARP_REDUCTION = 0.4;
const CDC_REDUCTION = 0.3;
const PSNR_TOLERANCE = 0.2;

interface Measures {
  eWarp: number;
  cdc: number;
  /** CDC on a*b* histograms: the chroma the pipeline decides, without the luminance it keeps. */
  cdcAb: number;
  psnr: number;
}

interface ClipResult {
  clip: string;
  frames: number;
  width: number;
  height: number;
  analysis: { width: number; height: number };
  on: Measures;
  off: Measures;
  truth: { eWarp: number; cdc: number; cdcAb: number };
  /** E_warp of the gray input: the luminance part every output shares, which no chroma can remove. */
  gray: { eWarp: number; cdc: number; psnr: number };
  warpReduction: number;
  /** Share of the chroma-caused warping error (E_warp above the gray input's) that the stage removes. */
  chromaWarpReduction: number;
  cdcReduction: number;
  cdcAbReduction: number;
  psnrDelta: number;
  temporalMsPerFrame: number;
  renderSeconds: { on: number; off: number };
  checks: { warp: boolean; cdc: boolean; psnr: boolean };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      start: { type: 'string', default: '0' },
      strength: { type: 'string' },
      'infer-every': { type: 'string', default: '1' },
      width: { type: 'string', default: '384' },
      videos: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new ScriptError(`--seconds must be a positive number, got "${values.seconds}"`);
  const start = Number(values.start);
  if (!(start >= 0)) throw new ScriptError(`--start must be a number ≥ 0, got "${values.start}"`);
  const strength = values.strength === undefined ? undefined : Number(values.strength);
  if (strength !== undefined && !(strength > 0)) throw new ScriptError(`--strength must be a positive number, got "${values.strength}"`);
  const maxWidth = Number(values.width);
  if (!Number.isInteger(maxWidth) || maxWidth < 16) throw new ScriptError(`--width must be an integer ≥ 16, got "${values.width}"`);
  const inferEvery = Number(values['infer-every']);
  if (!Number.isInteger(inferEvery) || inferEvery < 1) throw new ScriptError(`--infer-every must be an integer ≥ 1, got "${values['infer-every']}"`);
  const videos = await evalVideos(values.videos);
  const workDir = join(OUT_DIR, 'temporal');
  await mkdir(workDir, { recursive: true });
  const colorizer = await Colorizer.load(values.model ?? defaultModelPath(), 'cpu');
  console.log(`model ${colorizer.config.name} (${colorizer.config.dir}); ${seconds} s from ${start} s of ${videos.length} clips; temporal strength ${strength ?? 'default'}`);
  const results: ClipResult[] = [];
  try {
    for (const video of videos) {
      const result = await evaluateClip(video, workDir, colorizer, { start, seconds }, strength, maxWidth, inferEvery);
      results.push(result);
      printClip(result);
    }
  } finally {
    await colorizer.release();
  }
  const average = averages(results);
  console.log('\n## Averages over clips\n');
  console.log(
    markdownTable(
      ['measure', 'temporal off', 'temporal on', 'change', 'target', 'check'],
      [
        ['E_warp', sci(average.off.eWarp), sci(average.on.eWarp), change(average.off.eWarp, average.on.eWarp), '≤ -40%', verdict(average.checks.warp)],
        ['CDC', sci(average.off.cdc), sci(average.on.cdc), change(average.off.cdc, average.on.cdc), '≤ -30%', verdict(average.checks.cdc)],
        ['CDC on a*b* (reported)', sci(average.off.cdcAb), sci(average.on.cdcAb), change(average.off.cdcAb, average.on.cdcAb), '', ''],
        ['PSNR (dB)', fixed(average.off.psnr, 3), fixed(average.on.psnr, 3), signed(average.psnrDelta, 3), 'within ±0.2 dB', verdict(average.checks.psnr)],
      ],
    ),
  );
  console.log(
    `\ntruth (original color) E_warp ${sci(average.truth.eWarp)}, CDC ${sci(average.truth.cdc)}, CDC on a*b* ${sci(average.truth.cdcAb)}; ` +
      `gray input E_warp ${sci(average.gray.eWarp)}, CDC ${sci(average.gray.cdc)}, PSNR ${fixed(average.gray.psnr, 3)} dB; ` +
      `E_warp above the gray input's (chroma part) ${change(average.off.eWarp - average.gray.eWarp, average.on.eWarp - average.gray.eWarp)}; ` +
      `temporal stage ${fixed(average.temporalMsPerFrame, 2)} ms/frame`,
  );
  const pass = average.checks.warp && average.checks.cdc && average.checks.psnr;
  console.log(`issue #6 acceptance (clip averages): ${verdict(pass)}`);
  const json = join(OUT_DIR, 'eval-temporal.json');
  await writeFile(
    json,
    toJson({
      model: { name: colorizer.config.name, dir: colorizer.config.dir },
      start,
      inferEvery,
      seconds,
      strength: strength ?? 'default',
      analysisMaxWidth: maxWidth,
      pass,
      average,
      clips: results,
    }),
  );
  console.log(`wrote ${json}`);
}

async function evaluateClip(
  original: string,
  workDir: string,
  colorizer: Colorizer,
  span: { start: number; seconds: number },
  strength: number | undefined,
  maxWidth: number,
  inferEvery = 1,
): Promise<ClipResult> {
  const name = basename(original, extname(original));
  const on = join(workDir, `${name}.on.mkv`);
  const off = join(workDir, `${name}.off.mkv`);
  process.stderr.write(`${name}: gray version\n`);
  const { gray, truth } = await makeGrayClip(original, workDir, name, span);
  const render = (output: string, temporalStrength: number | undefined) => {
    process.stderr.write(`${name}: colorize, temporal ${temporalStrength === 0 ? 'off' : 'on'}\n`);
    return colorizeVideo({ input: gray, output, overwrite: true, codec: 'ffv1', audio: false, colorizer, temporalStrength, inferEvery });
  };
  const resultOn: ColorizeResult = await render(on, strength);
  const resultOff: ColorizeResult = await render(off, 0);
  const info = await probeVideo(gray);
  const frames = info.frameCount;
  if (resultOn.frames !== frames || resultOff.frames !== frames) throw new Error(`${name}: rendered ${resultOn.frames}/${resultOff.frames} frames of ${frames}`);
  const size = analysisSize(info.width, info.height, maxWidth);
  process.stderr.write(`${name}: measuring ${frames} frames at ${size.width}x${size.height}\n`);

  // Order: gray input, temporal on, temporal off, original color.
  const readers = [gray, on, off, truth].map((path) => readAnalysisFrames(path, size, frames));
  const warp = new SharedFlowWarpError(size.width, size.height, 4);
  const format = { width: size.width, height: size.height };
  const cdc = { on: new CdcAccumulator(format), off: new CdcAccumulator(format), truth: new CdcAccumulator(format), gray: new CdcAccumulator(format) };
  const abFormat = { ...format, channels: 'ab' as const };
  const cdcAb = { on: new CdcAccumulator(abFormat), off: new CdcAccumulator(abFormat), truth: new CdcAccumulator(abFormat) };
  const psnr = { on: new PsnrAccumulator(), off: new PsnrAccumulator(), gray: new PsnrAccumulator() };
  let measured = 0;
  for await (const [g, o, f, t] of lockstep(readers)) {
    warp.push(g.gray, [o.rgb, f.rgb, t.rgb, g.rgb]);
    cdc.on.push(o.rgb);
    cdc.off.push(f.rgb);
    cdc.truth.push(t.rgb);
    cdc.gray.push(g.rgb);
    cdcAb.on.push(o.rgb);
    cdcAb.off.push(f.rgb);
    cdcAb.truth.push(t.rgb);
    psnr.on.push(o.rgb, t.rgb);
    psnr.off.push(f.rgb, t.rgb);
    psnr.gray.push(g.rgb, t.rgb);
    measured++;
    if (process.stderr.isTTY && (measured % 10 === 0 || measured === frames)) process.stderr.write(`\r${name}: ${measured}/${frames}`);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (measured !== frames) throw new Error(`${name}: measured ${measured} of ${frames} frames`);
  const [warpOn, warpOff, warpTruth, warpGray] = warp.values;
  const onMeasures = { eWarp: warpOn, cdc: cdc.on.value, cdcAb: cdcAb.on.value, psnr: psnr.on.mean };
  const offMeasures = { eWarp: warpOff, cdc: cdc.off.value, cdcAb: cdcAb.off.value, psnr: psnr.off.mean };
  const warpReduction = 1 - warpOn / warpOff;
  const cdcReduction = 1 - onMeasures.cdc / offMeasures.cdc;
  const psnrDelta = onMeasures.psnr - offMeasures.psnr;
  return {
    clip: name,
    frames,
    width: info.width,
    height: info.height,
    analysis: size,
    on: onMeasures,
    off: offMeasures,
    truth: { eWarp: warpTruth, cdc: cdc.truth.value, cdcAb: cdcAb.truth.value },
    gray: { eWarp: warpGray, cdc: cdc.gray.value, psnr: psnr.gray.mean },
    warpReduction,
    chromaWarpReduction: 1 - (warpOn - warpGray) / (warpOff - warpGray),
    cdcReduction,
    cdcAbReduction: 1 - onMeasures.cdcAb / offMeasures.cdcAb,
    psnrDelta,
    temporalMsPerFrame: (1000 * resultOn.stageSeconds.temporal) / resultOn.frames,
    renderSeconds: { on: resultOn.seconds, off: resultOff.seconds },
    checks: { warp: warpReduction >= WARP_REDUCTION, cdc: cdcReduction >= CDC_REDUCTION, psnr: Math.abs(psnrDelta) <= PSNR_TOLERANCE },
  };
}

function printClip(r: ClipResult): void {
  console.log(`\n## ${r.clip} (${r.frames} frames, ${r.width}x${r.height}, measured at ${r.analysis.width}x${r.analysis.height})\n`);
  console.log(
    markdownTable(
      ['video', 'E_warp', 'CDC', 'CDC a*b*', 'PSNR (dB)'],
      [
        ['temporal off', sci(r.off.eWarp), sci(r.off.cdc), sci(r.off.cdcAb), fixed(r.off.psnr, 3)],
        ['temporal on', sci(r.on.eWarp), sci(r.on.cdc), sci(r.on.cdcAb), fixed(r.on.psnr, 3)],
        ['change on vs off', `${change(r.off.eWarp, r.on.eWarp)} ${verdict(r.checks.warp)}`, `${change(r.off.cdc, r.on.cdc)} ${verdict(r.checks.cdc)}`, change(r.off.cdcAb, r.on.cdcAb), `${signed(r.psnrDelta, 3)} ${verdict(r.checks.psnr)}`],
        ['gray input', sci(r.gray.eWarp), sci(r.gray.cdc), '', fixed(r.gray.psnr, 3)],
        ['original color (truth)', sci(r.truth.eWarp), sci(r.truth.cdc), sci(r.truth.cdcAb), ''],
      ],
    ),
  );
  console.log(`temporal stage ${fixed(r.temporalMsPerFrame, 2)} ms/frame; renders ${r.renderSeconds.on.toFixed(1)} s (on), ${r.renderSeconds.off.toFixed(1)} s (off)`);
}

function averages(results: ClipResult[]) {
  const avg = (pick: (r: ClipResult) => number) => mean(results.map(pick));
  const pick = (m: (r: ClipResult) => Measures) => ({
    eWarp: avg((r) => m(r).eWarp),
    cdc: avg((r) => m(r).cdc),
    cdcAb: avg((r) => m(r).cdcAb),
    psnr: avg((r) => m(r).psnr),
  });
  const on = pick((r) => r.on);
  const off = pick((r) => r.off);
  const grayEWarp = avg((r) => r.gray.eWarp);
  const warpReduction = 1 - on.eWarp / off.eWarp;
  const cdcReduction = 1 - on.cdc / off.cdc;
  const psnrDelta = on.psnr - off.psnr;
  return {
    clips: results.length,
    on,
    off,
    truth: { eWarp: avg((r) => r.truth.eWarp), cdc: avg((r) => r.truth.cdc), cdcAb: avg((r) => r.truth.cdcAb) },
    gray: { eWarp: grayEWarp, cdc: avg((r) => r.gray.cdc), psnr: avg((r) => r.gray.psnr) },
    warpReduction,
    chromaWarpReduction: 1 - (on.eWarp - grayEWarp) / (off.eWarp - grayEWarp),
    cdcReduction,
    cdcAbReduction: 1 - on.cdcAb / off.cdcAb,
    psnrDelta,
    temporalMsPerFrame: avg((r) => r.temporalMsPerFrame),
    checks: { warp: warpReduction >= WARP_REDUCTION, cdc: cdcReduction >= CDC_REDUCTION, psnr: Math.abs(psnrDelta) <= PSNR_TOLERANCE },
  };
}

function signed(value: number, digits: number): string {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(digits)}` : fixed(value, digits);
}

runMain(main);
