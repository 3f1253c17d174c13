/**
 * Clip-level temporal-consistency and fidelity metrics, fed one frame at a time.
 *
 * RGB frames are Float32Array in [0, 1] of width*height*3 values, either
 * 'planar' (all R, then all G, then all B; the default, like the a*b* layout) or
 * 'interleaved' (RGBRGB…). Gray frames are width*height values in [0, 1].
 * Every accumulator keeps at most the last 4 frames (or their histograms).
 */
import { srgbToLab } from '../color/lab.js';
import { computeBidirectionalFlow, type FlowOptions } from './flow.js';
import { assertGridSize, assertLength } from './types.js';
import { DEFAULT_OCCLUSION, occlusionMask, sampleBilinear, type OcclusionThresholds } from './warp.js';

export type RgbLayout = 'planar' | 'interleaved';

export interface FrameFormat {
  width: number;
  height: number;
  layout?: RgbLayout;
}

/** Planar copy of an RGB frame (returns the input itself when it already is planar). */
function toPlanar(frame: Float32Array, size: number, layout: RgbLayout): Float32Array {
  assertLength('RGB frame', frame, 3 * size);
  if (layout === 'planar') return frame;
  const planar = new Float32Array(3 * size);
  for (let i = 0; i < size; i++) {
    planar[i] = frame[3 * i];
    planar[size + i] = frame[3 * i + 1];
    planar[2 * size + i] = frame[3 * i + 2];
  }
  return planar;
}

export function meanSquaredError(a: Float32Array, b: Float32Array): number {
  assertLength('meanSquaredError b', b, a.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return a.length === 0 ? 0 : sum / a.length;
}

/** PSNR in dB for signals with the given peak value (1 for [0, 1] RGB); Infinity when identical. */
export function psnr(a: Float32Array, b: Float32Array, peak = 1): number {
  const mse = meanSquaredError(a, b);
  return mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
}

/** Per-frame PSNR between output and reference frames (same layout), averaged over the clip. */
export class PsnrAccumulator {
  private sum = 0;
  private count = 0;
  private identicalFrames = 0;

  constructor(private readonly peak = 1) {}

  push(output: Float32Array, reference: Float32Array): number {
    const value = psnr(output, reference, this.peak);
    if (value === Infinity) this.identicalFrames++;
    else this.sum += value;
    this.count++;
    return value;
  }

  get frames(): number {
    return this.count;
  }

  /** Mean per-frame PSNR in dB; Infinity if every frame was identical, NaN before any frame. */
  get mean(): number {
    if (this.count === 0) return NaN;
    if (this.identicalFrames === this.count) return Infinity;
    return this.sum / (this.count - this.identicalFrames);
  }
}

/**
 * The flow E_warp measures with, written out rather than taken from DEFAULT_FLOW_OPTIONS: the
 * yardstick must not move when the pipeline's own flow is changed (it is the pipeline's flow as
 * first measured).
 */
export const METRIC_FLOW_OPTIONS: FlowOptions = Object.freeze({
  maxLevels: 5,
  minLevelSize: 8,
  warpsPerLevel: 3,
  solverIterations: 5,
  smoothness: 1,
  windowPasses: 1,
});

export interface WarpErrorOptions extends FrameFormat {
  flow?: Partial<FlowOptions>;
  occlusion?: OcclusionThresholds;
}

/**
 * Warping error E_warp (Lai et al., ECCV 2018). For each consecutive pair, flow is computed on the
 * gray input frames t → t+1, the forward-backward check gives the non-occluded mask M, and
 *   E_pair = Σ_x M(x) · ‖O_t(x) − O_{t+1}(x + f(x))‖² / Σ_x M(x)
 * (squared norm over the three RGB channels, as in Lai et al.'s evaluation code).
 * E_warp is the mean of E_pair over all pairs.
 */
export class WarpErrorAccumulator {
  private readonly size: number;
  private readonly layout: RgbLayout;
  private previous: { gray: Float32Array; output: Float32Array } | undefined;
  private sum = 0;
  private count = 0;

  constructor(private readonly options: WarpErrorOptions) {
    assertGridSize(options.width, options.height);
    this.size = options.width * options.height;
    this.layout = options.layout ?? 'planar';
  }

  /** @returns E_pair for (previous frame, this frame), or undefined for the first frame. */
  push(inputGray: Float32Array, output: Float32Array): number | undefined {
    assertLength('input gray frame', inputGray, this.size);
    const current = { gray: inputGray.slice(), output: toPlanar(output, this.size, this.layout).slice() };
    const previous = this.previous;
    this.previous = current;
    if (!previous) return undefined;
    const pairError = this.pairError(previous, current);
    this.sum += pairError;
    this.count++;
    return pairError;
  }

  get pairs(): number {
    return this.count;
  }

  /** Mean E_pair over the clip so far (NaN before two frames). */
  get value(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  private pairError(
    earlier: { gray: Float32Array; output: Float32Array },
    later: { gray: Float32Array; output: Float32Array },
  ): number {
    const { width, height } = this.options;
    const size = this.size;
    const { forward, backward } = computeBidirectionalFlow(earlier.gray, later.gray, width, height, { ...METRIC_FLOW_OPTIONS, ...this.options.flow });
    const occluded = occlusionMask(forward, backward, this.options.occlusion ?? DEFAULT_OCCLUSION);
    let sum = 0;
    let visible = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        if (occluded[i]) continue;
        const sx = x + forward.dx[i];
        const sy = y + forward.dy[i];
        for (let c = 0; c < 3; c++) {
          const d = earlier.output[c * size + i] - sampleBilinear(later.output, c * size, width, height, sx, sy);
          sum += d * d;
        }
        visible++;
      }
    }
    return visible === 0 ? 0 : sum / visible;
  }
}

