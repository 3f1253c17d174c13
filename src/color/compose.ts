import { linearToSrgbLut, LINEAR_TO_SRGB_STEPS } from './luts.js';
import { type ColorMatrix, type ColorRange, lumaCoefficients } from './ycbcr.js';

export interface ChromaGeometry {
  /** Chroma plane size (the output's Cb/Cr planes). */
  chromaWidth: number;
  chromaHeight: number;
  /** Size of the a*b* grid the model (and temporal stage) produce. */
  gridWidth: number;
  gridHeight: number;
  matrix: ColorMatrix;
  range: ColorRange;
  /** Range sigma of the joint bilateral upsampling in L* units; 0 disables edge awareness. */
  edgeSigma?: number;
  /** Bits per output chroma sample (8 by default; 10/12/16 write into a Uint16Array). */
  bitDepth?: number;
}

/** Output chroma planes: one byte per sample at 8 bits, two above. */
export type ChromaSamples = Uint8Array | Uint16Array;

const SPATIAL_SIGMA = 1;

/** Range sigma of the joint bilateral upsampling (L* units) when the geometry names none. */
export const DEFAULT_EDGE_SIGMA = 6;

/**
 * Turns a low-resolution a*b* prediction into Cb/Cr planes: joint bilateral upsampling guided by
 * the full-resolution lightness (so chroma stops at luma edges instead of bleeding across them),
 * then L*a*b* -> sRGB -> Y'CbCr with the input's matrix and range. Only Cb/Cr are produced; the
 * caller keeps the decoded Y' plane untouched.
 *
 * Works one output row at a time (upsampled a*b* of a row, then its color conversion), so the
 * intermediate stays in cache; every row has exactly 3x3 taps (taps outside the grid carry weight
 * 0 and a valid index), which keeps the inner loop free of branches. The arithmetic, its order and
 * the float32 rounding of the upsampled a*b* are those of the straightforward version
 * (test/helpers/compose-reference.ts), so the output is bit-identical to it.
 */
export class ChromaComposer {
  private readonly geometry: Required<ChromaGeometry>;
  private readonly srgbLut = linearToSrgbLut();
  private readonly rangeWeightLut: Float32Array;
  private readonly columnTaps: Taps;
  private readonly rowTaps: Taps;
  /** End (exclusive) of each run of output columns that share their three grid columns. */
  private readonly columnRunEnds: Int32Array;
  private readonly aRow: Float32Array;
  private readonly bRow: Float32Array;

  constructor(geometry: ChromaGeometry) {
    this.geometry = { edgeSigma: DEFAULT_EDGE_SIGMA, bitDepth: 8, ...geometry };
    this.columnTaps = taps(geometry.gridWidth, geometry.chromaWidth);
    this.rowTaps = taps(geometry.gridHeight, geometry.chromaHeight);
    this.columnRunEnds = runEnds(this.columnTaps, geometry.chromaWidth);
    this.rangeWeightLut = rangeWeights(this.geometry.edgeSigma);
    this.aRow = new Float32Array(geometry.chromaWidth);
    this.bRow = new Float32Array(geometry.chromaWidth);
  }

  /**
   * @param lightness L* at chroma-plane resolution (chromaWidth*chromaHeight)
   * @param gridLightness L* at a*b*-grid resolution (gridWidth*gridHeight), the guide's low-res twin
   * @param ab planar a*b* at grid resolution (2*gridWidth*gridHeight)
   * @param cb output Cb plane, cr output Cr plane (chromaWidth*chromaHeight each)
   */
  compose(lightness: Float32Array, gridLightness: Float32Array, ab: Float32Array, cb: ChromaSamples, cr: ChromaSamples): void {
    const { chromaWidth, chromaHeight } = this.geometry;
    const codes = chromaCodes(this.geometry);
    for (let y = 0; y < chromaHeight; y++) {
      this.upsampleRow(y, lightness, gridLightness, ab);
      toChromaRow(y * chromaWidth, chromaWidth, lightness, this.aRow, this.bRow, this.srgbLut, codes, cb, cr);
    }
  }

