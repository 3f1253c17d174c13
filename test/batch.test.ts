import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planChunks, shotSelection } from '../src/batch/chunks.js';
import { discoverInputs, globMatcher, mirroredOutputPath } from '../src/batch/discover.js';
import type { BatchReportFile } from '../src/batch/report.js';
import { runBatch } from '../src/batch/run-batch.js';
import { Colorizer } from '../src/infer/colorizer.js';
import { ffmpegPath } from '../src/decode/binaries.js';
import { probeVideo } from '../src/decode/probe.js';
import { shotsFromCuts } from '../src/shots/index.js';
import { writeTestModel } from './helpers/test-models.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'bin', 'colorize-video.js');

let dir: string;
let model: string;
let cache: string;
/** 1 s, one shot, with audio. */
let shortClip: string;
/** 1 s, one shot, no audio. */
let otherClip: string;
/** 4 s, four 1 s shots, with audio: four chunks at a 0.5 s chunk length. */
let longClip: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batch-test-'));
  cache = path.join(dir, 'cache');
  model = await writeTestModel(path.join(dir, 'model'), { a: 20, b: -10 });
  shortClip = path.join(dir, 'src-short.mp4');
  otherClip = path.join(dir, 'src-other.mp4');
  longClip = path.join(dir, 'src-long.mp4');
  await Promise.all([
    build(),
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=1', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', '-shortest', ...x264(shortClip)]),
    ffmpeg(['-f', 'lavfi', '-i', 'mandelbrot=size=160x90:rate=25,trim=end_frame=25', ...x264(otherClip)]),
    ffmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=25:d=1',
      '-f', 'lavfi', '-i', 'mandelbrot=s=160x90:r=25',
      '-f', 'lavfi', '-i', 'smptebars=s=160x90:r=25:d=1',
      '-f', 'lavfi', '-i', 'cellauto=s=160x90:r=25:rule=110',
      '-f', 'lavfi', '-i', 'sine=frequency=330:duration=4',
      '-filter_complex',
      '[1]trim=end_frame=25,setpts=PTS-STARTPTS[m];[3]trim=end_frame=25,setpts=PTS-STARTPTS[c];[0][m][2][c]concat=n=4:v=1:a=0,format=yuv420p[v]',
      '-map', '[v]', '-map', '4', '-c:a', 'aac', ...x264(longClip),
    ]),
  ]);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('batch helpers', () => {
  it('groups whole shots into chunks of at least N seconds, the remainder joining the last', () => {
    const shots = shotsFromCuts([10, 20, 60, 65, 70], 80, 10);
    const chunks = planChunks(shots, 10, { chunkSeconds: 2 });
    expect(chunks.map((c) => [c.startFrame, c.endFrame, shotSelection(c), c.warmupFrames])).toEqual([
      [0, 20, '0-1', 0],
      [20, 60, '2', 0],
      [60, 80, '3-5', 0],
    ]);
    expect(planChunks(shots, 10, { chunkSeconds: 30 })).toHaveLength(1);
  });

  it('splits a shot longer than two chunks into pieces with a warm-up inside the shot', () => {
    // shots: 0-5, 5-105 (10 s), 105-110, 110-112
    const shots = shotsFromCuts([5, 105, 110], 112, 10);
    const chunks = planChunks(shots, 10, { chunkSeconds: 3, warmupSeconds: 1 });
    expect(chunks.map((c) => [c.startFrame, c.endFrame, c.firstShot, c.lastShot, c.warmupFrames])).toEqual([
      [0, 38, 0, 1, 0], // the short first shot rides with the first piece
      [38, 72, 1, 1, 10],
      [72, 112, 1, 3, 10], // last piece, then the short shots after it (a remainder)
    ]);
    // One shot only: pieces cover it without gaps or overlaps; the warm-up never crosses the cut.
    const single = planChunks(shotsFromCuts([], 95, 10), 10, { chunkSeconds: 1, warmupSeconds: 5 });
    expect(single).toHaveLength(9);
    expect(single[0]).toMatchObject({ startFrame: 0, warmupFrames: 0 });
    expect(single[1].warmupFrames).toBe(single[1].startFrame);
    for (let i = 1; i < single.length; i++) expect(single[i].startFrame).toBe(single[i - 1].endFrame);
    expect(single[single.length - 1].endFrame).toBe(95);
  });

  it('matches globs and mirrors folders', async () => {
    expect(globMatcher('*.mp4')('a/b/c.MP4')).toBe(true);
    expect(globMatcher('reel?.{mov,mkv}')('x/reel1.mkv')).toBe(true);
    expect(globMatcher('reel?.{mov,mkv}')('x/reel10.mkv')).toBe(false);
    expect(globMatcher('**/keep/*.avi')('a/b/keep/z.avi')).toBe(true);
    expect(globMatcher('**/keep/*.avi')('a/b/other/z.avi')).toBe(false);
    expect(mirroredOutputPath('/out', 'a/b/film.avi', '.mp4')).toBe('/out/a/b/film.color.mp4');

    const root = path.join(dir, 'discover');
    await mkdir(path.join(root, 'in', 'deep', '.hidden'), { recursive: true });
    await mkdir(path.join(root, 'in', 'out'), { recursive: true });
    for (const f of ['in/one.mp4', 'in/notes.txt', 'in/deep/two.MOV', 'in/deep/.hidden/three.mp4', 'in/out/four.mp4', 'single.bin']) {
      await writeFile(path.join(root, f), 'x');
    }
    const found = await discoverInputs([path.join(root, 'in'), path.join(root, 'single.bin')], { exclude: [path.join(root, 'in', 'out')] });
    expect(found.map((f) => f.relative)).toEqual([path.join('deep', 'two.MOV'), 'one.mp4', 'single.bin']);
    const mp4 = await discoverInputs([path.join(root, 'in')], { pattern: '*.mp4' });
    expect(mp4.map((f) => f.relative)).toEqual(['one.mp4', path.join('out', 'four.mp4')]);
  });
});

