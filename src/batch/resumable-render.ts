import { readdir, rmdir } from 'node:fs/promises';
import { UserError } from '../decode/errors.js';
import { plural } from '../plural.js';
import { basename, dirname, join, resolve } from 'node:path';
import { probeVideo, type VideoInfo } from '../decode/probe.js';
import type { VideoCodec } from '../encode/container.js';
import { isSequenceOutput } from '../decode/sequence.js';
import { defaultCodecFor, outputDepth } from '../encode/encoder-args.js';
import { Colorizer } from '../infer/colorizer.js';
import { defaultBatchSize } from '../infer/device.js';
import { type ColorizeOptions, type ColorizeResult, type Progress, colorizeVideo, sessionSettingsFor } from '../pipeline/colorize-video.js';
import { defaultModelPath } from '../pipeline/model-path.js';
import { checkOutputPath, defaultOutputPath, sequenceStem } from '../pipeline/output-path.js';
import type { StageName } from '../pipeline/stage-clock.js';
import { shotSettingsForFilm } from '../project/project-file.js';
import { type FilmProgress, type FilmResult, type RenderSettings, WORK_FOLDER, renderFilm } from './film.js';
import { DEFAULT_CHUNK_SECONDS, lockFolder } from './run-batch.js';
import { chunkSecondsFor } from './chunks.js';

/** A whole film at least this many chunks long is rendered resumably; a shorter one in one pass. */
export const RESUMABLE_MIN_CHUNKS = 4;

export interface FilmRenderOptions extends ColorizeOptions {
  /** false: always one pass (no work folder, nothing to resume). Default true. */
  resume?: boolean;
  /** Length of the resumable chunks (default DEFAULT_CHUNK_SECONDS, as in batch). */
  chunkSeconds?: number;
}

export interface FilmRenderResult extends ColorizeResult {
  /** Chunks of a resumable render and how many of them an earlier, interrupted run had finished; null for one pass. */
  chunks: number | null;
  chunksReused: number | null;
}

/**
 * The single command's render. A whole film of at least RESUMABLE_MIN_CHUNKS chunks is rendered
 * like a batch film (the same renderFilm): chunks of whole shots in `<output folder>/.colorize-work/`,
 * verified, joined with the source's audio and subtitles, so a render that is interrupted (Ctrl-C,
 * a crash, a reboot) resumes from its finished chunks when the same command runs again. Pieces
 * (`start`, `duration`, `shots`), short films, variable-frame-rate films (rendered whole anyway),
 * image-sequence outputs and `resume: false` render in one pass with colorizeVideo.
 */
