import { FeatureExtractor, defaultFeatureOptions, type FeatureOptions, type FrameFeatures } from './features.js';
import { RollingMedian } from './rolling-stats.js';

/**
 * Options of {@link CutDetector}. Scores are frame-to-frame distances from
 * {@link FeatureExtractor.distance}: ~0 for the same picture, ~1 for unrelated pictures.
 */
export interface CutDetectorOptions extends FeatureOptions {
  /** Width of the gray frames fed to `push`. Required. */
  width: number;
  /** Height of the gray frames fed to `push`. Required. */
  height: number;
  /** Frames per second of the stream; sets the time-based defaults below. Default 25. */
  fps: number;
  /** Shortest shot in frames; closer cuts are ignored, as is a final shot this short. Default: 0.5 s of frames. */
  minShotFrames: number;
  /** Scores remembered for the adaptive threshold, within the current shot (how much a shot moves is its own business). Default: 2 s of frames (at least 10). */
  windowFrames: number;
  /** A cut's score must exceed the recent median by this many robust standard deviations (1.4826 × MAD). Default 6. */
  sensitivity: number;
  /** Floor of the robust standard deviation, so a perfectly still shot does not make every wobble a cut. Default 0.03. */
  minSpread: number;
  /** A score below this is never a cut, whatever the history. Default 0.25. */
  minScore: number;
  /** A cut's score must also be at least this multiple of the recent median (fast motion). Default 1.5. */
  minRatio: number;
  /** Longest flash (run of frames unlike both neighbours) that is not a cut; also the detector's look-ahead. Default 2. */
  maxFlashFrames: number;
}

export type CutDetectorInit = Partial<CutDetectorOptions> & Pick<CutDetectorOptions, 'width' | 'height'>;

export function resolveCutDetectorOptions(init: CutDetectorInit): CutDetectorOptions {
  const fps = init.fps ?? 25;
  if (!(fps > 0)) throw new Error(`invalid fps ${fps}`);
  const options: CutDetectorOptions = {
    ...defaultFeatureOptions,
    fps,
    minShotFrames: Math.max(1, Math.round(fps * 0.5)),
    windowFrames: Math.max(10, Math.round(fps * 2)),
    sensitivity: 6,
    minSpread: 0.03,
    minScore: 0.25,
    minRatio: 1.5,
    maxFlashFrames: 2,
    ...init,
  };
  for (const name of ['minShotFrames', 'windowFrames', 'maxFlashFrames', 'gridColumns', 'histogramBins'] as const) {
    if (!Number.isInteger(options[name]) || options[name] < 1) throw new Error(`invalid ${name} ${options[name]}: expected an integer >= 1`);
  }
  return options;
}

interface Frame {
  index: number;
  features: FrameFeatures;
}

interface Candidate extends Frame {
  threshold: number;
  /** Frames after the candidate that still differ from the frame before it. */
  followers: Frame[];
}

/**
 * Streaming hard-cut detector: feed gray frames in order with `push`, then call
 * `finish` for the cut list (the index of the first frame of every shot but the first).
 *
 * A frame is a cut candidate when its distance to the previous frame stands out from
 * the recent distances (rolling median + MAD), so busy shots need bigger jumps than
 * still ones and slow fades/dissolves, whose per-frame change is small, never qualify.
 * A candidate is confirmed `maxFlashFrames` frames later: if any frame before then matches
 * the frame before the candidate again, the candidate and the frames up to it were a
 * flash (lightning, a light leak, a splice blemish) and are skipped entirely.
 */
export class CutDetector {
  readonly options: CutDetectorOptions;
  private readonly extractor: FeatureExtractor;
  private readonly history: RollingMedian;
  private readonly cuts: number[] = [];
  /** Last frame accepted as part of the current shot: what the next frame is compared with. */
  private reference: Frame | undefined;
  private candidate: Candidate | undefined;
  private shotStart = 0;
  private lastIndex = -1;
  private finished = false;

  constructor(init: CutDetectorInit) {
    this.options = resolveCutDetectorOptions(init);
    this.extractor = new FeatureExtractor(this.options.width, this.options.height, this.options);
    this.history = new RollingMedian(this.options.windowFrames);
  }

  /** Feeds the next frame (width × height bytes of luma). The array is not kept. */
  push(frameIndex: number, luma: Uint8Array): void {
    if (this.finished) throw new Error('CutDetector.push called after finish');
    if (frameIndex <= this.lastIndex) {
      throw new Error(`frames must arrive in increasing order: got ${frameIndex} after ${this.lastIndex}`);
    }
    if (this.lastIndex < 0) this.shotStart = frameIndex;
    this.lastIndex = frameIndex;
    this.process({ index: frameIndex, features: this.extractor.extract(luma) });
  }

  /**
   * Cuts confirmed so far, ascending. They stand, except that `finish` drops the last one when the
   * film ends less than `minShotFrames` after it.
   */
  get confirmedCuts(): readonly number[] {
    return this.cuts;
  }

  /** Returns the cut frame indices, ascending; never the first frame. */
  finish(): number[] {
    if (!this.finished) {
      this.finished = true;
      // Out of look-ahead: a pending candidate stands if at least one frame backs it up.
      let pending = this.candidate;
      while (pending && pending.followers.length > 0 && this.lastIndex + 1 - pending.index >= this.options.minShotFrames) {
        this.confirm(pending);
        pending = this.candidate;
      }
      this.candidate = undefined;
      const last = this.cuts[this.cuts.length - 1];
      if (last !== undefined && this.lastIndex + 1 - last < this.options.minShotFrames) this.cuts.pop();
    }
    return [...this.cuts];
  }

  private process(frame: Frame): void {
    const pending = this.candidate;
    if (!pending) {
      this.consider(frame);
      return;
    }
    if (this.reference && this.extractor.distance(this.reference.features, frame.features) < pending.threshold) {
      // Back to the picture before the candidate: it and its followers were a flash. Skip them.
      this.candidate = undefined;
      this.consider(frame);
      return;
    }
    pending.followers.push(frame);
    if (pending.followers.length >= this.options.maxFlashFrames) this.confirm(pending);
  }

  private confirm(pending: Candidate): void {
    this.candidate = undefined;
    this.cuts.push(pending.index);
    this.shotStart = pending.index;
    this.reference = pending;
    this.history.clear();
    for (const follower of pending.followers) this.process(follower);
  }

  private consider(frame: Frame): void {
    const reference = this.reference;
    this.reference = frame;
    if (!reference) return;
    const score = this.extractor.distance(reference.features, frame.features);
    const threshold = this.threshold();
    if (score >= threshold && frame.index - this.shotStart >= this.options.minShotFrames) {
      this.candidate = { ...frame, threshold, followers: [] };
      this.reference = reference;
      return;
    }
    this.history.push(score);
  }

  private threshold(): number {
    const { minScore, minRatio, sensitivity, minSpread } = this.options;
    const median = this.history.median();
    const spread = Math.max(1.4826 * this.history.mad(), minSpread);
    return Math.max(minScore, minRatio * median, median + sensitivity * spread);
  }
}

/** Convenience for whole-clip use (tests, tools): runs a detector over in-memory frames. */
export function detectCuts(frames: Iterable<Uint8Array>, init: CutDetectorInit): number[] {
  const detector = new CutDetector(init);
  let index = 0;
  for (const frame of frames) detector.push(index++, frame);
  return detector.finish();
}
