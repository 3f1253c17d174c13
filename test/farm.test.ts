import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '../src/decode/binaries.js';
import { probeVideo } from '../src/decode/probe.js';
import { parseChunkJob } from '../src/farm/job-data.js';
import { redisConnection } from '../src/farm/connection.js';
import type { FarmStatus } from '../src/farm/control.js';
import { makeClip } from './helpers/media.js';
import { TestRedis } from './helpers/redis-server.js';
import { writeTestModel } from './helpers/test-models.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'bin', 'colorize-video.js');
/** Fast failure detection for the tests: a dead worker's chunk is taken over after about 4 s. */
const FARM_ENV = { COLORIZE_FARM_LOCK_MS: '4000', COLORIZE_FARM_STALLED_MS: '1000', COLORIZE_FARM_ATTEMPTS: '2', COLORIZE_FARM_BACKOFF_MS: '200' };
const PLAN = ['--codec', 'ffv1', '--chunk-seconds', '1', '--warmup-seconds', '0.4'];

let dir: string;
let model: string;
let cache: string;
let redis: TestRedis;
/** Three 1 s shots and a 4 s shot, with sound: 175 frames. */
let film: string;
/** One 5 s shot: five pieces at 1 s. */
let oneShot: string;
/** One 2 s shot: two chunks at 1 s. */
let short: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'farm-test-'));
  cache = path.join(dir, 'cache');
  redis = await TestRedis.start();
  model = await writeTestModel(path.join(dir, 'model'), { a: 12, b: -6, globalGain: 30 });
  film = path.join(dir, 'film.mp4');
  oneShot = path.join(dir, 'one-shot.mp4');
  short = path.join(dir, 'short.mp4');
  const ffmpeg = (args: string[]) => run(ffmpegPath(), ['-v', 'error', '-y', ...args]);
  await Promise.all([
    ffmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=25:d=1',
      '-f', 'lavfi', '-i', 'smptebars=s=160x90:r=25:d=1',
      '-f', 'lavfi', '-i', 'cellauto=s=160x90:r=25:rule=110',
      '-f', 'lavfi', '-i', 'mandelbrot=s=160x90:r=25',
      '-f', 'lavfi', '-i', 'sine=frequency=330:duration=7',
      '-filter_complex',
      '[2]trim=end_frame=25,setpts=PTS-STARTPTS[c];[3]trim=end_frame=100,setpts=PTS-STARTPTS[m];[0][1][c][m]concat=n=4:v=1:a=0,format=yuv420p,hue=s=0[v]',
      '-map', '[v]', '-map', '4', '-c:a', 'aac', '-shortest', '-c:v', 'libx264', '-preset', 'ultrafast', film,
    ]),
    makeClip(oneShot, { video: 'mandelbrot=size=160x90:rate=25', seconds: 5, gray: true }),
    makeClip(short, { video: 'testsrc2=size=160x90:rate=25', seconds: 2, gray: true }),
  ]);
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('farm job data', () => {
  const valid = () => ({
    v: 1,
    filmId: 'a'.repeat(24),
    generation: 1,
    paths: { inputRoot: '/films', input: 'reel1.mov', outDir: '/out', output: 'reel1.color.mov', workDir: '.colorize-farm/reel1.color.mov' },
    file: 'chunk-0000.mov',
    chunk: { index: 0, firstShot: 0, lastShot: 0, startFrame: 0, endFrame: 10, warmupFrames: 0 },
    shots: [{ index: 0, startFrame: 0, endFrame: 10, startTime: 0, endTime: 0.4 }],
    settings: { codec: 'h264', crf: 18, preset: 'medium', resolution: null, batchSize: 4, temporalStrength: 1, sideBySide: false, samplesPerShot: null, reference: null, referenceStrength: null, shotSettings: null },
    modelId: 'b'.repeat(32),
  });

  it('takes known fields only, and every path inside its root', () => {
    expect(parseChunkJob(valid()).chunk.endFrame).toBe(10);
    const withExtra = { ...valid(), shell: 'rm -rf /' };
    expect(() => parseChunkJob(withExtra)).toThrow(/unknown fields: shell/);
    const settings = { ...valid(), settings: { ...valid().settings, ffmpegArgs: ['-y'] } };
    expect(() => parseChunkJob(settings)).toThrow(/unknown fields: ffmpegArgs/);
    for (const escape of ['../etc/passwd', '/etc/passwd', 'a/../../b']) {
      expect(() => parseChunkJob({ ...valid(), paths: { ...valid().paths, input: escape } })).toThrow(/invalid farm job/);
      expect(() => parseChunkJob({ ...valid(), paths: { ...valid().paths, workDir: escape } })).toThrow(/invalid farm job/);
    }
    expect(() => parseChunkJob({ ...valid(), file: '../chunk-0000.mov' })).toThrow(/file/);
    expect(() => parseChunkJob({ ...valid(), settings: { ...valid().settings, preset: 'fast;ls' } })).toThrow(/preset/);
    expect(() => parseChunkJob({ ...valid(), settings: { ...valid().settings, codec: 'rawvideo' } })).toThrow(/codec/);
    // No batch size: each worker takes its own device's default.
    expect(parseChunkJob({ ...valid(), settings: { ...valid().settings, batchSize: null } }).settings.batchSize).toBeNull();
    expect(() => parseChunkJob({ ...valid(), settings: { ...valid().settings, batchSize: 0 } })).toThrow(/batchSize/);
    // Per-shot settings: the project file's checks, and reference images inside the input root.
    const shotSettings = (value: unknown) => ({ ...valid(), settings: { ...valid().settings, shotSettings: value } });
    expect(parseChunkJob(shotSettings({ '3': { intensity: 0.5, reference: 'refs/sky.jpg' } })).settings.shotSettings).toEqual({ '3': { intensity: 0.5, reference: 'refs/sky.jpg' } });
    for (const escape of ['../sky.jpg', '/etc/passwd', 'refs/../../sky.jpg']) {
      expect(() => parseChunkJob(shotSettings({ '3': { reference: escape } }))).toThrow(/invalid farm job/);
      expect(() => parseChunkJob({ ...valid(), settings: { ...valid().settings, reference: escape } })).toThrow(/invalid farm job/);
    }
    expect(() => parseChunkJob(shotSettings({ '3': { intensity: 9 } }))).toThrow(/intensity/);
    expect(() => parseChunkJob(shotSettings({ '3': { exec: 'x' } }))).toThrow(/unknown setting/);
    expect(() => parseChunkJob(shotSettings({ x: {} }))).toThrow(/not a shot number/);
  });

  it('reads Redis URLs with password, database and TLS', () => {
    expect(redisConnection('redis://:s%40cret@10.0.0.5:6380/2')).toMatchObject({ host: '10.0.0.5', port: 6380, password: 's@cret', db: 2, tls: undefined });
    expect(redisConnection('rediss://farm:pw@redis.studio.lan')).toMatchObject({ host: 'redis.studio.lan', port: 6379, username: 'farm', password: 'pw', tls: { servername: 'redis.studio.lan' } });
    expect(() => redisConnection('http://x')).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => redisConnection('not a url')).toThrow(/must be a URL/);
  });
});

