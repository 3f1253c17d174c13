import { access, constants, mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { hostname } from 'node:os';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { UserError } from '../decode/errors.js';
import { probeVideo, type VideoInfo } from '../decode/probe.js';
import { Colorizer } from '../infer/colorizer.js';
import type { DeviceRequest } from '../infer/device.js';
import { defaultModelPath } from '../pipeline/model-path.js';
import { removeWorkDir, renderChunk } from '../batch/film.js';
import { joinChunks } from '../batch/join.js';
import { verifyChunk, verifyOutput } from '../batch/verify.js';
import { type FilmPaths, parseChunkJob, parseJoinJob, resolveInside } from './job-data.js';
import { modelId } from './model-id.js';
import { CHUNK_QUEUE, FarmStore, JOIN_QUEUE, farmPrefix } from './registry.js';
import { farmSettingsToRender } from './settings.js';
import { FARM_WORK_FOLDER } from './submit.js';

export interface FarmWorkerOptions {
  redis: string;
  model?: string;
  device?: DeviceRequest;
  /** false: the float network on the CPU too (as GPU workers run it), not the model's int8 variant. */
  cpuVariant?: boolean;
  /** Chunks rendered at once by this worker (one loaded model serves them all). */
  concurrency?: number;
  /** When given, only films whose input and output roots lie inside these folders are taken. */
  allowRoots?: string[];
  /** Lock held on a running job, renewed at half this; a dead worker's chunk is taken over after it ($COLORIZE_FARM_LOCK_MS). */
  lockMs?: number;
  /** How often the stalled-job check runs ($COLORIZE_FARM_STALLED_MS). */
  stalledMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface ChunkResult {
  frames: number;
  /** Frames actually rendered here (0 when the chunk was already on disk). */
  rendered: number;
  seconds: number;
  worker: string;
  obsolete?: boolean;
}

/**
 * A render-farm worker: loads the model once, then renders chunk jobs (through renderChunk, the
 * batch's code path) and join jobs until the signal aborts. Failing jobs are retried by BullMQ
 * with backoff; a job whose data is invalid, whose film was cancelled or that needs another model
 * fails at once.
 */
export async function runFarmWorker(options: FarmWorkerOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const store = await FarmStore.open(options.redis);
  const name = `${hostname()}:${process.pid}`;
  let colorizer: Colorizer | undefined;
  const workers: Worker[] = [];
  const running = new Set<AbortController>();
  try {
    colorizer = await Colorizer.load(options.model ?? defaultModelPath(), options.device ?? 'auto', { cpuVariant: options.cpuVariant }).catch((error: unknown) => {
      throw new UserError(`the model could not be loaded: ${(error as Error).message.split('\n')[0]}`);
    });
    const loaded = colorizer;
    const myModel = await modelId(loaded.config);
    const allowRoots = await Promise.all((options.allowRoots ?? []).map((r) => realpath(resolve(r)).catch(() => resolve(r))));
    const infos = new Map<string, VideoInfo>();
    const probe = async (path: string) => {
      const file = await stat(path);
      const key = `${path}\0${file.size}\0${file.mtimeMs}`; // a replaced file is probed again
      let info = infos.get(key);
      if (!info) {
        info = await probeVideo(path);
        if (infos.size > 64) infos.clear();
        infos.set(key, info);
      }
      return info;
    };

    const chunkJob = async (job: Job): Promise<ChunkResult> => {
      const data = unrecoverable(() => parseChunkJob(job.data));
      const film = await store.film(data.filmId);
      if (!film || film.cancelled) throw new UnrecoverableError('film cancelled');
      if (film.generation !== data.generation) return { frames: 0, rendered: 0, seconds: 0, worker: name, obsolete: true };
      if (data.modelId !== myModel) throw new UnrecoverableError(`this worker's model (${loaded.config.name}, ${myModel.slice(0, 8)}) is not the one the film was submitted with (${data.modelId.slice(0, 8)})`);
      const { input, workDir } = await visiblePaths(data.paths, allowRoots);
      const path = join(workDir, data.file);
      const frames = data.chunk.endFrame - data.chunk.startFrame;
      const started = performance.now();
      if (await verifyChunk(path, frames)) return { frames, rendered: 0, seconds: 0, worker: name };
      const info = await probe(input);
      const controller = new AbortController();
      running.add(controller);
      const watch = setInterval(() => {
        store
          .film(data.filmId)
          .then((f) => {
            if (!f || f.cancelled || f.generation !== data.generation) controller.abort();
          })
          .catch(() => undefined);
      }, 2000);
      let lastProgress = 0;
      try {
        await renderChunk({
          info,
          chunk: data.chunk,
          shots: data.shots,
          path,
          settings: farmSettingsToRender(data.settings, data.paths.inputRoot),
          colorizer: loaded,
          signal: controller.signal,
          onFrames: (done) => {
            const now = performance.now();
            if (now - lastProgress < 1000 && done < frames) return;
            lastProgress = now;
            job.updateProgress({ frames: done, of: frames, worker: name }).catch(() => undefined);
          },
        });
      } catch (error) {
        if (controller.signal.aborted) {
          const f = await store.film(data.filmId).catch(() => undefined);
          if (!f || f.cancelled) throw new UnrecoverableError('film cancelled');
          if (f.generation !== data.generation) return { frames: 0, rendered: 0, seconds: 0, worker: name, obsolete: true };
        }
        throw error;
      } finally {
        clearInterval(watch);
        running.delete(controller);
      }
      if (!(await verifyChunk(path, frames))) throw new Error(`chunk ${data.chunk.index} came out without its ${frames} frames: ${path}`);
      return { frames, rendered: frames, seconds: (performance.now() - started) / 1000, worker: name };
    };

    const joinJob = async (job: Job): Promise<{ frames: number; worker: string; obsolete?: boolean }> => {
      const data = unrecoverable(() => parseJoinJob(job.data));
      const film = await store.film(data.filmId);
      if (!film || film.cancelled) throw new UnrecoverableError('film cancelled');
      if (film.generation !== data.generation) return { frames: 0, worker: name, obsolete: true };
      const { input, workDir, output } = await visiblePaths(data.paths, allowRoots);
      const info = await probe(input);
      if (await stat(output).catch(() => undefined)) {
        const check = await verifyOutput(output, info);
        if (check.ok) {
          await removeWorkDir(workDir, FARM_WORK_FOLDER);
          return { frames: check.frames ?? info.frameCount, worker: name };
        }
      }
      const chunks: string[] = [];
      for (const chunk of data.chunks) {
        const path = join(workDir, chunk.file);
        if (!(await verifyChunk(path, chunk.frames))) throw new Error(`chunk file missing or incomplete: ${path}`);
        chunks.push(path);
      }
      await mkdir(dirname(output), { recursive: true });
      const frames = await joinChunks({ info, chunks, workDir, output });
      await removeWorkDir(workDir, FARM_WORK_FOLDER);
      return { frames, worker: name };
    };

    const lockDuration = options.lockMs ?? envNumber('COLORIZE_FARM_LOCK_MS', 60_000);
    const stalledInterval = options.stalledMs ?? envNumber('COLORIZE_FARM_STALLED_MS', 30_000);
    const common = { connection: store.connection, prefix: farmPrefix(), lockDuration, stalledInterval, maxStalledCount: 3, autorun: false };
    const chunkWorker = new Worker(CHUNK_QUEUE, chunkJob, { ...common, concurrency: Math.max(1, options.concurrency ?? 1), name });
    const joinWorker = new Worker(JOIN_QUEUE, joinJob, { ...common, concurrency: 1, name });
    workers.push(chunkWorker, joinWorker);
    let lastError = '';
    for (const worker of workers) {
      worker.on('error', (error) => {
        const line = error.message.split('\n')[0];
        if (line !== lastError) log(`colorize-video farm worker: ${line}`);
        lastError = line;
      });
      worker.on('failed', (job, error) => {
        if (job) log(`colorize-video farm worker: ${job.name} of ${filmName(job)} failed (attempt ${job.attemptsMade}): ${error.message.split('\n')[0]}`);
      });
      worker.on('completed', (job) => log(`colorize-video farm worker: ${job.name} of ${filmName(job)} done`));
    }
    log(`colorize-video farm worker ${name}: ready (${loaded.device}, ${loaded.config.name}, concurrency ${options.concurrency ?? 1})`);
    const stopped = new Promise<void>((res) => {
      if (options.signal?.aborted) res();
      options.signal?.addEventListener('abort', () => res(), { once: true });
    });
    const runs = workers.map((w) => w.run());
    await Promise.race([stopped, Promise.all(runs)]);
  } finally {
    // Jobs still running are left to the stalled-job check: another worker takes them over.
    await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
    for (const controller of running) controller.abort();
    await colorizer?.release();
    await store.close().catch(() => undefined);
  }
}

function filmName(job: Job): string {
  const paths = (job.data as { paths?: { input?: unknown } })?.paths;
  return typeof paths?.input === 'string' ? paths.input : job.id ?? '?';
}

function unrecoverable<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UnrecoverableError((error as Error).message);
  }
}

