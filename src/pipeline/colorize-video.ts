import { basename, dirname, extname } from 'node:path';
import { UserError } from '../decode/errors.js';
import { probeVideo, type VideoInfo } from '../decode/probe.js';
import { type Frame, type FrameGeometry, type Samples, frameGeometry } from '../decode/frame.js';
import { readFrames } from '../decode/frame-reader.js';
import type { DamagedRange } from '../decode/decode-monitor.js';
import { BoundedQueue } from '../decode/bounded-queue.js';
import { Colorizer } from '../infer/colorizer.js';
import { type DeviceRequest, type SessionSettings, cpuInferenceWorkers, defaultBatchSize } from '../infer/device.js';
import { workingGeometry } from '../infer/geometry.js';
import { lumaToLightnessLut, lumaToLightnessLutAtDepth } from '../color/luts.js';
import { applyAbTransform, isIdentityTransform } from '../color/palette.js';
import { rasterizeHints } from '../infer/hints.js';
import type { FrameHint } from '../project/project-file.js';
import { readProjectFile, type ShotSettingsMap } from '../project/project-file.js';
import { type LoadedReference, type ShotPlan, filmShotNumbers, loadReferenceImages, planShots } from './shot-plan.js';
import { ComposePool } from '../color/compose-pool.js';
import { BufferPool } from '../workers/buffer-pool.js';
import { TemporalWorker } from '../temporal/pool.js';
import { DEFAULT_TEMPORAL_STRENGTH } from '../temporal/smoother.js';
import { parseShotSelection, type Shot } from '../shots/index.js';
import { FrameWriter } from '../encode/frame-writer.js';
import { removeStaleTemporaries } from '../encode/temp-files.js';
import type { VideoCodec } from '../encode/container.js';
import { defaultCodecFor, encoderInput, outputDepth } from '../encode/encoder-args.js';
import { assertEncoderTakes } from '../encode/capabilities.js';
import type { WorkingGeometry } from '../infer/geometry.js';
import { decodeFilter } from './decode-filter.js';
import { lumaCoefficients } from '../color/ycbcr.js';
import { isSequenceOutput } from '../decode/sequence.js';
import { sequenceStem } from './output-path.js';
import { checkOutputPath, defaultOutputPath } from './output-path.js';
import { type FrameSegment, framesIn, rangeFromTimes, segmentsForShots } from './frame-range.js';
import { FramePreparer, type PreparedFrame } from './frame-prep.js';
import { DEFAULT_SAMPLES_PER_SHOT, ShotGlobals, touchedBy } from './shot-globals.js';
import { scanGlobals } from './scan-samples.js';
import { loadModelConfig } from '../infer/model-config.js';
import { StageClock, type StageName } from './stage-clock.js';
import { joinSideBySide, sideBySideGeometry } from './side-by-side.js';
import { findShots } from './find-shots.js';
import { defaultModelPath } from './model-path.js';
import { RateEstimator } from './rate.js';

