import type { VideoCodec } from '../encode/container.js';
import { defaultCodecFor } from '../encode/encoder-args.js';
import { access, constants, mkdir, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { UserError } from '../decode/errors.js';
import { probeVideo, type VideoInfo } from '../decode/probe.js';
import { defaultExtension } from '../encode/container.js';
import { Colorizer } from '../infer/colorizer.js';
import { defaultModelPath } from '../pipeline/model-path.js';
import { sessionSettingsFor } from '../pipeline/colorize-video.js';
import { discoverInputs, mirroredOutputPath } from './discover.js';
import { type FilmProgress, type RenderSettings, WORK_FOLDER, isAlive, renderFilm } from './film.js';
import { type BatchEntry, BatchReport, type BatchReportFile, newEntry } from './report.js';
import { shotSettingsForFilm } from '../project/project-file.js';

export const DEFAULT_CHUNK_SECONDS = 30;
export const DEFAULT_REPORT_NAME = 'colorize-batch-report.json';

export interface BatchOptions {
  /** Files and folders (scanned recursively). */
  paths: string[];
  outDir: string;
  /** Glob for files in folders (default: common video extensions). */
  pattern?: string;
  /** Where the JSON report goes; default `<out-dir>/colorize-batch-report.json`; false for none. */
  report?: string | false;
  settings: RenderSettings;
  /** Long films are rendered (and resumed) as chunks of whole shots at least this long. */
  chunkSeconds?: number;
  /** Warm-up before a piece of a long shot (default DEFAULT_WARMUP_SECONDS). */
  warmupSeconds?: number;
  keepWork?: boolean;
  /** A loaded model to use (not released here); otherwise one is loaded on first need and released at the end. */
  colorizer?: Colorizer;
  signal?: AbortSignal;
  onProgress?: (progress: BatchProgress) => void;
}

export interface BatchProgress {
  /** 0-based position of the current file among all files. */
  fileIndex: number;
  fileCount: number;
  /** Files finished (done, skipped or failed). */
  filesFinished: number;
  /** The current file, relative to its folder argument. */
  file: string;
  phase: FilmProgress['phase'];
  chunk?: { index: number; count: number };
  /** Frames of the current file finished / in all (frames scanned in the shots phase). */
  fileDone: number;
  fileTotal: number;
  /** Colorized frames per second over this run. */
  fps: number;
  /** Seconds until the whole batch is done (NaN before the rate is known). */
  etaSeconds: number;
}

export interface BatchSummary {
  report: BatchReportFile;
  reportPath: string | undefined;
  done: number;
  skipped: number;
  failed: number;
}

interface PlannedFile {
  entry: BatchEntry;
  /** The film as found: a video file or a folder holding an image sequence. */
  input: string;
  relative: string;
  info?: VideoInfo;
  output?: string;
  /** --codec, or the default for the film's depth (lossless ffv1 above 8 bits). */
  codec?: VideoCodec;
}

/** Raised for problems that stop the whole batch (full disk, unloadable model). */
class FatalBatchError extends UserError {}

/**
 * Colorizes many files one after another with one loaded model. A failing file is recorded and
 * the batch goes on; outputs already complete are skipped, so running the same batch again
 * resumes it. Throws a UserError only for problems that stop everything (unwritable out-dir,
 * full disk, model that does not load, interruption).
 */
export async function runBatch(options: BatchOptions): Promise<BatchSummary> {
  const outDir = resolve(options.outDir);
  await ensureWritableFolder(outDir);
  const chunkSeconds = options.chunkSeconds ?? DEFAULT_CHUNK_SECONDS;
  if (!(chunkSeconds > 0)) throw new UserError('chunk length must be a positive number of seconds', 2);
  const unlock = await lockFolder(outDir);
  try {
    return await runLocked(options, outDir, chunkSeconds);
  } finally {
    await unlock();
  }
}

async function runLocked(options: BatchOptions, outDir: string, chunkSeconds: number): Promise<BatchSummary> {
  const inputs = await discoverInputs(options.paths, { pattern: options.pattern, exclude: [outDir] });
  if (inputs.length === 0) {
    throw new UserError(`no video files found in ${options.paths.join(', ')}${options.pattern ? ` matching ${options.pattern}` : ''}`, 2);
  }

  const planned: PlannedFile[] = [];
  const outputs = new Map<string, string>();
  for (const item of inputs) {
    const file: PlannedFile = { entry: newEntry(item.input, null), input: item.input, relative: item.relative };
    planned.push(file);
    try {
      file.entry.output = mirroredOutputPath(outDir, item.relative, defaultExtension(item.input, options.settings.codec ?? 'h264'));
      file.info = await probeVideo(item.input, { fps: options.settings.fps });
      const codec = options.settings.codec ?? defaultCodecFor(file.info.samples.bits);
      const output = mirroredOutputPath(outDir, item.relative, defaultExtension(item.input, codec));
      file.entry.output = output;
      const other = outputs.get(output);
      if (other) throw new UserError(`its output ${output} would be the same as that of ${other}`);
      outputs.set(output, item.input);
      file.codec = codec;
      file.output = output;
    } catch (error) {
      fail(file.entry, error);
    }
  }

  const reportPath = options.report === false ? undefined : resolve(options.report ?? join(outDir, DEFAULT_REPORT_NAME));
  const report = new BatchReport(reportPath, outDir, planned.map((p) => p.entry));
  try {
    await report.save();
  } catch (error) {
    throw new UserError(`cannot write the batch report ${reportPath}: ${oneLine(error)}`);
  }
  const save = async () => {
    try {
      await report.save();
    } catch (error) {
      throw new FatalBatchError(isDiskFull(error) ? `disk full: cannot write the batch report ${reportPath}` : `cannot write the batch report ${reportPath}: ${oneLine(error)}`);
    }
  };

  let colorizer: Promise<Colorizer> | undefined = options.colorizer ? Promise.resolve(options.colorizer) : undefined;
  let loadedHere = false;
  const getColorizer = () => {
    if (!colorizer) {
      loadedHere = true;
      colorizer = Colorizer.load(options.settings.model ?? defaultModelPath(), options.settings.device ?? 'auto', sessionSettingsFor(options.settings)).catch((error: unknown) => {
        throw new FatalBatchError(`the model could not be loaded: ${oneLine(error)}`);
      });
    }
    return colorizer;
  };

  const totalFrames = planned.reduce((sum, p) => sum + (p.info?.frameCount ?? 0), 0);
  let framesFinished = 0;
  let renderedFrames = 0;
  /** Seconds spent on files that rendered frames (skipped files do not count towards the rate). */
  let workSeconds = 0;
  let filesFinished = planned.filter((p) => p.entry.status === 'failed').length;

  try {
    for (let i = 0; i < planned.length; i++) {
      const file = planned[i];
      if (!file.info || !file.output) continue;
      if (options.signal?.aborted) throw new UserError('interrupted');
      const info = file.info;
      const started = performance.now();
      let renderedInFile = 0;
      const progress = (p: FilmProgress) => {
        renderedInFile = p.rendered;
        const seconds = workSeconds + (renderedInFile > 0 ? (performance.now() - started) / 1000 : 0);
        const fps = seconds >= 0.5 ? (renderedFrames + renderedInFile) / seconds : NaN;
        const doneOverall = framesFinished + (p.phase === 'shots' ? 0 : p.done);
        options.onProgress?.({
          fileIndex: i,
          fileCount: planned.length,
          filesFinished,
          file: file.relative,
          phase: p.phase,
          chunk: p.chunk,
          fileDone: p.done,
          fileTotal: p.total,
          fps,
          etaSeconds: fps > 0 ? (totalFrames - doneOverall) / fps : NaN,
        });
      };
      progress({ phase: 'shots', done: 0, total: info.frameCount, rendered: 0 });
      // On disk the file being rendered reads "interrupted" until it ends, so that a batch that
      // dies (kill -9, power loss) leaves a report saying so rather than "pending".
      Object.assign(file.entry, { status: 'interrupted', error: 'interrupted' });
      await save();
      try {
        const result = await renderFilm({
          info,
          output: file.output,
          workDir: join(outDir, WORK_FOLDER, relative(outDir, file.output)),
          settings: { ...(await shotSettingsForFilm(options.settings, file.input)), codec: file.codec },
          colorizer: getColorizer,
          chunkSeconds,
          warmupSeconds: options.warmupSeconds,
          keepWork: options.keepWork,
          signal: options.signal,
          onProgress: progress,
        });
        const seconds = (performance.now() - started) / 1000;
        Object.assign(file.entry, {
          status: result.status,
          frames: result.frames,
          shots: result.shots,
          seconds,
          fps: result.status === 'done' && result.rendered > 0 ? result.rendered / seconds : null,
          error: null,
          chunks: result.chunks,
          chunksReused: result.chunksReused,
          damagedFrames: result.damagedFrames ?? [],
        });
      } catch (error) {
        file.entry.seconds = (performance.now() - started) / 1000;
        if (options.signal?.aborted) {
          file.entry.status = 'interrupted';
          file.entry.error = 'interrupted';
          throw new UserError('interrupted');
        }
        fail(file.entry, error);
        if (error instanceof FatalBatchError) throw error;
        if (isDiskFull(error) || (await lowOnSpace(outDir))) {
          if (!isDiskFull(error)) file.entry.error = `disk full? ${file.entry.error}`;
          throw new FatalBatchError(`disk full while writing to ${outDir} (${file.relative} failed; free some space and run the batch again to resume)`);
        }
        if (isReadOnly(error)) throw new FatalBatchError(`output folder is not writable: ${outDir}`);
      } finally {
        if (renderedInFile > 0) workSeconds += (performance.now() - started) / 1000;
        renderedFrames += renderedInFile;
        framesFinished += info.frameCount;
        filesFinished++;
      }
      await save();
    }
  } finally {
    report.data.finished = true;
    await report.save().catch(() => undefined);
    if (loadedHere && colorizer) await (await colorizer.catch(() => undefined))?.release();
  }
  const count = (status: BatchEntry['status']) => report.data.files.filter((f) => f.status === status).length;
  return { report: report.data, reportPath, done: count('done'), skipped: count('skipped'), failed: count('failed') };
}

function fail(entry: BatchEntry, error: unknown): void {
  entry.status = 'failed';
  entry.error = error instanceof UserError ? oneLine(error) : `internal error: ${oneLine(error)}`;
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}

function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || /no space left on device|disk quota exceeded/i.test(oneLine(error));
}

