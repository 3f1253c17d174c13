import { basename, dirname, extname } from 'node:path';
import { UserError } from '../decode/errors.js';
import { probeVideo, type VideoInfo } from '../decode/probe.js';
import { type Frame, frameGeometry } from '../decode/frame.js';
import { readFrames } from '../decode/frame-reader.js';
import { BoundedQueue } from '../decode/bounded-queue.js';
import { Colorizer } from '../infer/colorizer.js';
import type { DeviceRequest } from '../infer/device.js';
import { workingGeometry } from '../infer/geometry.js';
import { applyAbTransform, isIdentityTransform } from '../color/palette.js';
import { rasterizeHints } from '../infer/hints.js';
import type { FrameHint } from '../project/project-file.js';
import { readProjectFile, type ShotSettingsMap } from '../project/project-file.js';
import { type LoadedReference, type ShotPlan, filmShotNumbers, loadReferenceImages, planShots } from './shot-plan.js';
import { lumaToLightnessLut } from '../color/luts.js';
import { ComposePool } from '../color/compose-pool.js';
import { TemporalWorker } from '../temporal/pool.js';
import { DEFAULT_TEMPORAL_STRENGTH } from '../temporal/smoother.js';
import { parseShotSelection, type Shot } from '../shots/index.js';
import { FrameWriter } from '../encode/frame-writer.js';
import { removeStaleTemporaries } from '../encode/temp-files.js';
import type { VideoCodec } from '../encode/container.js';
import { checkOutputPath, defaultOutputPath } from './output-path.js';
import { type FrameSegment, framesIn, rangeFromTimes, segmentsForShots } from './frame-range.js';
import { FramePreparer, type PreparedFrame } from './frame-prep.js';
import { ShotGlobals } from './shot-globals.js';
import { StageClock, type StageName } from './stage-clock.js';
import { joinSideBySide, sideBySideGeometry } from './side-by-side.js';
import { findShots } from './find-shots.js';
import { defaultModelPath } from './model-path.js';
import { RateEstimator } from './rate.js';
import { plural } from '../plural.js';

