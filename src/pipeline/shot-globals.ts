import { readGrayFrames } from '../shots/gray-frames.js';
import type { Shot } from '../shots/index.js';
import type { Colorizer } from '../infer/colorizer.js';
import type { FrameSegment } from './frame-range.js';
import { resizeArea } from '../color/resample.js';
import { lightnessOfCodes } from '../color/luts.js';
import { type AbAffine, type AbStats, IDENTITY_AFFINE, abStats, paletteTransfer } from '../color/palette.js';

export interface ShotGlobalsOptions {
  path: string;
  fps: number;
  shots: Shot[];
  segments: FrameSegment[];
  /** Maps 8-bit luma codes to L*. */
  lightnessLut: Float32Array;
  /** Global L* views given instead of the shot's own frames (reference style), by shot index. */
  references: Map<number, Float32Array>;
  /** Reference palettes the shot's colors move towards, with a strength 0..1, by shot index. */
  palettes?: Map<number, { palette: AbStats; strength: number }>;
  /** Network input size the shot's a*b* statistics are estimated at (the render's working size). */
  workingSize?: { width: number; height: number };
  samplesPerShot?: number;
  /**
   * Global features already computed from the shot scan's views (`ScanSampler`), by `shotKey`. When
   * given, the scan covered the render: a shot missing here (longer than the scan holds) is sampled
   * by seeking instead of by a second decode of the film.
   */
  scanned?: Map<string, Float32Array>;
  signal?: AbortSignal;
}

/** Views of each shot the global network's features are pooled over. */
export const DEFAULT_SAMPLES_PER_SHOT = 5;

/** Key of a shot's frames in `ShotGlobalsOptions.scanned`. */
export function shotKey(shot: { startFrame: number; endFrame: number }): string {
  return `${shot.startFrame}:${shot.endFrame}`;
}

/**
 * Global features, computed once per shot. Usually the shot scan already gave them (`scanned`:
 * its decode also carried the square views, see ScanSampler). Otherwise (a batch or farm piece,
 * shots chosen by number, part of a film with per-shot settings, a film-wide reference) a small
 * square decode runs alongside the main one,
 * keeps only the few frames sampled evenly across each shot, and runs the global network on them
 * as soon as the shot's last sample has passed. Memory is the samples of one shot.
 */
export class ShotGlobals {
  private readonly pending = new Map<number, Deferred<Float32Array>>();
  private readonly transforms = new Map<number, Deferred<AbAffine>>();
  private readonly controller = new AbortController();

  constructor(
    private readonly colorizer: Colorizer,
    private readonly options: ShotGlobalsOptions,
  ) {
    for (const shot of options.shots) {
      this.pending.set(shot.index, deferred());
      const transform = deferred<AbAffine>();
      if (!options.palettes?.has(shot.index) || !touchedBy(options.segments, shot)) transform.resolve(IDENTITY_AFFINE);
      this.transforms.set(shot.index, transform);
    }
    options.signal?.addEventListener('abort', () => this.controller.abort(), { once: true });
  }

  forShot(index: number): Promise<Float32Array> {
    const entry = this.pending.get(index);
    if (!entry) throw new Error(`no shot ${index}`);
    return entry.promise;
  }

  /**
   * The a*b* map of a shot with a reference palette: estimated once per shot from the local
   * network's output on the shot's sampled views, so every frame of the shot gets the same map.
   */
  transformForShot(index: number): Promise<AbAffine> {
    const entry = this.transforms.get(index);
    if (!entry) throw new Error(`no shot ${index}`);
    return entry.promise;
  }

  /** Starts the sampling pass; failures reject the waiting shots. */
  start(): void {
    this.run().catch((error: unknown) => {
      for (const entry of this.pending.values()) entry.reject(error);
      for (const entry of this.transforms.values()) entry.reject(error);
    });
  }

  stop(): void {
    this.controller.abort();
  }