const HISTOGRAM_BINS = 256;

/** Normalised 256-bin histograms of R, G and B; values are quantised like 8-bit: round(v · 255). */
export function rgbHistograms(frame: Float32Array, width: number, height: number, layout: RgbLayout = 'planar'): Float64Array[] {
  const size = width * height;
  const planar = toPlanar(frame, size, layout);
  const histograms = [0, 1, 2].map(() => new Float64Array(HISTOGRAM_BINS));
  for (let c = 0; c < 3; c++) {
    const histogram = histograms[c];
    for (let i = 0; i < size; i++) {
      const v = planar[c * size + i];
      const bin = v <= 0 ? 0 : v >= 1 ? HISTOGRAM_BINS - 1 : Math.round(v * (HISTOGRAM_BINS - 1));
      histogram[bin]++;
    }
    for (let b = 0; b < HISTOGRAM_BINS; b++) histogram[b] /= size;
  }
  return histograms;
}

/**
 * Normalised 256-bin histograms of CIE a* and b* (bin = round(v) + 128, clamped to 0…255), from
 * sRGB frames: the part of the picture a colorizer decides, without the luminance it keeps.
 */
export function abHistograms(frame: Float32Array, width: number, height: number, layout: RgbLayout = 'planar'): Float64Array[] {
  const size = width * height;
  const planar = toPlanar(frame, size, layout);
  const histograms = [new Float64Array(HISTOGRAM_BINS), new Float64Array(HISTOGRAM_BINS)];
  const bin = (v: number) => Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.round(v) + 128));
  for (let i = 0; i < size; i++) {
    const [, a, b] = srgbToLab(planar[i], planar[size + i], planar[2 * size + i]);
    histograms[0][bin(a)]++;
    histograms[1][bin(b)]++;
  }
  for (const histogram of histograms) for (let b = 0; b < HISTOGRAM_BINS; b++) histogram[b] /= size;
  return histograms;
}

/** Jensen–Shannon divergence of two discrete distributions, natural log (as scipy.stats.entropy): 0 … ln 2. */
export function jensenShannonDivergence(p: Float64Array, q: Float64Array): number {
  assertLength('jensenShannonDivergence q', q, p.length);
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0) divergence += 0.5 * p[i] * Math.log(p[i] / m);
    if (q[i] > 0) divergence += 0.5 * q[i] * Math.log(q[i] / m);
  }
  return Math.max(0, divergence);
}

export interface CdcOptions extends FrameFormat {
  /** Frame distances d; CDC averages over them (default [1, 2, 4], Liu et al.). */
  dilations?: number[];
  /** Histograms of R, G, B (default, as Liu et al.) or of a*, b* only (chroma, luminance excluded). */
  channels?: 'rgb' | 'ab';
}

/**
 * Color Distribution Consistency (Liu et al., "Temporally consistent video colorization with deep
 * feature propagation and self-regularization learning", 2021). For each d, the JS divergence
 * between per-channel RGB histograms of frames t and t+d, averaged over channels and over t;
 * CDC is the mean over d. Lower is more consistent.
 */
export class CdcAccumulator {
  private readonly dilations: number[];
  private readonly layout: RgbLayout;
  /** Histograms of the most recent frames, newest last; at most max(dilations) kept. */
  private readonly history: Float64Array[][] = [];
  private readonly sums: number[];
  private readonly counts: number[];

  constructor(private readonly options: CdcOptions) {
    assertGridSize(options.width, options.height);
    this.dilations = options.dilations ?? [1, 2, 4];
    if (this.dilations.length === 0 || this.dilations.some((d) => !Number.isInteger(d) || d < 1 || d > 4)) {
      throw new RangeError('CDC dilations must be integers in 1..4');
    }
    this.layout = options.layout ?? 'planar';
    this.sums = this.dilations.map(() => 0);
    this.counts = this.dilations.map(() => 0);
  }

  push(output: Float32Array): void {
    const histograms = this.options.channels === 'ab' ? abHistograms : rgbHistograms;
    const current = histograms(output, this.options.width, this.options.height, this.layout);
    this.dilations.forEach((d, k) => {
      const earlier = this.history[this.history.length - d];
      if (!earlier) return;
      let divergence = 0;
      for (let c = 0; c < current.length; c++) divergence += jensenShannonDivergence(earlier[c], current[c]);
      this.sums[k] += divergence / current.length;
      this.counts[k]++;
    });
    this.history.push(current);
    if (this.history.length > Math.max(...this.dilations)) this.history.shift();
  }

  /** CDC over the dilations that have at least one pair so far (NaN if none). */
  get value(): number {
    const perDilation = this.dilations.map((_, k) => this.sums[k] / this.counts[k]).filter((v) => Number.isFinite(v));
    return perDilation.length === 0 ? NaN : perDilation.reduce((a, b) => a + b, 0) / perDilation.length;
  }
}