export async function colorizeFilm(options: FilmRenderOptions): Promise<FilmRenderResult> {
  let probed: VideoInfo | undefined;
  let probeSeconds = 0;
  const onePass = async (): Promise<FilmRenderResult> => {
    const result = await colorizeVideo({ ...options, probed });
    if (probed) result.startupSeconds.probe += probeSeconds;
    return { ...result, chunks: null, chunksReused: null };
  };
  const chunkSeconds = options.chunkSeconds ?? DEFAULT_CHUNK_SECONDS;
  const piece = options.start !== undefined || options.duration !== undefined || options.shots !== undefined || options.piece !== undefined;
  if (options.resume === false || piece) return onePass();

  const started = performance.now();
  options.onProgress?.({ phase: 'probe', done: 0, total: 0, fps: NaN, etaSeconds: NaN });
  const info = (probed = await probeVideo(options.input, { fps: options.fps }));
  probeSeconds = (performance.now() - started) / 1000;
  const codec = options.codec ?? defaultCodecFor(info.samples.bits);
  const requested = options.output ?? defaultOutputPath(info.sequence ? sequenceStem(info.sequence) : options.input, codec);
  // A variable-frame-rate film is one chunk (chunkSecondsFor): nothing to resume, so one pass.
  if (info.durationSeconds < RESUMABLE_MIN_CHUNKS * chunkSecondsFor(info.variableFrameRate, chunkSeconds) || isSequenceOutput(resolve(requested))) return onePass();

  const output = await checkOutputPath(info.path, requested, codec, options.overwrite ?? false);
  const { input: _input, output: _output, colorizer: given, signal, onProgress, shots: _shots, start: _start, duration: _duration, audio: _audio, resume: _resume, chunkSeconds: _chunkSeconds, probed: _probed, ...rest } = options;
  // The project file is read now, so that the work folder's manifest holds its shot settings: a
  // resumed render whose settings file changed renders its chunks again.
  const settings: RenderSettings = options.settingsFile ? await shotSettingsForFilm({ ...rest, codec }, info.path) : { ...rest, codec };

  const workRoot = join(dirname(output), WORK_FOLDER);
  const workDir = join(workRoot, basename(output));
  const unlock = await lockFolder(dirname(output), `.${basename(output)}.colorize.lock`, 'another render of this output');
  let loading: Promise<Colorizer> | undefined;
  const colorizer = () => {
    if (!loading && !given) onProgress?.({ phase: 'model', done: 0, total: 0, fps: NaN, etaSeconds: NaN });
    return (loading ??= given ? Promise.resolve(given) : Colorizer.load(options.model ?? defaultModelPath(), options.device ?? 'auto', sessionSettingsFor(options)));
  };
  let colorizeStarted: number | undefined;
  try {
    const film = await renderFilm({
      info,
      output,
      workDir,
      settings,
      colorizer,
      chunkSeconds,
      replaceComplete: true,
      signal,
      onProgress: (p: FilmProgress) => onProgress?.(progressOf(p, (colorizeStarted ??= p.phase === 'colorize' ? performance.now() : undefined))),
    });
    const seconds = (performance.now() - started) / 1000;
    return summarize(film, { info, output, seconds, probeSeconds, colorizer: await colorizer(), codec });
  } catch (error) {
    const kept = (await readdir(workDir).catch(() => [] as string[])).filter((name) => name.startsWith('chunk-') && !name.includes('.partial-')).length;
    if (signal?.aborted && kept > 0) throw new UserError(`interrupted; ${plural(kept, 'finished chunk')} kept in ${workDir}: run the same command again to resume`);
    throw error;
  } finally {
    if (loading && !given) await (await loading.catch(() => undefined))?.release();
    await unlock();
    await rmdir(workRoot).catch(() => undefined);
  }
}

function progressOf(p: FilmProgress, colorizeStarted: number | undefined): Progress {
  if (p.phase !== 'colorize' || colorizeStarted === undefined) return { phase: p.phase, done: p.done, total: p.total, fps: NaN, etaSeconds: NaN };
  const seconds = (performance.now() - colorizeStarted) / 1000;
  const fps = seconds >= 0.5 && p.rendered > 0 ? p.rendered / seconds : NaN;
  return { phase: 'colorize', done: p.done, total: p.total, fps, etaSeconds: fps > 0 ? (p.total - p.done) / fps : NaN };
}

/** The figures of one render from those of the chunk renders this run made (none when every chunk was kept). */
function summarize(
  film: FilmResult,
  run: { info: VideoInfo; output: string; seconds: number; probeSeconds: number; colorizer: Colorizer; codec: VideoCodec },
): FilmRenderResult {
  const renders = film.renders ?? [];
  const { info, colorizer } = run;
  const stageSeconds = {} as Record<StageName, number>;
  for (const r of renders) for (const [stage, s] of Object.entries(r.stageSeconds) as [StageName, number][]) stageSeconds[stage] = (stageSeconds[stage] ?? 0) + s;
  const sourceBits = info.samples.bits;
  return {
    input: info.path,
    output: run.output,
    frames: film.frames,
    shots: film.shots ?? 0,
    seconds: run.seconds,
    fps: film.rendered / run.seconds,
    device: colorizer.device,
    batchSize: renders[0]?.batchSize ?? defaultBatchSize(colorizer.device),
    framesInferred: renders.reduce((sum, r) => sum + r.framesInferred, 0),
    model: colorizer.description,
    stageSeconds,
    startupSeconds: { probe: run.probeSeconds, deviceSelect: colorizer.startup.selectSeconds, modelLoad: colorizer.startup.loadSeconds },
    queueHighWater: Math.max(0, ...renders.map((r) => r.queueHighWater)),
    warnings: [...new Set(renders.flatMap((r) => r.warnings))],
    sourceBits,
    outputBits: outputDepth(run.codec, sourceBits, false),
    damagedFrames: film.damagedFrames ?? [],
    queueFrames: Math.max(0, ...renders.map((r) => r.queueFrames)),
    chunks: film.chunks,
    chunksReused: film.chunksReused,
  };
}