describe('colorize-video farm', () => {
  it('two workers, one killed with SIGKILL mid-chunk: the film equals the single-machine batch render, a corrupt film fails alone', async () => {
    const env = { ...FARM_ENV, COLORIZE_FARM_PREFIX: 'kill-test' };
    const input = path.join(dir, 'reels');
    const out = path.join(dir, 'farm-out');
    await mkdir(input, { recursive: true });
    await copyFile(film, path.join(input, 'a-film.mp4'));
    await copyFile(short, path.join(input, 'b-broken.mp4'));

    const submitted = await cli(['farm', 'submit', input, '--out-dir', out, '--model', model, '--preset', 'ultrafast', ...PLAN, '--json'], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    const films = submitted.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string; chunks: number; id: string });
    void films[1].id;
    expect(films.map((f) => f.status)).toEqual(['queued', 'queued']);
    expect(films[0].chunks).toBe(7); // three 1 s shots + the 4 s shot in four pieces
    // The second film turns corrupt after it was planned: every attempt of its chunks fails.
    await writeFile(path.join(input, 'b-broken.mp4'), Buffer.alloc(50_000, 7));

    const workDir = path.join(out, '.colorize-farm', 'a-film.color.mkv');
    const a = worker(env);
    const b = worker(env);
    const aExited = exitOf(a);
    const partialOfA = () => existsSync(workDir) && readdirSync(workDir).some((n) => n.includes('.partial-colorize-') && n.includes(`-${a.pid}-`));
    await waitFor(partialOfA, aExited, 60_000);
    a.kill('SIGKILL');
    expect((await aExited).signal).toBe('SIGKILL');
    const bExited = exitOf(b);

    const status = await waitForStatus(env, (s) => s.films.every((f) => f.state === 'done' || f.state === 'failed'), bExited, 120_000);
    const [good, broken] = status.films;
    expect(good).toMatchObject({ state: 'done', chunks: { done: 7, total: 7, failed: 0 }, frames: { done: 175, total: 175 }, failures: [] });
    expect(good.fps).toBeGreaterThan(0);
    expect(broken.state).toBe('failed');
    expect(broken.chunks.failed).toBeGreaterThanOrEqual(1);
    expect(broken.failures[0].error).toMatch(/not a readable video|invalid data/i);
    expect(existsSync(path.join(out, 'b-broken.color.mkv'))).toBe(false);

    const output = path.join(out, 'a-film.color.mkv');
    const info = await probeVideo(output);
    expect(info.frameCount).toBe(175);
    expect(info.audioStreams).toHaveLength(1);
    expect(existsSync(workDir)).toBe(false);

    const single = path.join(dir, 'batch-out');
    const batch = await cli(['batch', path.join(input, 'a-film.mp4'), '--out-dir', single, '--model', model, '--preset', 'ultrafast', '--device', 'cpu', ...PLAN], {});
    expect(batch.code, batch.stderr).toBe(0);
    const farmFrames = await frameMd5(output);
    expect(farmFrames).toHaveLength(175);
    expect(farmFrames).toEqual(await frameMd5(path.join(single, 'a-film.color.mkv')));

    // The input is mended: retry renders the failed film; nothing else is redone.
    await copyFile(short, path.join(input, 'b-broken.mp4'));
    const retried = await cli(['farm', 'retry', broken.id], env);
    expect(retried.code, retried.stderr).toBe(0);
    const after = await waitForStatus(env, (s) => s.films[1].state === 'done' || (s.films[1].state === 'failed' && s.films[1].chunks.failed > 0), bExited, 120_000);
    expect(after.films.map((f) => f.state)).toEqual(['done', 'done']);
    expect((await probeVideo(path.join(out, 'b-broken.color.mkv'))).frameCount).toBe(50);

    b.kill('SIGTERM');
    expect((await bExited).code).toBe(143);
  }, 300_000);

  it('Redis killed and restarted mid-run: re-submitting completes the film without redoing finished chunks', async () => {
    const env = { ...FARM_ENV, COLORIZE_FARM_PREFIX: 'restart-test' };
    const out = path.join(dir, 'restart-out');
    const submit = () => cli(['farm', 'submit', oneShot, '--out-dir', out, '--model', model, '--preset', 'ultrafast', ...PLAN, '--json'], env);
    const first = await submit();
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ status: 'queued', chunks: 5, reused: 0 });

    const workDir = path.join(out, '.colorize-farm', 'one-shot.color.mkv');
    const w = worker(env);
    const exited = exitOf(w);
    const finished = () => (existsSync(workDir) ? readdirSync(workDir).filter((n) => /^chunk-\d+\.mkv$/.test(n)).length : 0);
    await waitFor(() => finished() >= 2, exited, 60_000);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 300));
    await redis.launch();

    const again = await submit();
    expect(again.code, again.stderr).toBe(0);
    const resubmitted = JSON.parse(again.stdout) as { status: string; reused: number };
    expect(resubmitted.status).toBe('queued');
    expect(resubmitted.reused).toBeGreaterThanOrEqual(2);
    const status = await waitForStatus(env, (s) => s.films.length === 1 && (s.films[0].state === 'done' || s.films[0].state === 'failed'), exited, 120_000);
    expect(status.films[0]).toMatchObject({ state: 'done', chunks: { done: 5, total: 5 } });
    expect((await probeVideo(path.join(out, 'one-shot.color.mkv'))).frameCount).toBe(125);
    w.kill('SIGTERM');
    await exited;
  }, 300_000);

  it('cancels a film (its waiting chunks leave the queue) and retries it', async () => {
    const env = { ...FARM_ENV, COLORIZE_FARM_PREFIX: 'cancel-test' };
    const out = path.join(dir, 'cancel-out');
    const submitted = await cli(['farm', 'submit', oneShot, '--out-dir', out, '--model', model, ...PLAN], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    const status = async () => JSON.parse((await cli(['farm', 'status', '--json'], env)).stdout) as FarmStatus;
    expect((await status()).films[0]).toMatchObject({ state: 'queued', chunks: { done: 0, total: 5, waiting: 5 } });
    const cancelled = await cli(['farm', 'cancel', oneShot], env);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect((await status()).films[0]).toMatchObject({ state: 'cancelled', chunks: { waiting: 0 } });
    const retried = await cli(['farm', 'retry', oneShot], env);
    expect(retried.code, retried.stderr).toBe(0);
    expect((await status()).films[0]).toMatchObject({ state: 'queued', chunks: { waiting: 5 } });
    const unknown = await cli(['farm', 'cancel', 'no-such-film'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no film no-such-film in the farm/);
  });

  it('a worker that cannot see a film fails its chunks with one line naming the path, and keeps working', async () => {
    const env = { ...FARM_ENV, COLORIZE_FARM_PREFIX: 'unseen-test' };
    const films = path.join(dir, 'unseen-films');
    const out = path.join(dir, 'unseen-out');
    await mkdir(films, { recursive: true });
    const gone = path.join(films, 'gone.mp4');
    const kept = path.join(films, 'kept.mp4');
    await copyFile(short, gone);
    await copyFile(short, kept);
    const submitted = await cli(['farm', 'submit', gone, kept, '--out-dir', out, '--model', model, '--preset', 'ultrafast', ...PLAN], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    // As when the shared filesystem is not mounted on the worker's machine: the path is not there.
    await rm(gone);
    const w = worker(env);
    const exited = exitOf(w);
    const status = await waitForStatus(env, (s) => s.films.length === 2 && s.films.every((f) => f.state === 'done' || f.state === 'failed'), exited, 120_000);
    const byInput = (name: string) => status.films.find((f) => f.input.endsWith(name))!;
    expect(byInput('kept.mp4')).toMatchObject({ state: 'done', chunks: { done: 1, total: 1 } });
    const failed = byInput('gone.mp4');
    expect(failed.state).toBe('failed');
    expect(failed.failures.length).toBeGreaterThan(0);
    for (const failure of failed.failures) {
      expect(failure.error).toBe(`cannot see the input ${gone}`);
      expect(failure.error.split('\n')).toHaveLength(1);
    }
    expect(existsSync(path.join(out, 'gone.color.mkv'))).toBe(false);
    w.kill('SIGTERM');
    await exited;
  }, 300_000);

  it('takes the project file beside each film: per-shot settings reach the workers (chunks without the shot included)', async () => {
    const env = { ...FARM_ENV, COLORIZE_FARM_PREFIX: 'settings-test' };
    const films = path.join(dir, 'settings-films');
    const out = path.join(dir, 'settings-out');
    await mkdir(films, { recursive: true });
    const reel = path.join(films, 'reel.mp4');
    await copyFile(film, reel);
    // Shot 3 (frames 75-174, split in pieces) gray; shot 1 (frames 25-49) with a reference inside the films' folder.
    await mkdir(path.join(films, 'refs'));
    await run(ffmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=0x1428dc:s=32x32', '-frames:v', '1', path.join(films, 'refs', 'blue.png')]);
    await writeFile(path.join(films, 'reel.colorize.json'), JSON.stringify({ version: 1, shots: { '3': { intensity: 0 }, '1': { reference: 'refs/blue.png' } } }));
    const submitted = await cli(['farm', 'submit', reel, '--out-dir', out, '--model', model, '--preset', 'ultrafast', ...PLAN, '--json'], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(JSON.parse(submitted.stdout).chunks).toBeGreaterThan(3);
    const w = worker(env);
    const exited = exitOf(w);
    const status = await waitForStatus(env, (s) => s.films.length === 1 && (s.films[0].state === 'done' || s.films[0].state === 'failed'), exited, 120_000);
    expect(status.films[0].state, JSON.stringify(status.films[0].failures)).toBe('done');
    w.kill('SIGTERM');
    await exited;
    const spread = await chromaSpreads(path.join(out, 'reel.color.mkv'));
    expect(spread).toHaveLength(175);
    for (const f of [0, 10, 60]) expect(spread[f], `frame ${f} colored`).toBeGreaterThan(3);
    for (const f of [80, 120, 170]) expect(spread[f], `frame ${f} gray`).toBeLessThan(0.5);

    // A settings file naming a shot the film does not have is refused at submit, in one line.
    await writeFile(path.join(films, 'reel.colorize.json'), JSON.stringify({ version: 1, shots: { '9': { intensity: 0 } } }));
    const elsewhere = path.join(dir, 'settings-out-2');
    const wrong = await cli(['farm', 'submit', reel, '--out-dir', elsewhere, '--model', model, ...PLAN], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/settings file names shot 9, but the film has 4 shots \(0-3\)/);
    // A reference outside the folder the film was found under cannot reach the workers.
    const outside = path.join(dir, 'outside.png');
    await copyFile(path.join(films, 'refs', 'blue.png'), outside);
    await rm(path.join(films, 'reel.colorize.json'));
    const far = await cli(['farm', 'submit', reel, '--out-dir', elsewhere, '--model', model, ...PLAN, '--reference', outside], env);
    expect(far.code).toBe(1);
    expect(far.stderr).toMatch(/reference image .*outside\.png is outside .*settings-films, the folder the film was found under/);
  }, 300_000);

  it('a CPU worker started with --no-int8 runs the float network, as GPU workers do, not the int8 variant', async () => {
    const env = { ...FARM_ENV, COLORIZE_FARM_PREFIX: 'int8-test' };
    // Float network: a* = +20 (Cr above 128); its "int8" CPU variant: a* = -30 (Cr below).
    const variantModel = await writeTestModel(path.join(dir, 'variant-model'), { a: 20, b: -10 });
    const cpu = await writeTestModel(path.join(dir, 'variant-cpu'), { a: -30, b: 30 });
    await copyFile(path.join(cpu, 'colorizer.onnx'), path.join(variantModel, 'colorizer-cpu.onnx'));
    const meta = JSON.parse(await readFile(path.join(variantModel, 'model.json'), 'utf8'));
    meta.local.cpu = { file: 'colorizer-cpu.onnx' };
    await writeFile(path.join(variantModel, 'model.json'), JSON.stringify(meta));
    const out = path.join(dir, 'int8-out');
    const submitted = await cli(['farm', 'submit', short, '--out-dir', out, '--model', variantModel, '--preset', 'ultrafast', ...PLAN], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    const w = spawnCli(['farm', 'worker', '--model', variantModel, '--device', 'cpu', '--no-int8'], env);
    const exited = exitOf(w);
    const status = await waitForStatus(env, (st) => st.films.length === 1 && (st.films[0].state === 'done' || st.films[0].state === 'failed'), exited, 120_000);
    expect(status.films[0].state, JSON.stringify(status.films[0].failures)).toBe('done');
    w.kill('SIGTERM');
    await exited;
    const { stdout } = await promisify(execFile)(ffmpegPath(), ['-v', 'error', '-i', path.join(out, 'short.color.mkv'), '-frames:v', '1', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', '-'], { encoding: 'buffer' });
    const luma = 160 * 90;
    const cr = stdout.subarray(luma * 1.25, luma * 1.5);
    expect(cr.reduce((sum, v) => sum + v, 0) / cr.length).toBeGreaterThan(136);
  }, 200_000);

  it('talks TLS (rediss://) to a server whose CA it is given, and refuses an unknown certificate in one line', async () => {
    const tls = await TestRedis.startTls();
    try {
      const trusted = await cli(['farm', 'status', '--json', '--redis', tls.url], { COLORIZE_FARM_REDIS_CA: tls.ca });
      expect(trusted.code, trusted.stderr).toBe(0);
      expect(JSON.parse(trusted.stdout)).toMatchObject({ films: [] });
      const untrusted = await cli(['farm', 'status', '--redis', tls.url], {});
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr.trim().split('\n')).toHaveLength(1);
      expect(untrusted.stderr).toMatch(/TLS certificate not accepted: self[- ]signed certificate/);
    } finally {
      await tls.stop();
    }
  });

  it('gives one line for an unreachable Redis or a wrong password', async () => {
    const wrong = await cli(['farm', 'status', '--redis', `redis://:nope@127.0.0.1:${redis.port}`], {});
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/Redis at redis:\/\/:\*\*\*@127\.0\.0\.1/);
    expect(wrong.stderr).not.toMatch(/nope/);
    const usage = await cli(['farm', 'status', '--redis', 'http://127.0.0.1'], {});
    expect(usage.code).toBe(2);
  });
});

// --- helpers ---

function spawnCli(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, COLORIZE_VIDEO_CACHE: cache, COLORIZE_FARM_REDIS: redis.url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('close', () => children.delete(child));
  return child;
}

function worker(env: Record<string, string>): ChildProcess {
  return spawnCli(['farm', 'worker', '--model', model, '--device', 'cpu'], env);
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const exits = new WeakMap<ChildProcess, Promise<Exit>>();

function exitOf(child: ChildProcess): Promise<Exit> {
  const known = exits.get(child);
  if (known) return known;
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  exits.set(child, exit);
  return exit;
}

function cli(args: string[], env: Record<string, string>): Promise<Exit> {
  return exitOf(spawnCli(args, env));
}

async function waitFor(condition: () => boolean, exited: Promise<Exit>, timeoutMs: number): Promise<void> {
  let exit: Exit | undefined;
  void exited.then((e) => (exit = e));
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (exit) throw new Error(`the worker ended (code ${exit.code}) before the condition held: ${exit.stderr}`);
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function waitForStatus(env: Record<string, string>, done: (s: FarmStatus) => boolean, exited: Promise<Exit>, timeoutMs: number): Promise<FarmStatus> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const result = await cli(['farm', 'status', '--json'], env);
    if (result.code === 0) {
      last = result.stdout;
      const status = JSON.parse(result.stdout) as FarmStatus;
      if (done(status)) return status;
    }
    const exit = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 500))]);
    if (exit) throw new Error(`the worker ended (code ${exit.code}): ${exit.stderr}`);
    if (Date.now() > deadline) throw new Error(`timed out; last status ${last}`);
  }
}

/** Mean |Cb − 128| + |Cr − 128| of each frame of an 8-bit 4:2:0 video (0 for gray). */
async function chromaSpreads(file: string): Promise<number[]> {
  const info = await probeVideo(file);
  const { stdout } = await promisify(execFile)(ffmpegPath(), ['-v', 'error', '-i', file, '-map', '0:v:0', '-vsync', 'passthrough', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', '-'], {
    encoding: 'buffer',
    maxBuffer: 256 * 1024 * 1024,
  });
  const luma = info.width * info.height;
  const frameBytes = (luma * 3) / 2;
  const spreads: number[] = [];
  for (let offset = 0; offset + frameBytes <= stdout.length; offset += frameBytes) {
    const chroma = stdout.subarray(offset + luma, offset + frameBytes);
    let sum = 0;
    for (const v of chroma) sum += Math.abs(v - 128);
    spreads.push(sum / chroma.length);
  }
  return spreads;
}

/** Per-frame MD5 of the decoded video (ffmpeg -f framemd5). */
async function frameMd5(file: string): Promise<string[]> {
  const { stdout } = await run(ffmpegPath(), ['-v', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-'], { maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').pop()!.trim());
}
