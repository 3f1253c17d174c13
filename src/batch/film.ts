import { sequenceFramePath } from '../decode/sequence.js';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { UserError } from '../decode/errors.js';
import type { VideoInfo } from '../decode/probe.js';
import type { Colorizer } from '../infer/colorizer.js';
import type { ModelConfig } from '../infer/model-config.js';
import type { DamagedRange } from '../decode/decode-monitor.js';
import { type ColorizeOptions, type ColorizeResult, DEFAULT_INFER_EVERY, type Progress, colorizeVideo } from '../pipeline/colorize-video.js';
import { findShots } from '../pipeline/find-shots.js';
import { checkShotKeys } from '../pipeline/shot-plan.js';
import { rangeFromTimes } from '../pipeline/frame-range.js';
import type { Shot } from '../shots/index.js';
import { type Chunk, chunkFileName, chunkSecondsFor, planChunks, shotsOfChunk } from './chunks.js';
import { joinChunks } from './join.js';
import { verifyChunk, verifyOutput } from './verify.js';
import { isAlive, removeStaleTemporaries } from '../encode/temp-files.js';
import { DEFAULT_TEMPORAL_STRENGTH } from '../temporal/smoother.js';

export type RenderSettings = Omit<ColorizeOptions, 'input' | 'output' | 'colorizer' | 'signal' | 'onProgress' | 'shots' | 'start' | 'duration' | 'audio' | 'probed'>;

export interface FilmJob {
  info: VideoInfo;
  output: string;
  /** Folder for this film's chunks and manifest; removed once the film is done. */
  workDir: string;
  settings: RenderSettings;
  /** Loads the model on first use (a batch whose files are all done never loads it). */
  colorizer: () => Promise<Colorizer>;
  /** Chunks are runs of whole shots at least this long (long shots are split). */
  chunkSeconds: number;
  /** Warm-up before a piece that starts inside a shot (default DEFAULT_WARMUP_SECONDS). */
  warmupSeconds?: number;
  /** Keep the work folder after joining (debugging, tests). */
  keepWork?: boolean;
  /** Render even when the output exists and is complete (the caller was asked to replace it); by default such a film is skipped. */
  replaceComplete?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: FilmProgress) => void;
}

export interface FilmProgress {
  phase: 'shots' | 'colorize' | 'join';
  /** Frames of the film finished (kept chunks count as finished); frames scanned in the shots phase. */
  done: number;
  total: number;
  /** Frames rendered by this run so far (for the batch's rate). */
  rendered: number;
  chunk?: { index: number; count: number };
}

export interface FilmResult {
  status: 'done' | 'skipped';
  frames: number;
  /** Frames rendered by this run (chunks kept from an earlier run and skipped films do not count). */
  rendered: number;
  shots: number | null;
  chunks: number | null;
  chunksReused: number | null;
  /** Damaged stretches rendered with concealment (`--conceal`), in film frame numbers. */
  damagedFrames?: DamagedRange[];
  /** The renders this run made (one per chunk rendered, or the whole film), for their figures. */
  renders?: ColorizeResult[];
}

const MANIFEST_VERSION = 3;

export interface Manifest {
  version: number;
  input: { path: string; size: number; mtimeMs: number; frameCount: number; fps: number };
  shotsHash: string;
  settings: Record<string, unknown>;
  output: string;
  chunks: Array<Omit<Chunk, 'index'>>;
}

/**
 * Renders one film of a batch, resumably. A verified complete output is skipped. A film of one
 * chunk is rendered straight to its output; a longer one is rendered as chunks of whole shots into
 * its work folder, verified chunks from an earlier run (same input, shots and settings, per the
 * manifest) are kept, and the chunks are joined with the source's audio at the end.
 */
export async function renderFilm(job: FilmJob): Promise<FilmResult> {
  try {
    return await renderFilmResumably(job);
  } catch (error) {
    if (!job.signal?.aborted) await removeFoldersOfFailedFilm(job);
    throw error;
  }
}

/**
 * A failed film leaves no folders behind: its work folder goes unless it holds finished chunks
 * (kept so that running the batch again resumes), and so does an output folder left empty.
 */
async function removeFoldersOfFailedFilm(job: FilmJob): Promise<void> {
  const names = await readdir(job.workDir).catch(() => [] as string[]);
  if (!job.keepWork && !names.some((name) => name !== 'manifest.json' && !name.startsWith('.'))) await removeWorkDir(job.workDir);
  let dir = dirname(job.output);
  for (let depth = 0; depth < 64; depth++) {
    try {
      await rmdir(dir);
    } catch {
      break;
    }
    dir = dirname(dir);
  }
}