describe('colorize-video batch', () => {
  it('isolates failing files: good ones are done, broken ones reported, exit code 1', async () => {
    const input = path.join(dir, 'mixed');
    const out = path.join(dir, 'mixed-out');
    await mkdir(path.join(input, 'nested'), { recursive: true });
    await copyFile(shortClip, path.join(input, 'good-1.mp4'));
    await copyFile(otherClip, path.join(input, 'nested', 'good-2.mp4'));
    await writeFile(path.join(input, 'corrupt.mp4'), randomBytes(40_000));
    const truncated = await readFile(longClip);
    await writeFile(path.join(input, 'truncated.mp4'), truncated.subarray(0, Math.floor(truncated.length / 3)));
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', path.join(input, 'sound-only.mp4')]);

    const run = await cli(['batch', input, '--out-dir', out]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/3 of 5 files failed, 2 done/);
    const report = await readReport(out);
    expect(report.finished).toBe(true);
    const byName = Object.fromEntries(report.files.map((f) => [path.relative(input, f.input), f]));
    expect(Object.keys(byName).sort()).toEqual(['corrupt.mp4', 'good-1.mp4', path.join('nested', 'good-2.mp4'), 'sound-only.mp4', 'truncated.mp4']);
    expect(byName['good-1.mp4']).toMatchObject({ status: 'done', frames: 25, shots: 1, error: null, output: path.join(out, 'good-1.color.mp4') });
    expect(byName[path.join('nested', 'good-2.mp4')]).toMatchObject({ status: 'done', frames: 25, output: path.join(out, 'nested', 'good-2.color.mp4') });
    expect(byName['corrupt.mp4'].status).toBe('failed');
    expect(byName['corrupt.mp4'].error).toMatch(/not a readable video/);
    expect(byName['truncated.mp4'].status).toBe('failed');
    expect(byName['truncated.mp4'].error).toBeTruthy();
    expect(byName['sound-only.mp4']).toMatchObject({ status: 'failed', error: expect.stringMatching(/no video stream/) });
    for (const name of ['corrupt', 'truncated', 'sound-only']) expect(existsSync(path.join(out, `${name}.color.mp4`))).toBe(false);
    // Failed files leave no folders (no empty work folder).
    expect((await readdir(out)).sort()).toEqual(['colorize-batch-report.json', 'good-1.color.mp4', 'nested']);

    const good = await probeVideo(path.join(out, 'good-1.color.mp4'));
    expect(good.frameCount).toBe(25);
    expect(good.audioStreams).toHaveLength(1);
    const { u, v } = await meanChroma(path.join(out, 'nested', 'good-2.color.mp4'));
    // a* = +20, b* = -10 from the test model: well away from gray (128, 128).
    expect(Math.abs(u - 128) + Math.abs(v - 128)).toBeGreaterThan(8);
  });

  it('resumes a film killed with SIGKILL from its finished chunks, and leaves finished files alone', async () => {
    const input = path.join(dir, 'reels');
    const out = path.join(dir, 'reels-out');
    await mkdir(input, { recursive: true });
    await copyFile(shortClip, path.join(input, 'a-short.mp4'));
    await copyFile(longClip, path.join(input, 'b-long.mp4'));
    const env = { COLORIZE_VIDEO_CHUNK_SECONDS: '0.5', COLORIZE_VIDEO_KEEP_WORK: '1' };
    const workDir = path.join(out, '.colorize-work', 'b-long.color.mp4');
    const firstChunk = path.join(workDir, 'chunk-0000.mp4');
    const shortOut = path.join(out, 'a-short.color.mp4');
    const longOut = path.join(out, 'b-long.color.mp4');

    const child = spawnCli(['batch', input, '--out-dir', out], env);
    const exited = exitOf(child);
    await waitFor(() => existsSync(firstChunk), exited, 60_000);
    child.kill('SIGKILL');
    const killed = await exited;
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(longOut)).toBe(false);
    expect(existsSync(path.join(workDir, 'chunk-0003.mp4'))).toBe(false);
    const crashed = await readReport(out);
    expect(crashed.finished).toBe(false);
    // The file being rendered when the batch died says so.
    expect(crashed.files.map((f) => f.status)).toEqual(['done', 'interrupted']);
    const shortMtime = (await stat(shortOut)).mtimeMs;
    const chunkMtime = (await stat(firstChunk)).mtimeMs;

    const resumed = await cli(['batch', input, '--out-dir', out], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = await readReport(out);
    expect(report.files.map((f) => f.status)).toEqual(['skipped', 'done']);
    expect(report.files[1]).toMatchObject({ frames: 100, shots: 4, chunks: 4 });
    expect(report.files[1].chunksReused).toBeGreaterThanOrEqual(1);
    // fps counts only the frames this run rendered (25 per chunk), not the chunks it kept.
    const { fps, seconds, chunksReused } = report.files[1];
    expect((fps ?? 0) * (seconds ?? 0)).toBeCloseTo(25 * (4 - (chunksReused ?? 0)), 3);
    expect((await stat(firstChunk)).mtimeMs).toBe(chunkMtime);
    expect((await stat(shortOut)).mtimeMs).toBe(shortMtime);
    const joined = await probeVideo(longOut);
    expect(joined.frameCount).toBe(100);
    expect(Math.abs(joined.durationSeconds - 4)).toBeLessThanOrEqual(0.04);
    expect(joined.audioStreams).toHaveLength(1);
    expect(await countDecodedFrames(longOut)).toBe(100);
    expect((await readdir(out)).filter((n) => n.includes('.partial-'))).toEqual([]);

    // A finished batch run again does no work: everything skipped, nothing rewritten, work folder gone.
    const longMtime = (await stat(longOut)).mtimeMs;
    const again = await cli(['batch', input, '--out-dir', out]);
    expect(again.code, again.stderr).toBe(0);
    expect((await readReport(out)).files.map((f) => f.status)).toEqual(['skipped', 'skipped']);
    expect((await stat(shortOut)).mtimeMs).toBe(shortMtime);
    expect((await stat(longOut)).mtimeMs).toBe(longMtime);
    expect(existsSync(path.join(out, '.colorize-work'))).toBe(false);
  });

  it('resumes a single-shot film killed halfway from its last finished piece', async () => {
    const input = path.join(dir, 'one-shot.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', 'mandelbrot=s=160x90:r=25', '-frames:v', '100', ...x264(input)]);
    const out = path.join(dir, 'one-shot-out');
    const env = { COLORIZE_VIDEO_CHUNK_SECONDS: '0.5', COLORIZE_VIDEO_KEEP_WORK: '1' };
    const workDir = path.join(out, '.colorize-work', 'one-shot.color.mp4');
    const child = spawnCli(['batch', input, '--out-dir', out, '--warmup-seconds', '0.2'], env);
    const exited = exitOf(child);
    await waitFor(() => existsSync(path.join(workDir, 'chunk-0002.mp4')), exited, 60_000);
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(path.join(workDir, 'chunk-0006.mp4'))).toBe(false);

    const resumed = await cli(['batch', input, '--out-dir', out, '--warmup-seconds', '0.2'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const entry = (await readReport(out)).files[0];
    expect(entry).toMatchObject({ status: 'done', frames: 100, shots: 1, chunks: 7 }); // 13-frame pieces
    expect(entry.chunksReused).toBeGreaterThanOrEqual(3);
    expect(await countDecodedFrames(path.join(out, 'one-shot.color.mp4'))).toBe(100);
  });

  it('on SIGINT stops the render, removes temporaries, marks the file interrupted and exits 130', async () => {
    const out = path.join(dir, 'interrupt-out');
    const workDir = path.join(out, '.colorize-work', 'src-long.color.mp4');
    const child = spawnCli(['batch', longClip, shortClip, '--out-dir', out, '--report', path.join(dir, 'interrupt.json')], { COLORIZE_VIDEO_CHUNK_SECONDS: '0.5' });
    const exited = exitOf(child);
    await waitFor(() => existsSync(path.join(workDir, 'chunk-0000.mp4')), exited, 60_000);
    child.kill('SIGINT');
    const result = await exited;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/interrupted/);
    const report = JSON.parse(await readFile(path.join(dir, 'interrupt.json'), 'utf8')) as BatchReportFile;
    expect(report.files.map((f) => f.status)).toEqual(['interrupted', 'pending']);
    const leftovers = [...(await readdir(out)), ...(await readdir(workDir))].filter((n) => n.includes('.partial-'));
    expect(leftovers).toEqual([]);
    expect(existsSync(path.join(out, 'src-long.color.mp4'))).toBe(false);
  });

  it('keeps chunks only while input and settings match their manifest', async () => {
    const out = path.join(dir, 'manifest-out');
    const input = path.join(dir, 'manifest-in.mp4');
    await copyFile(longClip, input);
    const output = path.join(out, 'manifest-in.color.mp4');
    const previous = process.env.COLORIZE_VIDEO_CACHE;
    process.env.COLORIZE_VIDEO_CACHE = cache;
    const colorizer = await Colorizer.load(model, 'cpu');
    try {
      const run = async (crf: number) => {
        await rm(output, { force: true });
        const summary = await runBatch({ paths: [input], outDir: out, settings: { model, crf, preset: 'ultrafast', temporalStrength: 0 }, chunkSeconds: 0.5, keepWork: true, colorizer });
        expect(summary.failed).toBe(0);
        expect((await probeVideo(output)).frameCount).toBe(100);
        return summary.report.files[0];
      };
      expect(await run(30)).toMatchObject({ status: 'done', chunks: 4, chunksReused: 0 });
      expect(await run(30)).toMatchObject({ status: 'done', chunks: 4, chunksReused: 4 });
      expect(await run(28)).toMatchObject({ status: 'done', chunks: 4, chunksReused: 0 });
      const later = new Date(Date.now() + 5000);
      await utimes(input, later, later);
      expect(await run(28)).toMatchObject({ status: 'done', chunks: 4, chunksReused: 0 });
    } finally {
      await colorizer.release();
      if (previous === undefined) delete process.env.COLORIZE_VIDEO_CACHE;
      else process.env.COLORIZE_VIDEO_CACHE = previous;
    }
  });

  it('refuses a second batch on the same out-dir, but takes over a lock left by a dead process', async () => {
    const out = path.join(dir, 'locked-out');
    await mkdir(out, { recursive: true });
    const lock = path.join(out, '.colorize-batch.lock');
    await writeFile(lock, `${process.pid}\n`);
    const refused = await cli(['batch', otherClip, '--out-dir', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/another batch \(process \d+\) is working in/);
    await writeFile(lock, '999999999\n');
    const taken = await cli(['batch', otherClip, '--out-dir', out]);
    expect(taken.code, taken.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(path.join(out, 'src-other.color.mp4'))).toBe(true);
  });

  it('gives a one-line error for an out-dir that cannot be created', async () => {
    const blocker = path.join(dir, 'a-file');
    await writeFile(blocker, 'x');
    const run = await cli(['batch', shortClip, '--out-dir', path.join(blocker, 'out')]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/cannot create the output folder .*a-file\/out/);
  });
});

