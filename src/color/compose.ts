import { linearToSrgbLut, LINEAR_TO_SRGB_STEPS } from './luts.js';
import { labToLinearRgb } from './lab.js';
import { type ColorMatrix, type ColorRange, lumaCoefficients, rgbToChromaCodes } from './ycbcr.js';

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
}

const SPATIAL_SIGMA = 0.8;

/**
 * Turns a low-resolution a*b* prediction into Cb/Cr planes: joint bilateral upsampling guided by
 * the full-resolution lightness (so chroma stops at luma edges instead of bleeding across them),
 * then L*a*b* -> sRGB -> Y'CbCr with the input's matrix and range. Only Cb/Cr are produced; the
 * caller keeps the decoded Y' plane untouched.
 */
export class ChromaComposer {
  private readonly geometry: Required<ChromaGeometry>;
  private readonly srgbLut = linearToSrgbLut();
  private readonly rangeWeightLut: Float32Array;
  private readonly columnTaps: Tap[];
  private readonly rowTaps: Tap[];
  private readonly abFull: Float32Array;
  private readonly rgb = new Float64Array(3);

  constructor(geometry: ChromaGeometry) {
    this.geometry = { edgeSigma: 6, ...geometry };
    this.columnTaps = taps(geometry.gridWidth, geometry.chromaWidth);
    this.rowTaps = taps(geometry.gridHeight, geometry.chromaHeight);
    this.rangeWeightLut = rangeWeights(this.geometry.edgeSigma);
    this.abFull = new Float32Array(2 * geometry.chromaWidth * geometry.chromaHeight);
  }

  /**
   * @param lightness L* at chroma-plane resolution (chromaWidth*chromaHeight)
   * @param gridLightness L* at a*b*-grid resolution (gridWidth*gridHeight), the guide's low-res twin
   * @param ab planar a*b* at grid resolution (2*gridWidth*gridHeight)
   * @param cb output Cb plane, cr output Cr plane (chromaWidth*chromaHeight each)
   */
  compose(lightness: Float32Array, gridLightness: Float32Array, ab: Float32Array, cb: Uint8Array, cr: Uint8Array): void {
    this.upsample(lightness, gridLightness, ab);
    const { chromaWidth, chromaHeight, matrix, range } = this.geometry;
    const k = lumaCoefficients(matrix);
    const n = chromaWidth * chromaHeight;
    const lut = this.srgbLut;
    const rgb = this.rgb;
    const abFull = this.abFull;
    for (let i = 0; i < n; i++) {
      labToLinearRgb(lightness[i], abFull[i], abFull[n + i], rgb);
      const r = lut[toLutIndex(rgb[0])];
      const g = lut[toLutIndex(rgb[1])];
      const b = lut[toLutIndex(rgb[2])];
      const [u, v] = rgbToChromaCodes(r, g, b, k, range);
      cb[i] = u;
      cr[i] = v;
    }
  }

  /**
   * The edge-aware upsampling of `compose` alone: planar a*b* at chroma-plane size
   * (2*chromaWidth*chromaHeight, all a then all b), as a fresh array. Arguments as for `compose`.
   */
  upsampleAb(lightness: Float32Array, gridLightness: Float32Array, ab: Float32Array): Float32Array {
    this.upsample(lightness, gridLightness, ab);
    return this.abFull.slice();
  }

  private upsample(lightness: Float32Array, gridLightness: Float32Array, ab: Float32Array): void {
    const { chromaWidth, chromaHeight, gridWidth, gridHeight } = this.geometry;
    const gridN = gridWidth * gridHeight;
    const n = chromaWidth * chromaHeight;
    const out = this.abFull;
    const rangeLut = this.rangeWeightLut;
    const edgeAware = this.geometry.edgeSigma > 0;
    for (let y = 0; y < chromaHeight; y++) {
      const rowTap = this.rowTaps[y];
      for (let x = 0; x < chromaWidth; x++) {
        const colTap = this.columnTaps[x];
        const i = y * chromaWidth + x;
        const guide = lightness[i];
        let wSum = 0;
        let aSum = 0;
        let bSum = 0;
        for (let ty = 0; ty < rowTap.indices.length; ty++) {
          const gRow = rowTap.indices[ty] * gridWidth;
          const wy = rowTap.weights[ty];
          for (let tx = 0; tx < colTap.indices.length; tx++) {
            const q = gRow + colTap.indices[tx];
            let w = wy * colTap.weights[tx];
            if (edgeAware) {
              const d = guide - gridLightness[q];
              const idx = Math.min(RANGE_LUT_SIZE - 1, (d * d * RANGE_LUT_SCALE) | 0);
              w *= rangeLut[idx];
            }
            wSum += w;
            aSum += w * ab[q];
            bSum += w * ab[gridN + q];
          }
        }
        if (wSum > 1e-6) {
          out[i] = aSum / wSum;
          out[n + i] = bSum / wSum;
        } else {
          out[i] = 0;
          out[n + i] = 0;
        }
      }
    }
  }
}

interface Tap {
  indices: Int32Array;
  weights: Float32Array;
}

/** 3 grid neighbours per output sample with Gaussian spatial weights around the exact position. */
function taps(gridLength: number, outLength: number): Tap[] {
  const result: Tap[] = [];
  const scale = gridLength / outLength;
  for (let o = 0; o < outLength; o++) {
    const pos = (o + 0.5) * scale - 0.5;
    const center = Math.round(pos);
    const indices: number[] = [];
    const weights: number[] = [];
    for (let d = -1; d <= 1; d++) {
      const g = center + d;
      if (g < 0 || g >= gridLength) continue;
      const dist = (g - pos) / Math.max(1, SPATIAL_SIGMA);
      indices.push(g);
      weights.push(Math.exp(-0.5 * dist * dist));
    }
    result.push({ indices: Int32Array.from(indices), weights: Float32Array.from(weights) });
  }
  return result;
}

const RANGE_LUT_SIZE = 4096;
const MAX_SQUARED_DIFF = 100 * 100;
const RANGE_LUT_SCALE = RANGE_LUT_SIZE / MAX_SQUARED_DIFF;

function rangeWeights(sigma: number): Float32Array {
  const lut = new Float32Array(RANGE_LUT_SIZE);
  for (let i = 0; i < RANGE_LUT_SIZE; i++) {
    const squared = i / RANGE_LUT_SCALE;
    // A floor keeps isolated pixels from losing all support.
    lut[i] = sigma > 0 ? Math.max(1e-4, Math.exp(-squared / (2 * sigma * sigma))) : 1;
  }
  return lut;
}

function toLutIndex(linear: number): number {
  if (!(linear > 0)) return 0;
  if (linear >= 1) return LINEAR_TO_SRGB_STEPS;
  return (linear * LINEAR_TO_SRGB_STEPS + 0.5) | 0;
}
