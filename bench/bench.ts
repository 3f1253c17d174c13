/**
 * End-to-end speed: frames per second of `colorizeVideo` with a per-stage breakdown, against a
 * plain ffmpeg transcode of the same clip with the same encoder settings, measured in the same
 * run (the ratio is what to compare across machines; absolute figures move with load).
 * `npm run bench` compiles and runs this as dist/bench/bench.js, the code a user runs: from the
 * TypeScript sources (tsx) every worker thread loads the TypeScript loader too, which cost 6-9 %
 * more CPU at 480p (2026-12-02).
 *
 *   npm run bench -- [--device auto|cpu|webgpu|cuda] [--seconds 10] [--sizes 854x480,1920x1080] [--model DIR]
 *                    [--batch-size N (default: the device's)] [--infer-threads N] [--infer-workers N] [--no-int8] [--infer-every N] [--repeat N] [--end-to-end] [--batches 1,2,4,8]
 *                    [--json] [--out FILE]
 *
 * --end-to-end also times the command as a user runs it (`node bin/colorize-video.js`, needs
 * `npm run build`: process start, probe, shot scan and model load included) on the same clip.
 * --batches times the local network alone per batch size at each clip's working size and names
 * the fastest per frame (--only-batches: that alone, no clips). --json prints only the JSON document (also written to --out,
 * default .out/bench.json).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { ffmpegPath } from '../src/decode/binaries.js';
import { probeVideo } from '../src/decode/probe.js';
import { colorizeVideo, type ColorizeResult } from '../src/pipeline/colorize-video.js';
import { defaultModelPath } from '../src/pipeline/model-path.js';
import { Colorizer } from '../src/infer/colorizer.js';
import { workingGeometry } from '../src/infer/geometry.js';
import type { DeviceRequest } from '../src/infer/device.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
/** The project root, whether this runs from bench/bench.ts or compiled as dist/bench/bench.js. */
const root = here.endsWith(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'auto' },
    // 10 s clips: on 4 s ones the one-off start (shot scan, model load, filling the pipeline) is a
    // fifth of the run and the ratio swings with it (README, Performance).
    seconds: { type: 'string', default: '10' },
    sizes: { type: 'string', default: '854x480,1920x1080' },
    model: { type: 'string' },
    'batch-size': { type: 'string' },
    'infer-threads': { type: 'string' },
    'infer-workers': { type: 'string' },
    'no-int8': { type: 'boolean', default: false },
    'infer-every': { type: 'string' },
    preset: { type: 'string', default: 'medium' },
    crf: { type: 'string', default: '18' },
    repeat: { type: 'string', default: '1' },
    'end-to-end': { type: 'boolean', default: false },
    batches: { type: 'string' },
    'only-batches': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    out: { type: 'string', default: '.out/bench.json' },
  },
});

export interface BenchRow {
  size: string;
  frames: number;
  device: string;
  /** Which repetition of the clip this is (0-based). */
  repetition: number;
  /** Frames per inference batch the run used (the device's default unless --batch-size). */
  batchSize: number;
  colorizeSeconds: number;
  colorizeFps: number;
  transcodeSeconds: number;
  transcodeFps: number;
  ratioToTranscode: number;
  stageMsPerFrame: Record<string, number>;
  /**
   * CPU seconds (this process and its ffmpeg children, Linux only) of the colorize run and of the
   * transcode, and their ratio: on a shared, loaded machine this moves far less than the wall
   * times, and on a machine whose cores both runs keep busy it is what the wall ratio tends to.
   */
  cpu?: { colorizeSeconds: number; transcodeSeconds: number; ratioToTranscode: number };
  startupSeconds: ColorizeResult['startupSeconds'];
  /**
   * The same plain transcode run on the colorized film instead of the gray clip: decoding and
   * encoding a film with real chroma, no colorization at all. Its speed against the gray
   * transcode is the most any colorizer writing this film with these encoder settings can reach
   * on this machine (x264 spends more on real chroma than on neutral chroma).
   */
  coloredTranscode?: { seconds: number; ratioToTranscode: number; cpuSeconds?: number; cpuRatioToTranscode?: number };
  /** The CLI as a user runs it on the same clip, when --end-to-end. */
  endToEnd?: { seconds: number; ratioToTranscode: number; cpuSeconds?: number; cpuRatioToTranscode?: number };
}

export interface BatchTiming {
  size: string;
  working: string;
  batchSize: number;
  msPerBatch: number;
  msPerFrame: number;
  /** CPU time of this process (all inference threads) per frame. */
  cpuMsPerFrame: number;
}