export interface ColorizeOptions {
  input: string;
  /** Default: `<name>.color.<ext>` beside the input. */
  output?: string;
  overwrite?: boolean;
  /** Folder holding model.json (or the model.json itself). Default: the shipped models/. */
  model?: string;
  device?: DeviceRequest;
  batchSize?: number;
  /** Working short side of the network input; default from model.json. */
  resolution?: number;
  codec?: VideoCodec;
  crf?: number;
  preset?: string;
  /** Preview renders: a piece of the film in seconds. */
  start?: number;
  duration?: number;
  /** Shot selection like "3,5-7" (shot numbers as `colorize-video shots` prints them). */
  shots?: string;
  /** 0 disables the temporal stage. */
  temporalStrength?: number;
  /** Global features from this image for every shot. */
  reference?: string;
  /** Global features from an image per shot number. */
  referenceMap?: Record<string, string>;
  /** How far a reference image moves its shot's colors to the reference's palette, 0..1 (default 1). */
  referenceStrength?: number;
  /**
   * Per-shot settings (reference, intensity, temporal strength, hints) by shot number, as a project
   * file holds them (src/project/project-file.ts); reference paths absolute. They win over the
   * film-wide options for their shot.
   */
  shotSettings?: ShotSettingsMap;
  /** A project file (`<film>.colorize.json`) whose shot settings apply; `shotSettings` entries win over its own. */
  settingsFile?: string;
  sideBySide?: boolean;
  /** Carry the source's audio and subtitles (default true). Segment renders that are joined later turn it off. */
  audio?: boolean;
  /** An already loaded model to reuse across many renders (batch mode); it is not released here. */
  colorizer?: Colorizer;
  /** Frames buffered between stages; memory is bounded by it. */
  queueSize?: number;
  /** Global-network samples per shot. */
  samplesPerShot?: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

export interface Progress {
  /** probe: reading the input; model: loading the model; shots: scanning for cuts; colorize: rendering. */
  phase: 'probe' | 'model' | 'shots' | 'colorize';
  done: number;
  total: number;
  fps: number;
  etaSeconds: number;
}

export interface ColorizeResult {
  input: string;
  output: string;
  frames: number;
  shots: number;
  seconds: number;
  fps: number;
  device: string;
  model: string;
  stageSeconds: Record<StageName, number>;
  /** Highest number of frames held in the inter-stage queues at once. */
  queueHighWater: number;
  /** Things the user should know that did not stop the run. */
  warnings: string[];
}

/** Colorizes a film (or a piece of it) end to end: the library function behind the CLI and batch mode. */
export async function colorizeVideo(options: ColorizeOptions): Promise<ColorizeResult> {
  const started = performance.now();
  const clock = new StageClock();
  const codec = options.codec ?? 'h264';
  options.onProgress?.({ phase: 'probe', done: 0, total: 0, fps: NaN, etaSeconds: NaN });
  const info = await probeVideo(options.input);
  if (options.sideBySide && info.width % 2 !== 0) throw new UserError('--side-by-side needs an even frame width', 2);
  const output = await checkOutputPath(options.input, options.output ?? defaultOutputPath(options.input, codec), codec, options.overwrite ?? false);
  await removeStaleTemporaries(dirname(output), basename(output, extname(output)));
  if (!options.colorizer) options.onProgress?.({ phase: 'model', done: 0, total: 0, fps: NaN, etaSeconds: NaN });
  const colorizer = options.colorizer ?? (await Colorizer.load(options.model ?? defaultModelPath(), options.device ?? 'auto'));
  try {
    const { shots, segments, filmShots } = await clock.time('shots', () => planRender(info, options));
    const fromFile = options.settingsFile ? (await readProjectFile(options.settingsFile)).shots : {};
    const plans = planShots(
      { ...options, temporalStrength: options.temporalStrength ?? DEFAULT_TEMPORAL_STRENGTH, shotSettings: { ...fromFile, ...options.shotSettings } },
      shots,
      filmShots.length,
      filmShotNumbers(filmShots),
    );
    const references = await loadReferenceImages(plans, colorizer.config.global.size);
    return await render({ info, output, codec, colorizer, shots, segments, plans, references, options, clock, started });
  } finally {
    if (!options.colorizer) await colorizer.release();
  }
}

async function planRender(info: VideoInfo, options: ColorizeOptions): Promise<{ shots: Shot[]; segments: FrameSegment[]; filmShots: Shot[] }> {
  const report = (done: number, total: number) => options.onProgress?.({ phase: 'shots', done, total, fps: NaN, etaSeconds: NaN });
  report(0, info.frameCount);
  if (options.shots !== undefined) {
    if (options.start !== undefined || options.duration !== undefined) throw new UserError('--shot cannot be combined with --start/--duration', 2);
    const whole = rangeFromTimes(info.frameCount, info.fps);
    const shots = await findShots(info, whole, { signal: options.signal, onProgress: report });
    const selected = parseShotSelectionOrUsage(options.shots, shots.length);
    return { shots, segments: segmentsForShots(shots, selected), filmShots: shots };
  }
  const range = rangeFromTimes(info.frameCount, info.fps, options.start, options.duration);
  const whole = range.startFrame === 0 && range.endFrame === info.frameCount;
  // Settings and reference maps are keyed by the film's shot numbers: a piece rendered with them
  // takes the film's shots (cut to the piece) rather than scanning the piece on its own.
  const keyed = Object.keys(options.referenceMap ?? {}).length > 0 || options.settingsFile !== undefined || Object.keys(options.shotSettings ?? {}).length > 0;
  if (whole || !keyed) {
    const shots = await findShots(info, range, { signal: options.signal, onProgress: report });
    return { shots, segments: [range], filmShots: shots };
  }
  const filmShots = await findShots(info, rangeFromTimes(info.frameCount, info.fps), { signal: options.signal, onProgress: report });
  const shots = filmShots
    .filter((s) => s.endFrame > range.startFrame && s.startFrame < range.endFrame)
    .map((s) => {
      const startFrame = Math.max(s.startFrame, range.startFrame);
      const endFrame = Math.min(s.endFrame, range.endFrame);
      return { ...s, startFrame, endFrame, startTime: startFrame / info.fps, endTime: Math.min(s.endTime, endFrame / info.fps) };
    });
  return { shots, segments: [range], filmShots };
}

function parseShotSelectionOrUsage(text: string, count: number): number[] {
  try {
    return parseShotSelection(text, count);
  } catch (error) {
    throw new UserError((error as Error).message, 2);
  }
}

interface RenderPlan {
  info: VideoInfo;
  output: string;
  codec: VideoCodec;
  colorizer: Colorizer;
  shots: Shot[];
  segments: FrameSegment[];
  plans: Map<number, ShotPlan>;
  references: Map<string, LoadedReference>;
  options: ColorizeOptions;
  clock: StageClock;
  started: number;
}

interface ColoredFrame {
  prepared: PreparedFrame;
  ab: Float32Array;
}

interface ComposingFrame {
  frame: Frame;
  chroma: Promise<{ cb: Uint8Array; cr: Uint8Array }>;
}

async function render(plan: RenderPlan): Promise<ColorizeResult> {
  const { info, colorizer, shots, segments, options, clock } = plan;
  const config = colorizer.config;
  const geometry = frameGeometry(info.width, info.height, info.decodeFormat);
  const working = workingGeometry(info.width, info.height, options.resolution ?? config.local.workingShortSide, config.local.multipleOf, config.local.outputStride);
  const lut = lumaToLightnessLut(info.colorRange);
  const preparer = new FramePreparer(geometry, working, lut);
  const composer = await ComposePool.create({
    chromaWidth: geometry.chromaWidth,
    chromaHeight: geometry.chromaHeight,
    gridWidth: working.gridWidth,
    gridHeight: working.gridHeight,
    matrix: info.colorMatrix,
    range: info.colorRange,
  });
  const batchSize = Math.max(1, options.batchSize ?? 4);
  const queueSize = Math.max(batchSize, options.queueSize ?? 2 * batchSize);
  const totalFrames = framesIn(segments);
  const shotOf = shotLookup(shots);
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const globals = new ShotGlobals(colorizer, {
    path: info.path,
    fps: info.fps,
    shots,
    segments,
    lightnessLut: lut,
    references: new Map([...plan.plans].filter(([, p]) => p.reference).map(([index, p]) => [index, plan.references.get(p.reference!)!.view])),
    palettes: new Map(
      [...plan.plans]
        .filter(([, p]) => p.reference && p.referenceStrength > 0)
        .map(([index, p]) => [index, { palette: plan.references.get(p.reference!)!.palette, strength: p.referenceStrength }]),
    ),
    workingSize: { width: working.width, height: working.height },
    samplesPerShot: options.samplesPerShot,
    signal: abort.signal,
  });
  const strength = options.temporalStrength ?? DEFAULT_TEMPORAL_STRENGTH;
  const anySmoothing = [...plan.plans.values()].some((p) => p.temporalStrength > 0);
  const temporal = anySmoothing ? await TemporalWorker.create(working.gridWidth, working.gridHeight, { strength }) : undefined;
  const writer = new FrameWriter({
    info,
    geometry: options.sideBySide ? sideBySideGeometry(geometry) : geometry,
    outputPath: plan.output,
    settings: { codec: plan.codec, crf: options.crf ?? 18, preset: options.preset },
    includeAudio: options.audio !== false,
    segments: isWholeFilm(segments, info) ? undefined : segments.map((s) => ({ start: s.startFrame / info.fps, end: s.endFrame / info.fps })),
  });
  const decoded = new BoundedQueue<PreparedFrame>(queueSize);
  const colored = new BoundedQueue<ColoredFrame>(queueSize);
  const composing = new BoundedQueue<ComposingFrame>(composer.size * 2);
  let written = 0;
  const rate = new RateEstimator();

  const decodeStage = async () => {
    let lastShot = -1;
    for (const segment of segments) {
      const frames = readFrames({
        path: info.path,
        geometry,
        fps: info.fps,
        startFrame: segment.startFrame,
        frameCount: segment.endFrame - segment.startFrame,
        signal: abort.signal,
      });
      let filmFrame = segment.startFrame;
      let firstOfSegment = true;
      for (;;) {
        const next = await clock.time('decode', () => frames.next());
        if (next.done) break;
        const shot = shotOf(filmFrame);
        const planes = clock.timeSync('decode', () => preparer.lightnessPlanes(next.value.y));
        await decoded.push({ frame: next.value, filmFrame, shot, startsShot: firstOfSegment || shot !== lastShot, ...planes });
        lastShot = shot;
        firstOfSegment = false;
        filmFrame++;
      }
    }
    decoded.end();
  };

  // Colour hints reach the model on the frame they were given on (the temporal stage carries them on).
  const hintsByFrame = new Map<number, FrameHint[]>();
  if (colorizer.acceptsHints) {
    for (const shotPlan of plan.plans.values()) for (const hint of shotPlan.hints) hintsByFrame.set(hint.frame, [...(hintsByFrame.get(hint.frame) ?? []), hint]);
  }
  const hintPlanes = (list: FrameHint[] | undefined) => (list ? rasterizeHints(list, working.gridWidth, working.gridHeight) : undefined);

  const inferStage = async () => {
    let batch: PreparedFrame[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const vectors = await Promise.all(batch.map((p) => globals.forShot(p.shot)));
      const hints = hintsByFrame.size > 0 ? batch.map((p) => hintPlanes(hintsByFrame.get(p.filmFrame))) : undefined;
      const abs = await clock.time('infer', () => colorizer.colorize(batch.map((p) => p.working), working.width, working.height, vectors, hints));
      for (let i = 0; i < batch.length; i++) await colored.push({ prepared: batch[i], ab: abs[i] });
      batch = [];
    };
    for await (const prepared of decoded) {
      batch.push(prepared);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    colored.end();
  };

  const smoothStage = async () => {
    for await (const { prepared, ab } of colored) {
      let smoothed = ab;
      const shotPlan = plan.plans.get(prepared.shot)!;
      if (temporal) {
        smoothed = await clock.time('temporal', async () => {
          if (prepared.startsShot) await temporal.reset(shotPlan.temporalStrength);
          return temporal.process(prepared.grid.slice(), ab);
        });
      }
      const transform = await globals.transformForShot(prepared.shot);
      if (!isIdentityTransform(transform, shotPlan.intensity)) applyAbTransform(smoothed, transform, shotPlan.intensity, prepared.grid);
      const chroma = composer.compose(prepared.chroma, prepared.grid, smoothed);
      chroma.catch(() => undefined); // awaited in order by the write stage; failures surface there
      await composing.push({ frame: prepared.frame, chroma });
    }
    composing.end();
  };

  const encodeStage = async () => {
    for await (const { frame, chroma } of composing) {
      const { cb, cr } = await chroma;
      const planes = options.sideBySide ? joinSideBySide(geometry, frame.y, cb, cr) : { y: frame.y, cb, cr };
      await clock.time('encode', () => writer.write(planes.y, planes.cb, planes.cr));
      written++;
      if (options.onProgress && (written === 1 || written % 5 === 0 || written === totalFrames)) {
        rate.add(performance.now() / 1000, written);
        options.onProgress({ phase: 'colorize', done: written, total: totalFrames, fps: rate.fps(), etaSeconds: rate.etaSeconds(totalFrames) });
      }
    }
  };

  const fail = (error: unknown) => {
    decoded.fail(error);
    colored.fail(error);
    composing.fail(error);
    abort.abort();
  };
  globals.start();
  try {
    const stages = [decodeStage(), inferStage(), smoothStage(), encodeStage()].map((p) => p.catch((error: unknown) => (fail(error), Promise.reject(error))));
    await Promise.all(stages);
    if (options.signal?.aborted) throw new UserError('interrupted');
    if (written !== totalFrames) throw new UserError(`wrote ${written} of ${totalFrames} frames`);
    await clock.time('encode', () => writer.finish());
  } catch (error) {
    abort.abort();
    await writer.abort();
    throw options.signal?.aborted ? new UserError('interrupted') : error;
  } finally {
    globals.stop();
    options.signal?.removeEventListener('abort', onOuterAbort);
    await temporal?.close();
    clock.seconds.compose = composer.busySeconds;
    await composer.close();
  }
  const seconds = (performance.now() - plan.started) / 1000;
  return {
    input: info.path,
    output: plan.output,
    frames: written,
    shots: new Set(segmentsShots(segments, shots)).size,
    seconds,
    fps: written / seconds,
    device: colorizer.device,
    model: `${config.name} (${basename(config.dir)})`,
    stageSeconds: clock.seconds,
    queueHighWater: decoded.highWater + colored.highWater + composing.highWater,
    warnings: [
      ...(info.variableFrameRate
        ? [`${info.path} has a variable frame rate: the output plays its ${written} frames at a constant ${info.frameRate} fps (same frames and duration, frame times evened out)`]
        : []),
      ...(!colorizer.acceptsHints && [...plan.plans.values()].some((p) => p.hints.length > 0) ? ['color hints in the settings were not used: this model has no hint input'] : []),
    ],
  };
}

function isWholeFilm(segments: FrameSegment[], info: VideoInfo): boolean {
  return segments.length === 1 && segments[0].startFrame === 0 && segments[0].endFrame === info.frameCount;
}

function segmentsShots(segments: FrameSegment[], shots: Shot[]): number[] {
  return shots.filter((shot) => segments.some((s) => s.startFrame <= shot.startFrame && shot.endFrame <= s.endFrame)).map((s) => s.index);
}

/** Shot index of a film frame, for frames arriving in order. */
function shotLookup(shots: Shot[]): (filmFrame: number) => number {
  let cursor = 0;
  return (filmFrame) => {
    if (cursor >= shots.length || filmFrame < shots[cursor].startFrame) cursor = 0;
    while (cursor < shots.length - 1 && filmFrame >= shots[cursor].endFrame) cursor++;
    return shots[cursor].index;
  };
}