describe('colorize-video FILM on a long film (resumable single render)', () => {
  it('renders as chunks, and after an interruption the same command resumes from the finished ones', async () => {
    const work = path.join(dir, 'single-resume');
    await mkdir(work, { recursive: true });
    const input = path.join(work, 'reel.mp4');
    await copyFile(longClip, input);
    const output = path.join(work, 'reel.color.mp4');
    const workDir = path.join(work, '.colorize-work', 'reel.color.mp4');
    // 4 s of film, 1 s shots: four chunks at 0.5 s, so the render is resumable.
    const args = [input, '--chunk-seconds', '0.5'];
    const child = spawnCli(args);
    const exited = exitOf(child);
    await waitFor(() => existsSync(path.join(workDir, 'chunk-0001.mp4')), exited, 60_000);
    child.kill('SIGINT');
    const stopped = await exited;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr.trim().split('\n')).toHaveLength(1);
    expect(stopped.stderr).toMatch(/interrupted; \d+ finished chunks? kept in .*\.colorize-work.*run the same command again to resume/);
    expect(existsSync(output)).toBe(false);
    expect((await readdir(work)).filter((n) => n.includes('.partial-') || n.endsWith('.lock'))).toEqual([]);

    const resumed = await cli(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/100 frames, 4 shots in .*; [1-4] of 4 chunks kept from an earlier run\)/);
    expect(await countDecodedFrames(output)).toBe(100);
    const streams = (await probeVideo(output)).audioStreams;
    expect(streams).toHaveLength(1);
    expect((await readdir(work)).sort()).toEqual(['reel.color.mp4', 'reel.mp4']);
  });

  it('reports its chunks in the JSON summary, refuses an existing output unless --overwrite and a second render of the same output; --no-resume and short films render in one pass', async () => {
    const work = path.join(dir, 'single-summary');
    await mkdir(work, { recursive: true });
    const input = path.join(work, 'reel.mp4');
    await copyFile(longClip, input);
    const json = async (extra: string[]) => {
      const child = spawnCli([input, '--chunk-seconds', '0.5', '--json', ...extra]);
      let stdout = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      const exit = await exitOf(child);
      expect(exit.code, exit.stderr).toBe(0);
      return JSON.parse(stdout) as { frames: number; shots: number; chunks: number | null; chunksReused: number | null; framesInferred: number; output: string };
    };
    const first = await json([]);
    expect(first).toMatchObject({ frames: 100, shots: 4, chunks: 4, chunksReused: 0 });
    expect(first.framesInferred).toBeGreaterThan(0);
    // An existing output is refused as in a one-pass render; --overwrite renders it again.
    const refused = await cli([input, '--chunk-seconds', '0.5']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/output exists: .*reel\.color\.mp4 \(use --overwrite/);
    expect(await json(['--overwrite'])).toMatchObject({ frames: 100, chunks: 4, chunksReused: 0 });
    expect(await json(['--overwrite', '--no-resume'])).toMatchObject({ frames: 100, chunks: null, chunksReused: null });
    expect(await json(['--overwrite', '--chunk-seconds', '2'])).toMatchObject({ frames: 100, chunks: null });
    expect(existsSync(path.join(work, '.colorize-work'))).toBe(false);

    const lock = path.join(work, '.reel.color.mp4.colorize.lock');
    await writeFile(lock, `${process.pid}\n`); // a live process holds it
    const busy = await cli([input, '--chunk-seconds', '0.5', '--overwrite']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(new RegExp(`another render of this output \\(process ${process.pid}\\) is working in`));
    await rm(lock);
  });
});