  /** Planar a*b* at chroma-plane size (a new array), guided by `lightness` as in `compose`. */
  upsampleAb(lightness: Float32Array, gridLightness: Float32Array, ab: Float32Array): Float32Array {
    const { chromaWidth, chromaHeight } = this.geometry;
    const n = chromaWidth * chromaHeight;
    const out = new Float32Array(2 * n);
    for (let y = 0; y < chromaHeight; y++) {
      this.upsampleRow(y, lightness, gridLightness, ab);
      out.set(this.aRow, y * chromaWidth);
      out.set(this.bRow, n + y * chromaWidth);
    }
    return out;
  }

  /**
   * Joint bilateral upsampling of one output row into aRow/bRow. Neighbouring output samples share
   * their 3x3 grid cells (about chromaWidth / gridWidth of them in a row), so each run of samples
   * with the same cells reads the cells' L* and a*b* once; the arithmetic per sample is unchanged.
   */
  private upsampleRow(y: number, lightness: Float32Array, gridLightness: Float32Array, ab: Float32Array): void {
    const { chromaWidth, gridWidth, gridHeight } = this.geometry;
    const gridN = gridWidth * gridHeight;
    const rangeLut = this.rangeWeightLut;
    const lutLast = RANGE_LUT_SIZE - 1;
    const { index: colIndex, weight: colWeight } = this.columnTaps;
    const runEnds = this.columnRunEnds;
    const rows = this.rowTaps;
    const aRow = this.aRow;
    const bRow = this.bRow;
    const wy0 = rows.weight[y * TAPS];
    const wy1 = rows.weight[y * TAPS + 1];
    const wy2 = rows.weight[y * TAPS + 2];
    const r0 = rows.index[y * TAPS] * gridWidth;
    const r1 = rows.index[y * TAPS + 1] * gridWidth;
    const r2 = rows.index[y * TAPS + 2] * gridWidth;
    const base = y * chromaWidth;
    let x = 0;
    for (let run = 0; run < runEnds.length; run++) {
      const end = runEnds[run];
      const c0 = colIndex[x * TAPS];
      const c1 = colIndex[x * TAPS + 1];
      const c2 = colIndex[x * TAPS + 2];
      // The run's nine cells, in the reference's row-major tap order (ty, then tx).
      const g00 = gridLightness[r0 + c0], g01 = gridLightness[r0 + c1], g02 = gridLightness[r0 + c2];
      const g10 = gridLightness[r1 + c0], g11 = gridLightness[r1 + c1], g12 = gridLightness[r1 + c2];
      const g20 = gridLightness[r2 + c0], g21 = gridLightness[r2 + c1], g22 = gridLightness[r2 + c2];
      const a00 = ab[r0 + c0], a01 = ab[r0 + c1], a02 = ab[r0 + c2];
      const a10 = ab[r1 + c0], a11 = ab[r1 + c1], a12 = ab[r1 + c2];
      const a20 = ab[r2 + c0], a21 = ab[r2 + c1], a22 = ab[r2 + c2];
      const b00 = ab[gridN + r0 + c0], b01 = ab[gridN + r0 + c1], b02 = ab[gridN + r0 + c2];
      const b10 = ab[gridN + r1 + c0], b11 = ab[gridN + r1 + c1], b12 = ab[gridN + r1 + c2];
      const b20 = ab[gridN + r2 + c0], b21 = ab[gridN + r2 + c1], b22 = ab[gridN + r2 + c2];
      for (; x < end; x++) {
        const guide = lightness[base + x];
        const t = x * TAPS;
        const wx0 = colWeight[t];
        const wx1 = colWeight[t + 1];
        const wx2 = colWeight[t + 2];
        let wSum = 0;
        let aSum = 0;
        let bSum = 0;
        let d: number, k: number, w: number;
        // Sums are order-sensitive: the same order as the reference.
        d = guide - g00; k = (d * d * RANGE_LUT_SCALE) | 0; w = wy0 * wx0 * rangeLut[k < RANGE_LUT_SIZE ? k : lutLast];
        wSum += w; aSum += w * a00; bSum += w * b00;
        d = guide - g01; k = (d * d * RANGE_LUT_SCALE) | 0; w = wy0 * wx1 * rangeLut[k < RANGE_LUT_SIZE ? k : lutLast];
        wSum += w; aSum += w * a01; bSum += w * b01;
        d = guide - g02; k = (d * d * RANGE_LUT_SCALE) | 0; w = wy0 * wx2 * rangeLut[k < RANGE_LUT_SIZE ? k : lutLast];
        wSum += w; aSum += w * a02; bSum += w * b02;
        d = guide - g10; k = (d * d * RANGE_LUT_SCALE) | 0; w = wy1 * wx0 * rangeLut[k < RANGE_LUT_SIZE ? k : lutLast];
        wSum += w; aSum += w * a10; bSum += w * b10;
        d = guide - g11; k = (d * d * RANGE_LUT_SCALE) | 0; w = wy1 * wx1 * rangeLut[k < RANGE_LUT_SIZE ? k : lutLast];
        wSum += w; aSum += w * a11; bSum += w * b11;
        d = guide - g12; k = (d * d * RANGE_LUT_SCALE) | 0; w = wy1 * wx2 * rangeLut[k < RANGE_LUT_SIZE ? k : lutLast];
        wSum += w; aSum += w * a12; bSum += w * b12;
        d = guide - g20; k = (d * d * RANGE_LUT_SCALE) | 0; w = wy2 * wx0 * rangeLut[k < RANGE_LUT_SIZE ? k : lutLast];
        wSum += w; aSum += w * a20; bSum += w * b20;
        d = guide - g21; k = (d * d * RANGE_LUT_SCALE) | 0; w = wy2 * wx1 * rangeLut[k < RANGE_LUT_SIZE ? k : lutLast];
        wSum += w; aSum += w * a21; bSum += w * b21;
        d = guide - g22; k = (d * d * RANGE_LUT_SCALE) | 0; w = wy2 * wx2 * rangeLut[k < RANGE_LUT_SIZE ? k : lutLast];
        wSum += w; aSum += w * a22; bSum += w * b22;
        if (wSum > 1e-6) {
          aRow[x] = aSum / wSum;
          bRow[x] = bSum / wSum;
        } else {
          aRow[x] = 0;
          bRow[x] = 0;
        }
      }
    }
  }
}

