/**
 * The first, straightforward chroma composer (joint bilateral upsampling, then Lab -> Y'CbCr), kept
 * unchanged as the reference the optimized src/color/compose.ts must reproduce exactly.
 */
import { linearToSrgbLut, LINEAR_TO_SRGB_STEPS } from '../../src/color/luts.js';
import { type ColorMatrix, type ColorRange, lumaCoefficients } from '../../src/color/ycbcr.js';

interface ChromaGeometry {
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

const SPATIAL_SIGMA = 1;

/**
 * Turns a low-resolution a*b* prediction into Cb/Cr planes: joint bilateral upsampling guided by
 * the full-resolution lightness (so chroma stops at luma edges instead of bleeding across them),
 * then L*a*b* -> sRGB -> Y'CbCr with the input's matrix and range. Only Cb/Cr are produced; the
 * caller keeps the decoded Y' plane untouched.
 */
export class ReferenceChromaComposer {
  private readonly geometry: Required<ChromaGeometry>;
  private readonly srgbLut = linearToSrgbLut();
  private readonly rangeWeightLut: Float32Array;
  private readonly columnTaps: Taps;
  private readonly rowTaps: Taps;
  private readonly abFull: Float32Array;

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
    const { kr, kb } = lumaCoefficients(matrix);
    const kg = 1 - kr - kb;
    const full = range === 'full';
    const scale = full ? 255 : 224;
    const lo = full ? 0 : 16;
    const hi = full ? 255 : 240;
    const cbScale = scale / (2 * (1 - kb));
    const crScale = scale / (2 * (1 - kr));
    const n = chromaWidth * chromaHeight;
    const lut = this.srgbLut;
    const abFull = this.abFull;
    for (let i = 0; i < n; i++) {
      // L*a*b* -> XYZ (D65) -> linear sRGB, inlined: this loop runs for every chroma sample of every frame.
      const fy = (lightness[i] + 16) / 116;
      const fx = fy + abFull[i] / 500;
      const fz = fy - abFull[n + i] / 200;
      const x = 0.95047 * (fx > 0.20689655 ? fx * fx * fx : (116 * fx - 16) / 903.2962963);
      const y = fy > 0.20689655 ? fy * fy * fy : (116 * fy - 16) / 903.2962963;
      const z = 1.08883 * (fz > 0.20689655 ? fz * fz * fz : (116 * fz - 16) / 903.2962963);
      const r = lut[toLutIndex(3.2404542 * x - 1.5371385 * y - 0.4985314 * z)];
      const g = lut[toLutIndex(-0.969266 * x + 1.8760108 * y + 0.041556 * z)];
      const b = lut[toLutIndex(0.0556434 * x - 0.2040259 * y + 1.0572252 * z)];
      const luma = kr * r + kg * g + kb * b;
      const u = Math.round(128 + cbScale * (b - luma));
      const v = Math.round(128 + crScale * (r - luma));
      cb[i] = u < lo ? lo : u > hi ? hi : u;
      cr[i] = v < lo ? lo : v > hi ? hi : v;
    }
  }

  /** Planar a*b* at chroma-plane size (a copy), guided by `lightness` as in `compose`. */
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
    const { index: colIndex, weight: colWeight } = this.columnTaps;
    const { index: rowIndex, weight: rowWeight } = this.rowTaps;
    for (let y = 0; y < chromaHeight; y++) {
      for (let x = 0; x < chromaWidth; x++) {
        const i = y * chromaWidth + x;
        const guide = lightness[i];
        let wSum = 0;
        let aSum = 0;
        let bSum = 0;
        for (let ty = 0; ty < TAPS; ty++) {
          const wy = rowWeight[y * TAPS + ty];
          if (wy === 0) continue;
          const gRow = rowIndex[y * TAPS + ty] * gridWidth;
          for (let tx = 0; tx < TAPS; tx++) {
            const wx = colWeight[x * TAPS + tx];
            if (wx === 0) continue;
            const q = gRow + colIndex[x * TAPS + tx];
            let w = wy * wx;
            if (edgeAware) {
              const d = guide - gridLightness[q];
              const idx = (d * d * RANGE_LUT_SCALE) | 0;
              w *= rangeLut[idx < RANGE_LUT_SIZE ? idx : RANGE_LUT_SIZE - 1];
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

const TAPS = 3;

interface Taps {
  /** TAPS grid indices per output sample (flat), with their spatial weights (0 where a tap falls outside). */
  index: Int32Array;
  weight: Float32Array;
}

/** 3 grid neighbours per output sample with Gaussian spatial weights around the exact position. */
function taps(gridLength: number, outLength: number): Taps {
  const index = new Int32Array(outLength * TAPS);
  const weight = new Float32Array(outLength * TAPS);
  const scale = gridLength / outLength;
  for (let o = 0; o < outLength; o++) {
    const pos = (o + 0.5) * scale - 0.5;
    const center = Math.round(pos);
    for (let d = -1; d <= 1; d++) {
      const g = center + d;
      const slot = o * TAPS + d + 1;
      if (g < 0 || g >= gridLength) continue;
      const dist = (g - pos) / SPATIAL_SIGMA;
      index[slot] = g;
      weight[slot] = Math.exp(-0.5 * dist * dist);
    }
  }
  return { index, weight };
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
