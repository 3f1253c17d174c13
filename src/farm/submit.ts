import { checkShotKeys } from '../pipeline/shot-plan.js';
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { FlowProducer, type FlowJob, type JobsOptions } from 'bullmq';
import { UserError } from '../decode/errors.js';
import { probeVideo } from '../decode/probe.js';
import { defaultExtension } from '../encode/container.js';
import { loadModelConfig } from '../infer/model-config.js';
import { findShots } from '../pipeline/find-shots.js';
import { rangeFromTimes } from '../pipeline/frame-range.js';
import { defaultModelPath } from '../pipeline/model-path.js';
import { chunkFileName, chunkSecondsFor, planChunks, shotsOfChunk } from '../batch/chunks.js';
import { discoverInputs, mirroredOutputPath } from '../batch/discover.js';
import { buildManifest, prepareWorkDir } from '../batch/film.js';
import { verifyChunk, verifyOutput } from '../batch/verify.js';
import { DEFAULT_CHUNK_SECONDS } from '../batch/run-batch.js';
import { type ChunkJobData, type FarmSettings, type FilmPaths, JOB_DATA_VERSION, type JoinJobData, parseSettings } from './job-data.js';
import { modelId } from './model-id.js';
import { CHUNK_QUEUE, type FarmStore, type FilmPlan, type FilmRecord, JOIN_QUEUE, chunkJobId, farmPrefix, joinJobId } from './registry.js';
import { type FilmChoices, farmSettingsForFilm, farmSettingsToRender } from './settings.js';

export const FARM_WORK_FOLDER = '.colorize-farm';

export interface SubmitOptions {
  paths: string[];
  outDir: string;
  pattern?: string;
  settings: FarmSettings;
  model?: string;
  chunkSeconds?: number;
  warmupSeconds?: number;
  /** Replace outputs that exist but are not a complete render of their input. */
  overwrite?: boolean;
  /** Per-shot settings and references (see FilmChoices): they must lie inside each film's input root. */
  choices?: FilmChoices;
}

export interface SubmittedFilm {
  input: string;
  output?: string;
  id?: string;
  status: 'queued' | 'already-queued' | 'complete' | 'failed';
  chunks?: number;
  /** Chunks found finished on disk and not enqueued again. */
  reused?: number;
  error?: string;
}

/** Attempts and backoff of chunk and join jobs ($COLORIZE_FARM_ATTEMPTS, $COLORIZE_FARM_BACKOFF_MS). */
export function jobOptions(): Pick<JobsOptions, 'attempts' | 'backoff'> {
  const attempts = Number(process.env.COLORIZE_FARM_ATTEMPTS || 3);
  const delay = Number(process.env.COLORIZE_FARM_BACKOFF_MS || 10_000);
  return { attempts: Math.max(1, Math.floor(attempts)), backoff: { type: 'exponential', delay: Math.max(0, delay) } };
}

/**
 * Probes each film, plans its chunks (the batch's plan), and enqueues a BullMQ flow per film: one
 * job per chunk not already finished on disk, under a join job that runs once they are all done.
 * A film that cannot be read is reported and the others go on.
 */