export interface BenchReport {
  date: string;
  host: { cpus: number; cpuModel: string; loadAverage: number[]; node: string };
  settings: { device: string; seconds: number; preset: string; crf: number; batchSize?: number; inferThreads?: number; inferWorkers?: number; inferEvery?: number; model: string };
  rows: BenchRow[];
  batches?: { timings: BatchTiming[]; fastest: Record<string, { batchSize: number; msPerFrame: number }> };
}

async function makeClip(path: string, size: string, seconds: number): Promise<void> {
  // A textured, moving, black-and-white source with sound: closer to film than a flat test card.
  await run(ffmpegPath(), [
    '-hide_banner', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `mandelbrot=size=${size}:rate=25,hue=s=0`,
    '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-pix_fmt', 'yuv420p', '-c:a', 'aac', path,
  ]);
}

/** CPU seconds used so far by this process and its waited-for children (/proc, Linux), or undefined. */
function cpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime are fields 14-17 of the line, 12-15 after the command name.
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return ticks / 100;
  } catch {
    return undefined;
  }
}

async function timePlainTranscode(input: string, output: string): Promise<number> {
  const start = performance.now();
  await run(ffmpegPath(), [
    '-hide_banner', '-v', 'error', '-y', '-i', input, '-map', '0:v:0', '-map', '0:a?',
    '-c:v', 'libx264', '-preset', values.preset!, '-crf', values.crf!, '-pix_fmt', 'yuv420p', '-c:a', 'copy', '-movflags', '+faststart', output,
  ]);
  return (performance.now() - start) / 1000;
}

/** The installed command, as a user runs it (from the compiled dist/, which `npm run build` makes). */
async function timeCommand(input: string, output: string): Promise<number> {
  const bin = join(root, 'bin', 'colorize-video.js');
  // From sources, compile first (untimed) when dist/ is older than the code being measured.
  if (!here.includes(join('dist', 'bench')) && (await newestSource(join(root, 'src'))) > (await modifiedAt(join(root, 'dist', 'src', 'cli', 'main.js')))) {
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')]);
  }
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) throw new Error('--end-to-end runs bin/colorize-video.js: run `npm run build` first');
  const args = [bin, input, '-o', output, '--overwrite', '--json', '--device', values.device!, ...(values['batch-size'] ? ['--batch-size', values['batch-size']] : []), '--preset', values.preset!, '--crf', values.crf!];
  if (values.model) args.push('--model', values.model);
  if (values['no-int8']) args.push('--no-int8');
  if (values['infer-every']) args.push('--infer-every', values['infer-every']);
  const start = performance.now();
  await run(process.execPath, args, { env: { ...process.env, COLORIZE_VIDEO_NO_CACHE: '1' } });
  return (performance.now() - start) / 1000;
}

async function modifiedAt(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.mtimeMs ?? 0;
}

async function newestSource(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const times = await Promise.all(entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => modifiedAt(join(e.parentPath ?? e.path, e.name))));
  return Math.max(0, ...times);
}

async function timeBatches(sizes: string[], batchSizes: number[]): Promise<NonNullable<BenchReport['batches']>> {
  const colorizer = await Colorizer.load(values.model ?? defaultModelPath(), values.device as DeviceRequest, inferSettings());
  const timings: BatchTiming[] = [];
  const fastest: Record<string, { batchSize: number; msPerFrame: number }> = {};
  try {
    const { local, global } = colorizer.config;
    for (const size of sizes) {
      const [w, h] = size.split('x').map(Number);
      const working = workingGeometry(w, h, local.workingShortSide, local.multipleOf, local.outputStride);
      for (const batchSize of batchSizes) {
        const frames = Array.from({ length: batchSize }, (_, f) => Float32Array.from({ length: working.width * working.height }, (_, i) => 50 + 40 * Math.sin((i + 97 * f) / 53)));
        const vectors = Array.from({ length: batchSize }, () => new Float32Array(global.features).fill(0.1));
        await colorizer.colorize(frames, working.width, working.height, vectors); // warm-up (first run allocates, compiles shaders)
        let runs = 0;
        const cpuStart = process.cpuUsage();
        const start = performance.now();
        while (runs < 3 || (performance.now() - start < 1000 && runs < 50)) {
          await colorizer.colorize(frames, working.width, working.height, vectors);
          runs++;
        }
        const msPerBatch = (performance.now() - start) / runs;
        const cpu = process.cpuUsage(cpuStart);
        const cpuMsPerFrame = (cpu.user + cpu.system) / 1000 / runs / batchSize;
        const timing = { size, working: `${working.width}x${working.height}`, batchSize, msPerBatch: round(msPerBatch), msPerFrame: round(msPerBatch / batchSize), cpuMsPerFrame: round(cpuMsPerFrame) };
        timings.push(timing);
        if (!fastest[size] || timing.msPerFrame < fastest[size].msPerFrame) fastest[size] = { batchSize, msPerFrame: timing.msPerFrame };
      }
    }
  } finally {
    await colorizer.release();
  }
  return { timings, fastest };
}

