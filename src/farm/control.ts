import { resolve } from 'node:path';
import { FlowProducer, type Job } from 'bullmq';
import { UserError } from '../decode/errors.js';
import { enqueueFilm } from './submit.js';
import { type FarmStore, type FilmRecord, chunkJobId, farmPrefix, joinJobId } from './registry.js';
import type { ChunkResult } from './worker.js';

export interface FilmStatus {
  id: string;
  input: string;
  output: string;
  state: 'queued' | 'rendering' | 'joining' | 'done' | 'failed' | 'cancelled';
  chunks: { done: number; total: number; active: number; waiting: number; failed: number };
  frames: { done: number; total: number };
  /** Frames per second of this film's chunks since its first chunk started (null before). */
  fps: number | null;
  etaSeconds: number | null;
  failures: Array<{ chunk: number | 'join'; error: string; attempts: number }>;
}

export interface FarmStatus {
  /** Workers connected to the chunk queue (null when Redis does not allow CLIENT LIST). */
  workers: number | null;
  films: FilmStatus[];
}

/** Per film: chunks done/total, active chunks, frames per second, ETA and failures. */
export async function farmStatus(store: FarmStore): Promise<FarmStatus> {
  const films = await store.films();
  const workers = await store.chunks.getWorkersCount().catch(() => null);
  return { workers, films: await Promise.all(films.map((film) => filmStatus(store, film))) };
}

async function filmStatus(store: FarmStore, film: FilmRecord): Promise<FilmStatus> {
  const plan = await store.plan(film.id);
  const status: FilmStatus = {
    id: film.id,
    input: film.input,
    output: film.output,
    state: 'queued',
    chunks: { done: 0, total: film.chunks, active: 0, waiting: 0, failed: 0 },
    frames: { done: 0, total: film.frames },
    fps: null,
    etaSeconds: null,
    failures: [],
  };
  const reused = new Set(film.reused);
  let firstStart = Infinity;
  let renderedFrames = 0;
  for (const data of plan?.chunks ?? []) {
    const frames = data.chunk.endFrame - data.chunk.startFrame;
    if (reused.has(data.chunk.index)) {
      status.chunks.done++;
      status.frames.done += frames;
      continue;
    }
    const job = await store.chunks.getJob(chunkJobId(film.id, film.generation, data.chunk.index));
    const state = job ? await job.getState() : 'unknown';
    if (job?.processedOn) firstStart = Math.min(firstStart, job.processedOn);
    if (state === 'completed') {
      status.chunks.done++;
      status.frames.done += frames;
      renderedFrames += (job!.returnvalue as ChunkResult | undefined)?.rendered ?? frames;
    } else if (state === 'active') {
      status.chunks.active++;
      const progress = progressFrames(job!);
      status.frames.done += progress;
      renderedFrames += progress;
    } else if (state === 'failed') {
      status.chunks.failed++;
    } else if (state !== 'unknown') {
      status.chunks.waiting++;
    }
    if (job?.failedReason && state !== 'completed') status.failures.push({ chunk: data.chunk.index, error: job.failedReason, attempts: job.attemptsMade });
  }
  const join = await store.joins.getJob(joinJobId(film.id, film.generation));
  const joinState = join ? await join.getState() : 'unknown';
  if (join?.failedReason && joinState === 'failed' && status.chunks.failed === 0) status.failures.push({ chunk: 'join', error: join.failedReason, attempts: join.attemptsMade });
  if (film.cancelled) status.state = 'cancelled';
  else if (joinState === 'completed') status.state = 'done';
  else if (joinState === 'failed' || status.chunks.failed > 0) status.state = 'failed';
  else if (joinState === 'active') status.state = 'joining';
  else if (status.chunks.active > 0 || status.chunks.done > 0) status.state = 'rendering';
  if (status.state === 'done') status.frames.done = film.frames;
  if (Number.isFinite(firstStart) && renderedFrames > 0) {
    const end = status.state === 'done' && join?.finishedOn ? join.finishedOn : Date.now();
    const seconds = Math.max(1e-3, (end - firstStart) / 1000);
    status.fps = renderedFrames / seconds;
    status.etaSeconds = status.state === 'done' ? 0 : (film.frames - status.frames.done) / status.fps;
  }
  return status;
}

function progressFrames(job: Job): number {
  const progress = job.progress as { frames?: unknown } | number;
  return typeof progress === 'object' && progress !== null && typeof progress.frames === 'number' ? progress.frames : 0;
}

/**
 * Enqueues a film again as a new generation: chunks finished on disk are kept, the rest (failed or
 * never done) are rendered; jobs of the old generation still waiting are removed, running ones
 * finish or notice they are obsolete.
 */
export async function retryFilm(store: FarmStore, what: string): Promise<FilmRecord> {
  const film = await store.findFilm(what, (p) => resolve(p));
  const plan = await store.plan(film.id);
  if (!plan) throw new UserError(`film ${film.id} has no stored plan; submit it again`);
  await removeWaitingJobs(store, film);
  const generation = film.generation + 1;
  for (const data of plan.chunks) data.generation = generation;
  plan.join.generation = generation;
  const record: FilmRecord = { ...film, generation, cancelled: false };
  await store.saveFilm(record, plan);
  const flows = new FlowProducer({ connection: store.connection, prefix: farmPrefix() });
  flows.on('error', () => undefined);
  try {
    record.reused = await enqueueFilm(store, flows, plan);
  } finally {
    await flows.close();
  }
  await store.saveFilm(record);
  return record;
}

/** Marks a film cancelled: waiting jobs are removed, workers abort its running chunks within seconds. */
export async function cancelFilm(store: FarmStore, what: string): Promise<FilmRecord> {
  const film = await store.findFilm(what, (p) => resolve(p));
  const record = { ...film, cancelled: true };
  await store.saveFilm(record);
  await removeWaitingJobs(store, film);
  return record;
}

async function removeWaitingJobs(store: FarmStore, film: FilmRecord): Promise<void> {
  const join = await store.joins.getJob(joinJobId(film.id, film.generation));
  if (join && (await join.getState()) !== 'active') await join.remove({ removeChildren: true }).catch(() => undefined);
  for (let index = 0; index < film.chunks; index++) {
    const job = await store.chunks.getJob(chunkJobId(film.id, film.generation, index));
    if (job && (await job.getState()) !== 'active') await job.remove().catch(() => undefined);
  }
}