/** Constants of the Y'CbCr chroma code mapping for one matrix, range and bit depth. */
export interface ChromaCodes {
  kr: number;
  kg: number;
  kb: number;
  cbScale: number;
  crScale: number;
  mid: number;
  lo: number;
  hi: number;
}

export function chromaCodes(geometry: Required<ChromaGeometry>): ChromaCodes {
  const { kr, kb } = lumaCoefficients(geometry.matrix);
  const step = 2 ** (geometry.bitDepth - 8);
  const full = geometry.range === 'full';
  const max = 2 ** geometry.bitDepth - 1;
  const scale = full ? max : 224 * step;
  return {
    kr,
    kg: 1 - kr - kb,
    kb,
    cbScale: scale / (2 * (1 - kb)),
    crScale: scale / (2 * (1 - kr)),
    mid: full ? 2 ** (geometry.bitDepth - 1) : 128 * step,
    lo: full ? 0 : 16 * step,
    hi: full ? max : 240 * step,
  };
}

/** L*a*b* -> XYZ (D65) -> linear sRGB -> sRGB (LUT) -> Cb/Cr codes for `count` samples from `offset`. */
function toChromaRow(
  offset: number,
  count: number,
  lightness: Float32Array,
  aRow: Float32Array,
  bRow: Float32Array,
  lut: Float32Array,
  codes: ChromaCodes,
  cb: ChromaSamples,
  cr: ChromaSamples,
): void {
  const { kr, kg, kb, cbScale, crScale, mid, lo, hi } = codes;
  const steps = LINEAR_TO_SRGB_STEPS;
  for (let x = 0; x < count; x++) {
    const i = offset + x;
    const fy = (lightness[i] + 16) / 116;
    const fx = fy + aRow[x] / 500;
    const fz = fy - bRow[x] / 200;
    const xx = 0.95047 * (fx > 0.20689655 ? fx * fx * fx : (116 * fx - 16) / 903.2962963);
    const yy = fy > 0.20689655 ? fy * fy * fy : (116 * fy - 16) / 903.2962963;
    const zz = 1.08883 * (fz > 0.20689655 ? fz * fz * fz : (116 * fz - 16) / 903.2962963);
    const lr = 3.2404542 * xx - 1.5371385 * yy - 0.4985314 * zz;
    const lg = -0.969266 * xx + 1.8760108 * yy + 0.041556 * zz;
    const lb = 0.0556434 * xx - 0.2040259 * yy + 1.0572252 * zz;
    const r = lut[!(lr > 0) ? 0 : lr >= 1 ? steps : (lr * steps + 0.5) | 0];
    const g = lut[!(lg > 0) ? 0 : lg >= 1 ? steps : (lg * steps + 0.5) | 0];
    const b = lut[!(lb > 0) ? 0 : lb >= 1 ? steps : (lb * steps + 0.5) | 0];
    const luma = kr * r + kg * g + kb * b;
    const u = roundHalfUp(mid + cbScale * (b - luma));
    const v = roundHalfUp(mid + crScale * (r - luma));
    cb[i] = u < lo ? lo : u > hi ? hi : u;
    cr[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

/**
 * Math.round for the code values here (|x| < 2^31), several times faster in V8: floor(x + 0.5) is
 * exact except just below 0.5, where the sum rounds up to 1. Negative x truncate towards 0 instead
 * of flooring, which only ever happens below the lowest code and is clamped away.
 */
export function roundHalfUp(x: number): number {
  return x === 0.49999999999999994 ? 0 : (x + 0.5) | 0;
}

export const TAPS = 3;

export interface Taps {
  /** TAPS grid indices per output sample (flat), with their spatial weights (weight 0, index clamped into the grid, where a tap falls outside). */
  index: Int32Array;
  weight: Float32Array;
}

/** 3 grid neighbours per output sample with Gaussian spatial weights around the exact position. */
export function taps(gridLength: number, outLength: number): Taps {
  const index = new Int32Array(outLength * TAPS);
  const weight = new Float32Array(outLength * TAPS);
  const scale = gridLength / outLength;
  for (let o = 0; o < outLength; o++) {
    const pos = (o + 0.5) * scale - 0.5;
    const center = Math.round(pos);
    for (let d = -1; d <= 1; d++) {
      const g = center + d;
      const slot = o * TAPS + d + 1;
      index[slot] = Math.min(gridLength - 1, Math.max(0, g));
      if (g < 0 || g >= gridLength) continue;
      const dist = (g - pos) / SPATIAL_SIGMA;
      weight[slot] = Math.exp(-0.5 * dist * dist);
    }
  }
  return { index, weight };
}

export function runEnds(columnTaps: Taps, outLength: number): Int32Array {
  const ends: number[] = [];
  const { index } = columnTaps;
  for (let o = 1; o <= outLength; o++) {
    const t = o * TAPS;
    const p = t - TAPS;
    if (o === outLength || index[t] !== index[p] || index[t + 1] !== index[p + 1] || index[t + 2] !== index[p + 2]) ends.push(o);
  }
  return Int32Array.from(ends);
}

export const RANGE_LUT_SIZE = 4096;
const MAX_SQUARED_DIFF = 100 * 100;
export const RANGE_LUT_SCALE = RANGE_LUT_SIZE / MAX_SQUARED_DIFF;

export function rangeWeights(sigma: number): Float32Array {
  const lut = new Float32Array(RANGE_LUT_SIZE);
  for (let i = 0; i < RANGE_LUT_SIZE; i++) {
    const squared = i / RANGE_LUT_SCALE;
    // A floor keeps isolated pixels from losing all support.
    lut[i] = sigma > 0 ? Math.max(1e-4, Math.exp(-squared / (2 * sigma * sigma))) : 1;
  }
  return lut;
}