/**
 * The film's paths on this machine: inside their roots (also after following links), inside the
 * worker's allowed roots when it has any, and visible (input readable, output folder writable).
 */
async function visiblePaths(paths: FilmPaths, allowRoots: string[]): Promise<{ input: string; output: string; workDir: string }> {
  const input = unrecoverable(() => resolveInside(paths.inputRoot, paths.input));
  const output = unrecoverable(() => resolveInside(paths.outDir, paths.output));
  const workDir = unrecoverable(() => resolveInside(paths.outDir, paths.workDir));
  for (const root of [paths.inputRoot, paths.outDir]) {
    if (allowRoots.length > 0 && !allowRoots.some((allowed) => within(allowed, root))) throw new UnrecoverableError(`path outside this worker's --allow-root folders: ${root}`);
  }
  try {
    await access(input, constants.R_OK);
  } catch {
    throw new Error(`cannot see the input ${input}`);
  }
  const realInput = await realpath(input);
  const realRoot = await realpath(paths.inputRoot);
  if (!within(realRoot, realInput)) throw new UnrecoverableError(`input leads outside its root folder: ${input}`);
  try {
    await mkdir(workDir, { recursive: true });
    await access(workDir, constants.W_OK);
  } catch {
    throw new Error(`cannot write to the output folder ${workDir}`);
  }
  const realOut = await realpath(paths.outDir);
  if (!within(realOut, await realpath(workDir))) throw new UnrecoverableError(`work folder leads outside the output folder: ${workDir}`);
  return { input, output, workDir };
}

function within(root: string, path: string): boolean {
  const back = relative(root, path);
  return back === '' || (!back.startsWith(`..${sep}`) && back !== '..' && !isAbsolute(back));
}

function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  const value = Number(text);
  return text && Number.isFinite(value) && value > 0 ? value : fallback;
}