// --- helpers ---

function x264(output: string): string[] {
  return ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', output];
}

function ffmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(ffmpegPath(), ['-v', 'error', '-y', ...args], (error, _stdout, stderr) => (error ? reject(new Error(`ffmpeg: ${stderr}`)) : resolve()));
  });
}

/** Compiles the CLI (bin/ runs dist/). Type errors elsewhere in the tree do not stop tsc from emitting. */
function build(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT }, (error, stdout) => {
      if (existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'batch-command.js'))) resolve();
      else reject(new Error(`build failed: ${error?.message ?? ''}\n${stdout}`));
    });
  });
}

function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args, '--model', model, '--preset', 'ultrafast', '--device', 'cpu'], {
    cwd: ROOT,
    env: { ...process.env, COLORIZE_VIDEO_CACHE: cache, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return exitOf(spawnCli(args, env));
}

async function waitFor(condition: () => boolean, exited: Promise<Exit>, timeoutMs: number): Promise<void> {
  let exit: Exit | undefined;
  void exited.then((e) => (exit = e));
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (exit) throw new Error(`the batch ended (code ${exit.code}) before the condition held: ${exit.stderr}`);
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 15));
  }
}

async function readReport(out: string): Promise<BatchReportFile> {
  return JSON.parse(await readFile(path.join(out, 'colorize-batch-report.json'), 'utf8')) as BatchReportFile;
}

function randomBytes(n: number): Buffer {
  const bytes = Buffer.alloc(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

function runFfmpegToBuffer(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(ffmpegPath(), ['-v', 'error', ...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

async function meanChroma(file: string): Promise<{ u: number; v: number }> {
  const frame = await runFfmpegToBuffer(['-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'yuv444p', '-']);
  const plane = frame.length / 3;
  let u = 0;
  let v = 0;
  for (let i = 0; i < plane; i++) {
    u += frame[plane + i];
    v += frame[2 * plane + i];
  }
  return { u: u / plane, v: v / plane };
}

async function countDecodedFrames(file: string): Promise<number> {
  const raw = await runFfmpegToBuffer(['-i', file, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
  return raw.length / (160 * 90);
}