/** Below this much free space a failed render is taken for a full disk (ffmpeg does not always say so). */
const LOW_SPACE_BYTES = 64 * 1024 * 1024;

async function lowOnSpace(folder: string): Promise<boolean> {
  try {
    const fs = await statfs(folder);
    return fs.bavail * fs.bsize < LOW_SPACE_BYTES;
  } catch {
    return false;
  }
}

function isReadOnly(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'EROFS' || /read-only file system/i.test(oneLine(error));
}

async function ensureWritableFolder(folder: string): Promise<void> {
  const existing = await stat(folder).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new UserError(`--out-dir is not a folder: ${folder}`, 2);
  try {
    await mkdir(folder, { recursive: true });
  } catch (error) {
    if (isDiskFull(error)) throw new UserError(`disk full: cannot create the output folder ${folder}`);
    throw new UserError(`cannot create the output folder ${folder} (${(error as NodeJS.ErrnoException).code ?? oneLine(error)})`);
  }
  try {
    await access(folder, constants.W_OK);
  } catch {
    throw new UserError(`output folder is not writable: ${folder}`);
  }
}

const LOCK_NAME = '.colorize-batch.lock';

/**
 * One batch at a time per out-dir (`lockName`; `who` names the holder in the refusal): two would
 * render the same chunks. A lock left by a process that no longer runs (kill -9) is taken over.
 * Creating it is also the real test that the folder can be written to.
 */
export async function lockFolder(outDir: string, lockName = LOCK_NAME, who = 'another batch'): Promise<() => Promise<void>> {
  const path = join(outDir, lockName);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      return () => rm(path, { force: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        if (isDiskFull(error)) throw new UserError(`disk full: cannot write to the output folder ${outDir}`);
        throw new UserError(`output folder is not writable: ${outDir} (${code ?? oneLine(error)})`);
      }
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new UserError(`${who} (process ${pid}) is working in ${outDir}; wait for it or stop it first`);
      }
      await rm(path, { force: true });
    }
  }
  throw new UserError(`could not lock the output folder ${outDir}`);
}