async function renderFilmResumably(job: FilmJob): Promise<FilmResult> {
  const { info, output } = job;
  const existing = job.replaceComplete ? undefined : await stat(output).catch(() => undefined);
  if (existing) {
    const check = await verifyOutput(output, info);
    if (check.ok) {
      if (!job.keepWork) await removeWorkDir(job.workDir);
      return { status: 'skipped', frames: check.frames ?? info.frameCount, rendered: 0, shots: null, chunks: null, chunksReused: null };
    }
    if (!job.settings.overwrite) throw new UserError(`output exists but is not a complete render of this input (${check.reason}): ${output} (use --overwrite to replace it)`);
  }
  await mkdir(dirname(output), { recursive: true });
  await removeStaleTemporaries(dirname(output), basename(output, extname(output)));

  const total = info.frameCount;
  const report = (p: FilmProgress) => job.onProgress?.(p);
  const shots = await findShots(info, rangeFromTimes(info.frameCount, info.fps), {
    signal: job.signal,
    onProgress: (done, all) => report({ phase: 'shots', done, total: all, rendered: 0 }),
  });
  checkShotKeys(job.settings, shots.length);
  const chunks = planChunks(shots, info.fps, { chunkSeconds: chunkSecondsFor(info.variableFrameRate, job.chunkSeconds), warmupSeconds: job.warmupSeconds });
  const colorizer = await job.colorizer();

  if (chunks.length <= 1) {
    // Rendered beside the chunks' place and moved into place only once verified, so that an
    // output that came out short (ffmpeg does not always fail on a full disk) never sits there.
    await removeWorkDir(job.workDir);
    await mkdir(job.workDir, { recursive: true });
    const whole = join(job.workDir, `whole${extname(output)}`);
    const result = await colorizeVideo({
      ...job.settings,
      input: info.path,
      probed: info,
      output: whole,
      overwrite: true,
      colorizer,
      signal: job.signal,
      onProgress: (p: Progress) => {
        if (p.phase === 'colorize') report({ phase: 'colorize', done: p.done, total, rendered: p.done, chunk: { index: 0, count: 1 } });
      },
    });
    const check = await verifyOutput(whole, info);
    if (!check.ok) {
      await removeWorkDir(job.workDir);
      throw new UserError(`render of ${output} came out incomplete: it ${check.reason}`);
    }
    try {
      await rename(whole, output);
    } catch (error) {
      throw new UserError(`could not move the finished file into place at ${output}: ${(error as Error).message}`);
    } finally {
      await removeWorkDir(job.workDir);
    }
    return { status: 'done', frames: result.frames, rendered: result.frames, shots: shots.length, chunks: 1, chunksReused: 0, damagedFrames: result.damagedFrames, renders: [result] };
  }

  const ext = extname(output);
  const manifest = await buildManifest(info, shots, chunks, job.settings, colorizer.config, colorizer.device, output);
  await prepareWorkDir(job.workDir, manifest);
  let reused = 0;
  const damagedFrames: DamagedRange[] = [];
  const renders: ColorizeResult[] = [];
  let rendered = 0;
  let finished = 0;
  const paths: string[] = [];
  for (const chunk of chunks) {
    if (job.signal?.aborted) throw new UserError('interrupted');
    const path = join(job.workDir, chunkFileName(chunk, ext));
    paths.push(path);
    const frames = chunk.endFrame - chunk.startFrame;
    const where = { index: chunk.index, count: chunks.length };
    if (await verifyChunk(path, frames)) {
      reused++;
    } else {
      await rm(path, { force: true });
      const chunkResult = await renderChunk({
        info,
        chunk,
        shots,
        path,
        settings: job.settings,
        colorizer,
        signal: job.signal,
        onFrames: (done) => report({ phase: 'colorize', done: finished + done, total, rendered: rendered + done, chunk: where }),
      });
      damagedFrames.push(...chunkResult.damagedFrames);
      renders.push(chunkResult);
      if (!(await verifyChunk(path, frames))) {
        await rm(path, { force: true });
        throw new UserError(`chunk ${chunk.index} of ${output} came out without its ${frames} frames`);
      }
      rendered += frames;
    }
    finished += frames;
    report({ phase: 'colorize', done: finished, total, rendered, chunk: where });
  }
  report({ phase: 'join', done: total, total, rendered });
  const frames = await joinChunks({ info, chunks: paths, workDir: job.workDir, output, signal: job.signal });
  if (!job.keepWork) await removeWorkDir(job.workDir);
  return { status: 'done', frames, rendered, shots: shots.length, chunks: chunks.length, chunksReused: reused, damagedFrames, renders };
}