  private async run(): Promise<void> {
    const { shots, segments, references } = this.options;
    for (const [index, view] of references) {
      if (this.pending.has(index)) this.pending.get(index)!.resolve(await this.colorizer.globalFeatures([view]));
    }
    if (this.options.scanned) return this.runScanned(this.options.scanned);
    const wanted = new Map<number, number>(); // film frame -> shot index
    for (const shot of shots) {
      if (references.has(shot.index) && !this.options.palettes?.has(shot.index)) continue;
      if (coveredBy(segments, shot)) {
        for (const frame of sampleFrames(shot, this.options.samplesPerShot ?? DEFAULT_SAMPLES_PER_SHOT)) wanted.set(frame, shot.index);
      } else if (touchedBy(segments, shot)) {
        // A piece of a longer shot: the samples a render of the whole shot would take, so every piece gets the same vector and palette map.
        const size = this.colorizer.config.global.size;
        await this.finishShot(shot.index, await this.samplesAt(shot, size, size));
      }
    }
    if (wanted.size === 0) return;
    const size = this.colorizer.config.global.size;
    const views = new Map<number, Float32Array[]>();
    const remaining = new Map<number, number>();
    for (const shotIndex of wanted.values()) remaining.set(shotIndex, (remaining.get(shotIndex) ?? 0) + 1);
    for (const segment of segments) {
      let filmFrame = segment.startFrame;
      const frames = readGrayFrames(this.options.path, {
        width: size,
        height: size,
        start: segment.startFrame > 0 ? (segment.startFrame - 0.5) / this.options.fps : undefined,
        maxFrames: segment.endFrame - segment.startFrame,
        signal: this.controller.signal,
      });
      for await (const gray of frames) {
        const shotIndex = wanted.get(filmFrame);
        filmFrame++;
        if (shotIndex === undefined) continue;
        const view = lightnessOfCodes(gray, this.options.lightnessLut);
        const list = views.get(shotIndex) ?? [];
        list.push(view);
        views.set(shotIndex, list);
        const left = remaining.get(shotIndex)! - 1;
        remaining.set(shotIndex, left);
        if (left === 0) {
          views.delete(shotIndex);
          await this.finishShot(shotIndex, list);
        }
      }
    }
    // A shot whose samples fell outside what was decoded (the file ended early) still gets features.
    for (const [shotIndex, list] of views) await this.finishShot(shotIndex, list);
    for (const [shotIndex, left] of remaining) {
      if (left > 0 && !views.has(shotIndex)) {
        this.pending.get(shotIndex)!.reject(new Error(`no frames decoded for shot ${shotIndex}`));
        this.transforms.get(shotIndex)!.reject(new Error(`no frames decoded for shot ${shotIndex}`));
      }
    }
  }

  /** The shot scan gave the features of the shots it held: only the others need their samples, by seeking. */
  private async runScanned(scanned: Map<string, Float32Array>): Promise<void> {
    const { shots, segments, references } = this.options;
    const size = this.colorizer.config.global.size;
    for (const shot of shots) {
      if (!touchedBy(segments, shot) || (references.has(shot.index) && !this.options.palettes?.has(shot.index))) continue;
      const features = scanned.get(shotKey(shot));
      if (features) await this.finishShot(shot.index, features);
      else await this.finishShot(shot.index, await this.samplesAt(shot, size, size));
    }
  }

  /** All samples of a shot are in (or its features, from the scan): its global features (unless a reference gave them) and its palette map. */
  private async finishShot(shotIndex: number, samples: Float32Array[] | Float32Array): Promise<void> {
    let features: Float32Array;
    if (this.options.references.has(shotIndex)) features = await this.pending.get(shotIndex)!.promise;
    else {
      features = samples instanceof Float32Array ? samples : await this.colorizer.globalFeatures(samples);
      this.pending.get(shotIndex)!.resolve(features);
    }
    const target = this.options.palettes?.get(shotIndex);
    if (!target) return;
    // The shot's own a*b* statistics, from its sampled frames at the working size: the small
    // square views of the global network give a poor estimate (the local network sees another scale).
    const { width, height } = this.options.workingSize ?? { width: this.colorizer.config.global.size, height: this.colorizer.config.global.size };
    const frames = await this.samplesAt(this.options.shots.find((s) => s.index === shotIndex)!, width, height);
    const predicted = await this.colorizer.colorize(frames, width, height, frames.map(() => features));
    const stride = this.colorizer.config.local.outputStride;
    const gridLightness = frames.map((l) => resizeArea(l, width, height, width / stride, height / stride));
    this.transforms.get(shotIndex)!.resolve(paletteTransfer(abStats(predicted, gridLightness), target.palette, target.strength));
  }

  /** The shot's sample frames as L* at width × height, each read by a frame-exact seek (a long shot is not decoded whole). */
  private async samplesAt(shot: Shot, width: number, height: number): Promise<Float32Array[]> {
    const frames: Float32Array[] = [];
    for (const frame of sampleFrames(shot, this.options.samplesPerShot ?? DEFAULT_SAMPLES_PER_SHOT)) {
      const gray = readGrayFrames(this.options.path, {
        width,
        height,
        start: frame > 0 ? (frame - 0.5) / this.options.fps : undefined,
        maxFrames: 1,
        signal: this.controller.signal,
      });
      for await (const codes of gray) frames.push(lightnessOfCodes(codes, this.options.lightnessLut));
    }
    if (frames.length === 0) throw new Error(`no frames decoded for shot ${shot.index}`);
    return frames;
  }
}

/** Up to `count` frames spread evenly across the shot (centres of equal parts). */
export function sampleFrames(shot: Pick<Shot, 'startFrame' | 'endFrame'>, count: number): number[] {
  const length = shot.endFrame - shot.startFrame;
  const n = Math.max(1, Math.min(count, length));
  const frames = new Set<number>();
  for (let j = 0; j < n; j++) frames.add(shot.startFrame + Math.floor(((j + 0.5) * length) / n));
  return [...frames];
}

/** Whether any of the segments decodes a frame of the shot. */
export function touchedBy(segments: FrameSegment[], shot: Shot): boolean {
  return segments.some((s) => s.startFrame < shot.endFrame && shot.startFrame < s.endFrame);
}

function coveredBy(segments: FrameSegment[], shot: Shot): boolean {
  return segments.some((s) => s.startFrame <= shot.startFrame && shot.endFrame <= s.endFrame);
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