export interface ColorizeOptions {
  input: string;
  /** Default: `<name>.color.<ext>` beside the input. */
  output?: string;
  overwrite?: boolean;
  /** Folder holding model.json (or the model.json itself). Default: the shipped models/. */
  model?: string;
  device?: DeviceRequest;
  /** Frames per inference batch; default from the device (`defaultBatchSize`: 1 on the CPU, 4 on a GPU). */
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
  /** onnxruntime intra-op threads on the CPU device; default from the core count. */
  inferThreads?: number;
  /** Copies of the network on the CPU device running batches side by side; default from the core count and `inferEvery` (cpuInferenceWorkers). */
  inferWorkers?: number;
  /**
   * Run the network on every Nth frame of a shot (default `DEFAULT_INFER_EVERY`). The frames between
   * get the previous frame's colours carried along the optical flow by the temporal stage. A shot's
   * first frame, frames with colour hints and shots without temporal smoothing always run.
   */
  inferEvery?: number;
  /** false: the model's float local network on the CPU too, where model.json also lists a CPU variant (int8; default true). */
  cpuVariant?: boolean;
  /** Frames buffered between stages; memory is bounded by it. */
  queueSize?: number;
  /** Bytes the frames in flight may take (default 768 MiB): large or deep frames get shorter queues. */
  memoryBytes?: number;
  /** Frame rate of an image-sequence input (default 24). */
  fps?: number;
  /** Render through damaged frames (decoder concealment) and report them, instead of stopping at the first. */
  conceal?: boolean;
  /** Called with each warning as soon as it is known (it is also listed in the result). */
  onWarning?: (warning: string) => void;
  /** Global-network samples per shot. */
  samplesPerShot?: number;
  /** Render one chunk of a film with its known shots (batch and farm); excludes start/duration/shots. */
  piece?: Piece;
  /**
   * The input's probe, when the caller already made it (every chunk of a film): not made again. A
   * film whose header lacks its frame count is counted by reading it whole, which no chunk should repeat.
   */
  probed?: VideoInfo;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

/**
 * Film frames [startFrame, endFrame) of a film whose shots are known (no detection runs). A piece
 * may begin inside a shot: that shot still gets the global features of all of it, and up to
 * `warmupFrames` frames before the piece (within its shot) are decoded, inferred and fed to the
 * temporal stage but not written, so the temporal state at the first written frame is close to
 * that of a whole-film run (equal when the warm-up reaches back to the cut).
 */
export interface Piece {
  /** The film's shots the piece touches, numbered as in the whole film (settings and reference maps are checked against the whole film by the caller). */
  shots: Shot[];
  startFrame: number;
  endFrame: number;
  warmupFrames?: number;
}

export interface Progress {
  /** probe: reading the input; model: loading the model; shots: scanning for cuts; colorize: rendering; join: joining a resumable render's chunks. */
  phase: 'probe' | 'model' | 'shots' | 'colorize' | 'join';
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
  /** Frames per inference batch this run used. */
  batchSize: number;
  /** Frames the local network ran on (the others were carried along the flow: `inferEvery`). */
  framesInferred: number;
  model: string;
  stageSeconds: Record<StageName, number>;
  /** One-off costs before the first frame: probing the input, choosing the device, loading the model (0 for a model passed in). */
  startupSeconds: { probe: number; deviceSelect: number; modelLoad: number };
  /** Highest number of frames held in the inter-stage queues at once. */
  queueHighWater: number;
  /** Things the user should know that did not stop the run. */
  warnings: string[];
  /** Bits per sample of the source and of the output's video. */
  sourceBits: number;
  outputBits: number;
  /** Stretches of damaged frames rendered with the decoder's concealment (`conceal`); empty otherwise. */
  damagedFrames: DamagedRange[];
  /** Frames the inter-stage queues could hold, derived from the frame size in bytes and `memoryBytes`. */
  queueFrames: number;
}

/**
 * Default `inferEvery`. Chosen on the development split of the eval clips (seconds 10–20, disjoint
 * from the acceptance frames; `scripts/eval-temporal.ts --start 10 --infer-every N`): against running
 * the network on every frame, 2 and 3 both gave lower E_warp (1.172e-4 → 1.139e-4 / 1.126e-4), lower
 * CDC (5.77e-3 → 5.39e-3 / 5.27e-3) and higher PSNR (20.36 → 20.43 / 20.47 dB) on the clip averages:
 * the history carried along the flow is steadier than a fresh prediction. Measured again with the
 * sitting-7 model (2026-12-02), 3 against 2: E_warp 1.516e-4 → 1.382e-4, CDC 5.020e-3 → 4.959e-3,
 * PSNR 20.81 → 20.85 dB; so 3 is the default (a third of the network's cost; new content waits at
 * most two frames for its own prediction, carried along the flow meanwhile).
 */
export const DEFAULT_INFER_EVERY = 3;

/**
 * How a render's options load the model (threads, session copies, int8 or float on the CPU): one
 * place for every caller that loads a model for renders (the CLI through colorizeVideo, batch).
 */
export function sessionSettingsFor(options: Pick<ColorizeOptions, 'inferThreads' | 'inferWorkers' | 'inferEvery' | 'cpuVariant'>): SessionSettings {
  return {
    intraOpThreads: options.inferThreads,
    workers: options.inferWorkers ?? cpuInferenceWorkers(options.inferEvery ?? DEFAULT_INFER_EVERY),
    cpuVariant: options.cpuVariant,
  };
}

/** Colorizes a film (or a piece of it) end to end: the library function behind the CLI and batch mode. */
export async function colorizeVideo(options: ColorizeOptions): Promise<ColorizeResult> {
  const started = performance.now();
  const clock = new StageClock();
  const inferEvery = options.inferEvery ?? DEFAULT_INFER_EVERY;
  if (!Number.isInteger(inferEvery) || inferEvery < 1) throw new UserError(`inferEvery must be a whole number of frames >= 1, got ${options.inferEvery}`, 2);
  options.onProgress?.({ phase: 'probe', done: 0, total: 0, fps: NaN, etaSeconds: NaN });
  const info = options.probed ?? (await probeVideo(options.input, { fps: options.fps }));
  const probeSeconds = (performance.now() - started) / 1000;
  const codec = options.codec ?? defaultCodecFor(info.samples.bits);
  if (options.sideBySide && info.width % 2 !== 0) throw new UserError('--side-by-side needs an even frame width', 2);
  const output = await checkOutputPath(info.path, options.output ?? defaultOutputPath(info.sequence ? sequenceStem(info.sequence) : options.input, codec), codec, options.overwrite ?? false);
  await removeStaleTemporaries(dirname(output), basename(output, extname(output)));
  if (!options.colorizer) options.onProgress?.({ phase: 'model', done: 0, total: 0, fps: NaN, etaSeconds: NaN });
  const modelPath = options.model ?? defaultModelPath();
  const globalSize = (options.colorizer?.config ?? (await loadModelConfig(modelPath))).global.size;
  // The model loads while the shot scan runs (the scan's views give each shot's global features as soon as it is loaded).
  const loading = options.colorizer
    ? Promise.resolve(options.colorizer)
    : Colorizer.load(modelPath, options.device ?? 'auto', sessionSettingsFor(options));
  loading.catch(() => undefined); // awaited below
  try {
    const { shots, segments, writeFrom, filmShots, scanned } = await clock.time('shots', () => planRender(info, options, { loading, globalSize }));
    const colorizer = await loading;
    const loaded = options.colorizer ? { selectSeconds: 0, loadSeconds: 0 } : colorizer.startup;
    const startupSeconds = { probe: probeSeconds, deviceSelect: loaded.selectSeconds, modelLoad: loaded.loadSeconds };
    const fromFile = options.settingsFile ? (await readProjectFile(options.settingsFile)).shots : {};
    const plans = planShots(
      { ...options, temporalStrength: options.temporalStrength ?? DEFAULT_TEMPORAL_STRENGTH, shotSettings: { ...fromFile, ...options.shotSettings } },
      // A piece is given all of the film's shots: only those it decodes need a plan (and their references loaded).
      shots.filter((shot) => touchedBy(segments, shot)),
      options.piece ? Number.POSITIVE_INFINITY : filmShots.length,
      filmShotNumbers(filmShots),
    );
    const references = await loadReferenceImages(plans, colorizer.config.global.size);
    return { ...(await render({ info, output, codec, colorizer, shots, segments, writeFrom: writeFrom ?? 0, plans, references, options, inferEvery, clock, started, scanned })), startupSeconds };
  } finally {
    if (!options.colorizer) await loading.then((colorizer) => colorizer.release(), () => undefined);
  }
}

interface RenderRange {
  shots: Shot[];
  segments: FrameSegment[];
  /** The whole film's shots: per-shot settings and reference maps are keyed by their numbers. */
  filmShots: Shot[];
  /** Decoded frames before this film frame only warm up the temporal stage. */
  writeFrom?: number;
  /** Global features from the shot scan's own views, when the scan covered exactly what is rendered (`ShotGlobalsOptions.scanned`). */
  scanned?: Map<string, Float32Array>;
}

interface ScanModel {
  loading: Promise<Colorizer>;
  /** Side of the global network's square view. */
  globalSize: number;
}

async function planRender(info: VideoInfo, options: ColorizeOptions, model: ScanModel): Promise<RenderRange> {
  if (options.piece) {
    if (options.shots !== undefined || options.start !== undefined || options.duration !== undefined) throw new UserError('a piece cannot be combined with --shot/--start/--duration', 2);
    return pieceRange(options.piece, info.frameCount);
  }
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
  if ((whole || !keyed) && options.reference !== undefined) {
    const shots = await findShots(info, range, { signal: options.signal, onProgress: report });
    return { shots, segments: [range], filmShots: shots };
  }
  if (whole || !keyed) {
    // The scan covers exactly what is rendered: its decode also gives every shot's global-network samples.
    const globals = scanGlobals(model.loading, lumaToLightnessLut(info.colorRange), options.samplesPerShot ?? DEFAULT_SAMPLES_PER_SHOT);
    const views = { width: model.globalSize, height: model.globalSize, consume: globals.consume };
    const shots = await findShots(info, range, { signal: options.signal, onProgress: report, views });
    await globals.sampler.finish(shots);
    return { shots, segments: [range], filmShots: shots, scanned: await globals.done() };
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

function pieceRange(piece: Piece, frameCount: number): RenderRange {
  const { shots, startFrame, endFrame } = piece;
  const first = shots.find((s) => s.startFrame <= startFrame && startFrame < s.endFrame);
  const covered = first !== undefined && shots.some((s) => s.startFrame < endFrame && endFrame <= s.endFrame);
  if (!(Number.isInteger(startFrame) && Number.isInteger(endFrame) && startFrame < endFrame && endFrame <= frameCount) || !covered) {
    throw new UserError(`piece ${startFrame}-${endFrame} is not within the film's ${frameCount} frames and its shots`);
  }
  const warmup = Math.max(0, Math.min(Math.floor(piece.warmupFrames ?? 0), startFrame - first.startFrame));
  return { shots, segments: [{ startFrame: startFrame - warmup, endFrame }], writeFrom: startFrame, filmShots: shots };
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
  writeFrom: number;
  plans: Map<number, ShotPlan>;
  references: Map<string, LoadedReference>;
  options: ColorizeOptions;
  /** options.inferEvery or its default, validated. */
  inferEvery: number;
  clock: StageClock;
  started: number;
  scanned?: Map<string, Float32Array>;
}

interface ColoredFrame {
  prepared: PreparedFrame;
  /** undefined: the network skipped this frame (`inferEvery`); the temporal stage carries the previous one on. */
  ab: Float32Array | undefined;
}

interface ComposingFrame {
  frame: Frame;
  chroma: Promise<{ cb: Samples; cr: Samples }>;
}

async function render(plan: RenderPlan): Promise<Omit<ColorizeResult, 'startupSeconds'>> {
  const { info, colorizer, shots, segments, writeFrom, options, inferEvery, clock } = plan;
  const config = colorizer.config;
  const warnings: string[] = [];
  const warn = (text: string) => {
    warnings.push(text);
    options.onWarning?.(text);
  };
  const sourceBits = info.samples.bits;
  // 8-bit sources stay on the 8-bit path whatever the codec; deeper ones are decoded at the depth the codec writes.
  const sequenceOut = isSequenceOutput(plan.output);
  const bits = outputDepth(plan.codec, sourceBits, sequenceOut);
  if (bits < sourceBits) {
    warn(`${info.path} has ${sourceBits}-bit samples but ${plan.codec} stores ${bits} bits: the output's luma is rounded to ${bits} bits (--codec ffv1 keeps all ${sourceBits})`);
  }
  const geometry = frameGeometry(info.width, info.height, info.decodeFormat, bits);
  if (!sequenceOut) {
    const { encoder, pixelFormat } = encoderInput(plan.codec, geometry.layout, bits);
    await assertEncoderTakes(encoder, pixelFormat);
  }
  const working = workingGeometry(info.width, info.height, options.resolution ?? config.local.workingShortSide, config.local.multipleOf, config.local.outputStride);
  const lut = lumaToLightnessLut(info.colorRange);
  // Frame, L* and Cb/Cr buffers go round instead of being allocated for every frame.
  const buffers = new BufferPool();
  const preparer = new FramePreparer(geometry, working, lumaToLightnessLutAtDepth(info.colorRange, bits), buffers);
  const composer = await ComposePool.create(
    {
      chromaWidth: geometry.chromaWidth,
      chromaHeight: geometry.chromaHeight,
      gridWidth: working.gridWidth,
      gridHeight: working.gridHeight,
      matrix: info.colorMatrix,
      range: info.colorRange,
    },
    undefined,
    bits,
    buffers,
  );
  const framesFit = framesWithinBudget(geometry, working, options.memoryBytes ?? DEFAULT_MEMORY_BYTES);
  const batchSize = Math.max(1, Math.min(options.batchSize ?? defaultBatchSize(colorizer.device), framesFit));
  const queueSize = Math.max(1, Math.min(framesFit, Math.max(batchSize, options.queueSize ?? Math.max(8, 2 * batchSize))));
  const damagedFrames: DamagedRange[] = [];
  const writtenRange = writtenSegments(segments, writeFrom);
  const frameTimes = info.variableFrameRate ? keptFrameTimes(info, plan.output, isWholeFilm(writtenRange, info)) : undefined;
  if (frameTimes && 'evenedBecause' in frameTimes) {
    warn(`${info.path} has a variable frame rate: ${frameTimes.evenedBecause}, so the output plays its frames at a constant ${info.frameRate} fps (same frames, frame times evened out)`);
  }
  const totalFrames = framesIn(writtenRange);
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
    scanned: plan.scanned,
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
    frameTimes: frameTimes && 'timeBase' in frameTimes ? frameTimes : undefined,
    segments: isWholeFilm(writtenRange, info) ? undefined : writtenRange.map((s) => ({ start: s.startFrame / info.fps, end: s.endFrame / info.fps })),
  });
  const decoded = new BoundedQueue<PreparedFrame>(queueSize);
  const colored = new BoundedQueue<ColoredFrame>(queueSize);
  const composing = new BoundedQueue<ComposingFrame>(Math.max(1, Math.min(composer.size * 2, framesFit)));
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
        conceal: options.conceal,
        constantRate: !info.variableFrameRate,
        videoFilter: decodeFilter(info),
        lumaOnly: info.samples.kind === 'gray' ? 'source' : 'extract',
        buffers,
        rgbLuma: info.samples.kind === 'rgb' ? { ...lumaCoefficients(info.colorMatrix), range: info.colorRange } : undefined,
        onDamage: (range) => damagedFrames.push(range),
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
  if (!colorizer.acceptsHints && [...plan.plans.values()].some((p) => p.hints.length > 0)) warn('color hints in the settings were not used: this model has no hint input');
  if (colorizer.acceptsHints) {
    for (const shotPlan of plan.plans.values()) for (const hint of shotPlan.hints) hintsByFrame.set(hint.frame, [...(hintsByFrame.get(hint.frame) ?? []), hint]);
  }
  const hintPlanes = (list: FrameHint[] | undefined) => (list ? rasterizeHints(list, working.gridWidth, working.gridHeight) : undefined);

  // Batches run side by side on the colorizer's workers (results still leave in frame order), as
  // many as it has and the memory budget holds beside the queues.
  const batchesInFlight = Math.max(1, Math.min(colorizer.parallelRuns, Math.floor(framesFit / batchSize) - 1));
  // A batch gathers `batchSize` frames the network runs on, whatever `inferEvery` is: the frames it
  // skips between them ride along in order in the same group (a skipped frame with no run pending
  // goes straight out). Skipped frames do not hold a run's place in flight. Groups and the frames
  // held in flight stay within the memory budget.
  const groupFrameLimit = Math.max(batchSize, Math.min(batchSize * inferEvery, Math.floor(framesFit / (batchesInFlight + 1))));
  const heldFrameLimit = batchesInFlight * groupFrameLimit;
  let framesInferred = 0;
  let sinceInferred = 0; // frames of the shot since the network last ran
  const runsNetwork = (prepared: PreparedFrame): boolean => {
    const carried = temporal !== undefined && plan.plans.get(prepared.shot)!.temporalStrength > 0;
    const due = prepared.startsShot || !carried || ++sinceInferred >= inferEvery || hintsByFrame.has(prepared.filmFrame);
    if (due) sinceInferred = 0;
    return due;
  };
  const inferStage = async () => {
    let group: { prepared: PreparedFrame; runs: boolean }[] = [];
    let groupRuns = 0;
    const running: { runsNetwork: boolean; frames: PreparedFrame[]; abs: Promise<(Float32Array | undefined)[]> }[] = [];
    let runsInFlight = 0;
    let heldFrames = 0;
    const deliverOldest = async () => {
      const entry = running.shift()!;
      const abs = await entry.abs;
      if (entry.runsNetwork) runsInFlight--;
      heldFrames -= entry.frames.length;
      for (let i = 0; i < entry.frames.length; i++) await colored.push({ prepared: entry.frames[i], ab: abs[i] });
    };
    const hold = async (entry: (typeof running)[number]) => {
      running.push(entry);
      if (entry.runsNetwork) runsInFlight++;
      heldFrames += entry.frames.length;
      while (runsInFlight >= batchesInFlight || heldFrames >= heldFrameLimit) await deliverOldest();
    };
    // A group starts with a frame the network runs on, so every flushed group holds a batch.
    const flush = async () => {
      if (group.length === 0) return;
      const members = group;
      group = [];
      groupRuns = 0;
      const frames = members.map((m) => m.prepared);
      const batch = members.filter((m) => m.runs).map((m) => m.prepared);
      const vectors = await Promise.all(batch.map((p) => globals.forShot(p.shot)));
      const hints = hintsByFrame.size > 0 ? batch.map((p) => hintPlanes(hintsByFrame.get(p.filmFrame))) : undefined;
      const abs = clock.time('infer', () => colorizer.colorize(batch.map((p) => p.working), working.width, working.height, vectors, hints)).then((out) => {
        let next = 0;
        return members.map((m) => (m.runs ? out[next++] : undefined));
      });
      abs.catch(() => undefined); // awaited in order by deliverOldest; failures surface there
      await hold({ runsNetwork: true, frames, abs });
    };
    for await (const prepared of decoded) {
      const runs = runsNetwork(prepared);
      if (!runs && groupRuns === 0) {
        await hold({ runsNetwork: false, frames: [prepared], abs: Promise.resolve([undefined]) });
        continue;
      }
      if (runs) {
        framesInferred++;
        groupRuns++;
      }
      group.push({ prepared, runs });
      if (groupRuns >= batchSize || group.length >= groupFrameLimit) await flush();
    }
    await flush();
    while (running.length > 0) await deliverOldest();
    colored.end();
  };

  const smoothStage = async () => {
    for await (const { prepared, ab } of colored) {
      const shotPlan = plan.plans.get(prepared.shot)!;
      let smoothed: Float32Array;
      if (temporal) {
        smoothed = await clock.time('temporal', async () => {
          if (prepared.startsShot) await temporal.reset(shotPlan.temporalStrength);
          return ab ? temporal.process(prepared.grid.slice(), ab) : temporal.propagate(prepared.grid.slice());
        });
      } else if (ab) {
        smoothed = ab;
      } else {
        throw new Error('a frame without a*b* reached a render without a temporal stage');
      }
      if (prepared.filmFrame < writeFrom) continue; // warm-up: only the temporal state was wanted
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
      const consumed = () => {
        if (frame.recyclable) buffers.give(frame.y.buffer);
        buffers.give(cb.buffer);
        buffers.give(cr.buffer);
      };
      await clock.time('encode', () => writer.write(planes.y, planes.cb, planes.cr, frame.ticks, consumed));
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
    if (damagedFrames.length > 0) warn(damageSummary(info, damagedFrames));
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
    shots: new Set(segmentsShots(writtenRange, shots)).size,
    seconds,
    fps: written / seconds,
    device: colorizer.device,
    batchSize,
    framesInferred,
    model: colorizer.description,
    stageSeconds: clock.seconds,
    queueHighWater: decoded.highWater + colored.highWater + composing.highWater,
    warnings,
    sourceBits,
    outputBits: bits,
    damagedFrames,
    queueFrames: queueSize,
  };
}

function damageSummary(info: VideoInfo, ranges: DamagedRange[]): string {
  const frames = ranges.reduce((n, r) => n + r.lastFrame - r.firstFrame + 1, 0);
  const listed = ranges.slice(0, 5).map((r) => (r.firstFrame === r.lastFrame ? `${r.firstFrame}` : `${r.firstFrame}-${r.lastFrame}`));
  const more = ranges.length > 5 ? ` and ${ranges.length - 5} more stretches` : '';
  return `${info.path}: ${frames} damaged frames rendered with the decoder's concealment (frames ${listed.join(', ')}${more})`;
}

/** Default byte budget for frames in flight between stages. */
const DEFAULT_MEMORY_BYTES = 768 * 1024 * 1024;

/**
 * How many frames the queues may hold so that the frames in flight stay within `budget` bytes:
 * each frame carries its raw planes, L* at chroma size (float32), the network and grid planes,
 * and later its new chroma. About three queues' worth can be alive at once.
 */
export function framesWithinBudget(g: FrameGeometry, w: WorkingGeometry, budget: number): number {
  const chromaSamples = g.chromaWidth * g.chromaHeight;
  const sampleBytes = g.bits > 8 ? 2 : 1;
  const perFrame = g.frameBytes + 4 * chromaSamples + 2 * sampleBytes * chromaSamples + 4 * (w.width * w.height + 3 * w.gridWidth * w.gridHeight);
  return Math.max(1, Math.floor(budget / (3 * perFrame)));
}

/**
 * Whether a variable-frame-rate film's own frame times can be written: they can for a whole-film
 * render into MP4, MOV or Matroska. Image sequences have no times, AVI none per frame, and a piece
 * of the film is found by frame number at the nominal rate.
 */
function keptFrameTimes(info: VideoInfo, output: string, wholeFilm: boolean): { timeBase: [number, number] } | { evenedBecause: string } {
  if (isSequenceOutput(output)) return { evenedBecause: 'an image sequence has no frame times' };
  if (extname(output).toLowerCase() === '.avi') return { evenedBecause: 'AVI has no per-frame times (write .mkv, .mov or .mp4 to keep them)' };
  if (!wholeFilm) return { evenedBecause: 'a part of the film is rendered' };
  if (!info.timeBase) return { evenedBecause: 'its stream has no time base' };
  return { timeBase: info.timeBase };
}

function isWholeFilm(segments: FrameSegment[], info: VideoInfo): boolean {
  return segments.length === 1 && segments[0].startFrame === 0 && segments[0].endFrame === info.frameCount;
}

/** Shots with frames in the segments. */
function segmentsShots(segments: FrameSegment[], shots: Shot[]): number[] {
  return shots.filter((shot) => touchedBy(segments, shot)).map((s) => s.index);
}

/** The segments without the warm-up frames before `writeFrom`. */
function writtenSegments(segments: FrameSegment[], writeFrom: number): FrameSegment[] {
  return segments.filter((s) => s.endFrame > writeFrom).map((s) => ({ startFrame: Math.max(s.startFrame, writeFrom), endFrame: s.endFrame }));
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