export interface ChunkRender {
  info: VideoInfo;
  chunk: Chunk;
  /** The film's shots (those of the chunk are enough). */
  shots: Shot[];
  /** The chunk file (video only); written under a temporary name and renamed when complete. */
  path: string;
  settings: RenderSettings;
  colorizer: Colorizer;
  signal?: AbortSignal;
  onFrames?: (done: number) => void;
}

/** Renders one chunk of the plan: the single code path of batch chunks and farm workers. */
export async function renderChunk(job: ChunkRender): Promise<ColorizeResult> {
  const { chunk } = job;
  return colorizeVideo({
    ...job.settings,
    input: job.info.path,
    probed: job.info,
    output: job.path,
    overwrite: true,
    piece: { shots: shotsOfChunk(job.shots, chunk), startFrame: chunk.startFrame, endFrame: chunk.endFrame, warmupFrames: chunk.warmupFrames },
    audio: false,
    colorizer: job.colorizer,
    signal: job.signal,
    onProgress: (p: Progress) => {
      if (p.phase === 'colorize') job.onFrames?.(p.done);
    },
  });
}

/** What makes chunks reusable: same input, shots, plan, model and settings. `device` null: any device (farm). */
export async function buildManifest(
  info: VideoInfo,
  shots: Shot[],
  chunks: Chunk[],
  settings: RenderSettings,
  config: ModelConfig,
  device: string | null,
  output: string,
): Promise<Manifest> {
  const file = await sourceStamp(info);
  const modelFiles = await Promise.all(
    [config.global.file, config.local.file].map(async (name) => {
      const s = await stat(join(config.dir, name)).catch(() => undefined);
      return s ? [name, s.size, s.mtimeMs] : [name];
    }),
  );
  return {
    version: MANIFEST_VERSION,
    input: { path: info.path, size: file.size, mtimeMs: file.mtimeMs, frameCount: info.frameCount, fps: info.fps },
    shotsHash: createHash('sha256').update(JSON.stringify(shots.map((s) => [s.startFrame, s.endFrame]))).digest('hex').slice(0, 32),
    settings: {
      model: config.dir,
      modelName: config.name,
      modelFiles,
      device,
      resolution: settings.resolution ?? null,
      codec: settings.codec ?? 'h264',
      crf: settings.crf ?? 18,
      preset: settings.preset ?? null,
      temporalStrength: settings.temporalStrength ?? DEFAULT_TEMPORAL_STRENGTH,
      reference: settings.reference ?? null,
      referenceMap: settings.referenceMap ?? null,
      referenceStrength: settings.referenceStrength ?? null,
      shotSettings: settings.shotSettings ?? null,
      sideBySide: settings.sideBySide ?? false,
      samplesPerShot: settings.samplesPerShot ?? null,
      inferEvery: settings.inferEvery ?? DEFAULT_INFER_EVERY,
      cpuVariant: settings.cpuVariant ?? true,
    },
    output,
    chunks: chunks.map(({ index: _index, ...rest }) => rest),
  };
}

/** Size and modification time of the source: of its frame files together for an image sequence. */
async function sourceStamp(info: VideoInfo): Promise<{ size: number; mtimeMs: number }> {
  const sequence = info.sequence;
  if (!sequence) return stat(info.path);
  let size = 0;
  let mtimeMs = 0;
  for (let n = sequence.start; n < sequence.start + sequence.count; n++) {
    const frame = await stat(sequenceFramePath(sequence.pattern, n));
    size += frame.size;
    mtimeMs = Math.max(mtimeMs, frame.mtimeMs);
  }
  return { size, mtimeMs };
}

/** Keeps the work folder if its manifest matches this render exactly; otherwise starts it afresh. */
export async function prepareWorkDir(workDir: string, manifest: Manifest): Promise<void> {
  const path = join(workDir, 'manifest.json');
  const wanted = JSON.stringify(manifest);
  let current: string | undefined;
  try {
    current = JSON.stringify(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    current = undefined;
  }
  if (current !== wanted) {
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(temporary, path);
  } else {
    await removeStaleTemporaries(workDir);
  }
}

/** Removes the work folder and, when they are left empty, the folders above it up to `.colorize-work`. */
export async function removeWorkDir(workDir: string, rootName = WORK_FOLDER): Promise<void> {
  await rm(workDir, { recursive: true, force: true });
  let dir = dirname(workDir);
  while (basename(dir) !== '' && dir !== dirname(dir)) {
    const isRoot = basename(dir) === rootName;
    try {
      await rmdir(dir);
    } catch {
      break;
    }
    if (isRoot) break;
    dir = dirname(dir);
  }
}

export const WORK_FOLDER = '.colorize-work';

export { isAlive };