function inferSettings(): { intraOpThreads?: number; workers?: number; cpuVariant?: boolean } {
  return {
    ...(values['infer-threads'] ? { intraOpThreads: Number(values['infer-threads']) } : {}),
    ...(values['infer-workers'] ? { workers: Number(values['infer-workers']) } : {}),
    ...(values['no-int8'] ? { cpuVariant: false } : {}),
  };
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

async function main(): Promise<void> {
  // Every run scans shots itself: a cached shot list would hide the scan's cost.
  process.env.COLORIZE_VIDEO_NO_CACHE = '1';
  const dir = await mkdtemp(join(tmpdir(), 'colorize-bench-'));
  const sizes = values.sizes!.split(',');
  const report: BenchReport = {
    date: new Date().toISOString(),
    host: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', loadAverage: loadavg().map((v) => round(v, 2)), node: process.version },
    settings: {
      device: values.device!,
      seconds: Number(values.seconds),
      preset: values.preset!,
      crf: Number(values.crf),
      batchSize: values['batch-size'] ? Number(values['batch-size']) : undefined,
      inferThreads: values['infer-threads'] ? Number(values['infer-threads']) : undefined,
      inferWorkers: values['infer-workers'] ? Number(values['infer-workers']) : undefined,
      inferEvery: values['infer-every'] ? Number(values['infer-every']) : undefined,
      model: values.model ?? defaultModelPath(),
    },
    rows: [],
  };
  try {
    for (const size of values['only-batches'] ? [] : sizes) {
      const clip = join(dir, `clip-${size}.mp4`);
      await makeClip(clip, size, Number(values.seconds));
      await probeVideo(clip); // warms the file cache and ffprobe, so the first timing is not penalised
      for (let repetition = 0; repetition < Math.max(1, Number(values.repeat)); repetition++) {
        const cpu0 = cpuSeconds();
        const transcodeSeconds = await timePlainTranscode(clip, join(dir, `plain-${size}.mp4`));
        const cpu1 = cpuSeconds();
        const result: ColorizeResult = await colorizeVideo({
          input: clip,
          output: join(dir, `color-${size}.mp4`),
          overwrite: true,
          model: values.model,
          device: values.device as DeviceRequest,
          batchSize: values['batch-size'] ? Number(values['batch-size']) : undefined,
          inferThreads: inferSettings().intraOpThreads,
          inferWorkers: inferSettings().workers,
          cpuVariant: inferSettings().cpuVariant,
          inferEvery: values['infer-every'] ? Number(values['infer-every']) : undefined,
          preset: values.preset,
          crf: Number(values.crf),
        });
        const cpu2 = cpuSeconds();
        const perFrame = (s: number) => round((1000 * s) / result.frames);
        const row: BenchRow = {
          size,
          frames: result.frames,
          device: result.device,
          repetition,
          batchSize: result.batchSize,
          colorizeSeconds: round(result.seconds, 3),
          colorizeFps: round(result.fps, 2),
          transcodeSeconds: round(transcodeSeconds, 3),
          transcodeFps: round(result.frames / transcodeSeconds, 1),
          ratioToTranscode: round(transcodeSeconds / result.seconds, 3),
          stageMsPerFrame: Object.fromEntries(Object.entries(result.stageSeconds).map(([k, v]) => [k, perFrame(v)])),
          cpu:
            cpu0 !== undefined && cpu1 !== undefined && cpu2 !== undefined
              ? { colorizeSeconds: round(cpu2 - cpu1, 2), transcodeSeconds: round(cpu1 - cpu0, 2), ratioToTranscode: round((cpu1 - cpu0) / (cpu2 - cpu1), 3) }
              : undefined,
          startupSeconds: { probe: round(result.startupSeconds.probe, 3), deviceSelect: round(result.startupSeconds.deviceSelect, 3), modelLoad: round(result.startupSeconds.modelLoad, 3) },
        };
        const cpu5 = cpuSeconds();
        const coloredSeconds = await timePlainTranscode(join(dir, `color-${size}.mp4`), join(dir, `plain-color-${size}.mp4`));
        const cpu6 = cpuSeconds();
        row.coloredTranscode = { seconds: round(coloredSeconds, 3), ratioToTranscode: round(transcodeSeconds / coloredSeconds, 3) };
        if (cpu0 !== undefined && cpu1 !== undefined && cpu5 !== undefined && cpu6 !== undefined) {
          row.coloredTranscode.cpuSeconds = round(cpu6 - cpu5, 2);
          row.coloredTranscode.cpuRatioToTranscode = round((cpu1 - cpu0) / (cpu6 - cpu5), 3);
        }
        if (values['end-to-end']) {
          const cpu3 = cpuSeconds();
          const seconds = await timeCommand(clip, join(dir, `cli-${size}.mp4`));
          const cpu4 = cpuSeconds();
          row.endToEnd = { seconds: round(seconds, 3), ratioToTranscode: round(transcodeSeconds / seconds, 3) };
          if (cpu0 !== undefined && cpu1 !== undefined && cpu3 !== undefined && cpu4 !== undefined) {
            row.endToEnd.cpuSeconds = round(cpu4 - cpu3, 2);
            row.endToEnd.cpuRatioToTranscode = round((cpu1 - cpu0) / (cpu4 - cpu3), 3);
          }
        }
        report.rows.push(row);
      }
    }
    if (values.batches) report.batches = await timeBatches(sizes, values.batches.split(',').map(Number));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dirname(values.out!), { recursive: true });
  await writeFile(values.out!, `${JSON.stringify(report, null, 2)}\n`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  printTables(report);
}

function printTables(report: BenchReport): void {
  if (report.rows.length > 0) printClipTable(report);
  if (report.batches) {
    console.log('\n| clip | working size | batch | ms per batch | ms per frame | CPU ms per frame |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const t of report.batches.timings) console.log(`| ${t.size} | ${t.working} | ${t.batchSize} | ${t.msPerBatch} | ${t.msPerFrame} | ${t.cpuMsPerFrame} |`);
    for (const [size, best] of Object.entries(report.batches.fastest)) console.log(`fastest batch size at ${size}: ${best.batchSize} (${best.msPerFrame} ms per frame)`);
  }
}

function printClipTable(report: BenchReport): void {
  const e2e = report.rows.some((r) => r.endToEnd);
  console.log(`| clip | frames | device | colorize fps | plain transcode fps | speed vs transcode | CPU time vs transcode | ceiling: transcode of the colored film (wall / CPU) |${e2e ? ' whole command vs transcode | its CPU time vs transcode |' : ''} decode | infer | temporal | compose | encode | shots (ms/frame) | probe | device choice | model load (s) |`);
  console.log(`| --- | --- | --- | --- | --- | --- | --- | --- |${e2e ? ' --- | --- |' : ''} --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  for (const r of report.rows) {
    const s = r.stageMsPerFrame;
    const st = r.startupSeconds;
    console.log(
      `| ${r.size} | ${r.frames} | ${r.device} | ${r.colorizeFps.toFixed(2)} | ${r.transcodeFps.toFixed(1)} | ${r.ratioToTranscode.toFixed(3)}x | ${r.cpu ? `${r.cpu.ratioToTranscode.toFixed(3)}x` : 'n/a'} | ${ceiling(r)} |${e2e ? ` ${r.endToEnd ? `${r.endToEnd.ratioToTranscode.toFixed(3)}x` : ''} | ${r.endToEnd?.cpuRatioToTranscode !== undefined ? `${r.endToEnd.cpuRatioToTranscode.toFixed(3)}x` : 'n/a'} |` : ''} ${s.decode} | ${s.infer} | ${s.temporal} | ${s.compose} | ${s.encode} | ${s.shots} | ${st.probe.toFixed(3)} | ${st.deviceSelect.toFixed(3)} | ${st.modelLoad.toFixed(3)} |`,
    );
  }
  console.log('\nThe ceiling is a plain transcode of the colorized film against the same transcode of the gray clip: no colorizer writing that film can go faster here.');
  console.log('\nStage figures are wall time per frame spent inside each stage; stages overlap, so they do not add up to 1/fps.');
}

function ceiling(r: BenchRow): string {
  const c = r.coloredTranscode;
  if (!c) return 'n/a';
  return `${c.ratioToTranscode.toFixed(3)}x / ${c.cpuRatioToTranscode !== undefined ? `${c.cpuRatioToTranscode.toFixed(3)}x` : 'n/a'}`;
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).message}`);
  process.exit(1);
});