export async function submitFilms(store: FarmStore, options: SubmitOptions): Promise<SubmittedFilm[]> {
  const outDir = resolve(options.outDir);
  const settings = parseSettings(options.settings);
  const chunkSeconds = options.chunkSeconds ?? DEFAULT_CHUNK_SECONDS;
  if (!(chunkSeconds > 0)) throw new UserError('chunk length must be a positive number of seconds', 2);
  const config = await loadModelConfig(options.model ?? defaultModelPath());
  const model = await modelId(config);
  const inputs = await discoverInputs(options.paths, { pattern: options.pattern, exclude: [outDir] });
  if (inputs.length === 0) throw new UserError(`no video files found in ${options.paths.join(', ')}`, 2);
  const flows = new FlowProducer({ connection: store.connection, prefix: farmPrefix() });
  flows.on('error', () => undefined);
  const results: SubmittedFilm[] = [];
  try {
    for (const item of inputs) {
      const result: SubmittedFilm = { input: item.input, status: 'failed' };
      results.push(result);
      try {
        const info = await probeVideo(item.input);
        const output = mirroredOutputPath(outDir, item.relative, defaultExtension(item.input, settings.codec));
        result.output = output;
        if (await stat(output).catch(() => undefined)) {
          const check = await verifyOutput(output, info);
          if (check.ok) {
            result.status = 'complete';
            continue;
          }
          if (!options.overwrite) throw new UserError(`output exists but is not a complete render of this input (${check.reason}): ${output} (use --overwrite to replace it)`);
        }
        const inputRoot = item.input.slice(0, item.input.length - item.relative.length).replace(/[/\\]$/, '') || '/';
        const filmSettings = await farmSettingsForFilm(settings, options.choices ?? {}, item.input, inputRoot);
        const shots = await findShots(info, rangeFromTimes(info.frameCount, info.fps));
        checkShotKeys({ shotSettings: filmSettings.shotSettings ?? undefined }, shots.length);
        const chunks = planChunks(shots, info.fps, { chunkSeconds: chunkSecondsFor(info.variableFrameRate, chunkSeconds), warmupSeconds: options.warmupSeconds });
        const workDir = join(outDir, FARM_WORK_FOLDER, relative(outDir, output));
        const manifest = await buildManifest(info, shots, chunks, farmSettingsToRender(filmSettings, inputRoot), config, null, output);
        await prepareWorkDir(workDir, manifest); // stale partials of this host only: others may be rendering
        const id = createHash('sha256').update(JSON.stringify({ manifest, model })).digest('hex').slice(0, 24);
        result.id = id;
        result.chunks = chunks.length;

        const previous = await store.film(id);
        if (previous && !previous.cancelled && (await isLive(store, previous))) {
          result.status = 'already-queued';
          continue;
        }
        const generation = previous ? previous.generation + 1 : 1;
        const paths: FilmPaths = {
          inputRoot,
          input: item.relative,
          outDir,
          output: relative(outDir, output),
          workDir: relative(outDir, workDir),
        };
        const ext = defaultExtension(item.input, settings.codec);
        const chunkData: ChunkJobData[] = chunks.map((chunk) => ({
          v: JOB_DATA_VERSION,
          filmId: id,
          generation,
          paths,
          file: chunkFileName(chunk, ext),
          chunk,
          shots: shotsOfChunk(shots, chunk),
          settings: filmSettings,
          modelId: model,
        }));
        const join_: JoinJobData = {
          v: JOB_DATA_VERSION,
          filmId: id,
          generation,
          paths,
          chunks: chunks.map((c) => ({ file: chunkFileName(c, ext), frames: c.endFrame - c.startFrame })),
          frames: info.frameCount,
        };
        const plan: FilmPlan = { join: join_, chunks: chunkData };
        const record: FilmRecord = {
          id,
          input: item.input,
          output,
          frames: info.frameCount,
          chunks: chunks.length,
          generation,
          cancelled: false,
          submittedAt: previous?.submittedAt ?? Date.now(),
          reused: [],
        };
        // Recorded before its jobs exist: a worker takes a job only for a film it finds recorded.
        await store.saveFilm(record, plan);
        const reused = await enqueueFilm(store, flows, plan);
        record.reused = reused;
        await store.saveFilm(record);
        result.status = 'queued';
        result.reused = reused.length;
      } catch (error) {
        result.status = 'failed';
        result.error = (error as Error).message.split('\n')[0];
      }
    }
  } finally {
    await flows.close();
  }
  return results;
}

/**
 * Adds a film's flow: a join job over the chunk jobs whose files are not finished on disk.
 * Returns the indices of the chunks found finished.
 */
export async function enqueueFilm(store: FarmStore, flows: FlowProducer, plan: FilmPlan): Promise<number[]> {
  const { join: joinData } = plan;
  const workDir = resolve(joinData.paths.outDir, joinData.paths.workDir);
  const reused: number[] = [];
  const children: FlowJob[] = [];
  const opts = jobOptions();
  for (const data of plan.chunks) {
    if (await verifyChunk(join(workDir, data.file), data.chunk.endFrame - data.chunk.startFrame)) {
      reused.push(data.chunk.index);
      continue;
    }
    children.push({
      name: `chunk ${data.chunk.index}`,
      queueName: CHUNK_QUEUE,
      data,
      opts: { ...opts, jobId: chunkJobId(data.filmId, data.generation, data.chunk.index), failParentOnFailure: true, removeOnFail: false, removeOnComplete: false },
    });
  }
  await flows.add({
    name: 'join',
    queueName: JOIN_QUEUE,
    data: joinData,
    opts: { ...opts, jobId: joinJobId(joinData.filmId, joinData.generation) },
    children,
  });
  void store;
  return reused;
}

/** Whether a film's current flow is still waiting or running (not failed, cancelled or gone). */
async function isLive(store: FarmStore, film: FilmRecord): Promise<boolean> {
  const job = await store.joins.getJob(joinJobId(film.id, film.generation));
  if (!job) return false;
  const state = await job.getState();
  return state !== 'failed' && state !== 'unknown' && state !== 'completed';
}
