import { ChromaComposer, type ChromaGeometry } from './compose.js';
import { linearToSrgbLut, LINEAR_TO_SRGB_STEPS } from './luts.js';
import { lumaCoefficients } from './ycbcr.js';

/**
 * Cb/Cr at 9 to 16 bits per sample. The a*b* upsampling is the 8-bit composer's own; only the
 * last step, L*a*b* -> Y'CbCr code values, runs at the output's depth, so the 8-bit hot path
 * stays untouched.
 */
export class DeepChromaComposer {
  private readonly base: ChromaComposer;
  private readonly srgbLut = linearToSrgbLut();

  constructor(
    private readonly geometry: ChromaGeometry,
    private readonly bits: number,
  ) {
    this.base = new ChromaComposer(geometry);
  }

  compose(lightness: Float32Array, gridLightness: Float32Array, ab: Float32Array, cb: Uint16Array, cr: Uint16Array): void {
    const abFull = this.base.upsampleAb(lightness, gridLightness, ab);
    const { matrix, range } = this.geometry;
    const { kr, kb } = lumaCoefficients(matrix);
    const kg = 1 - kr - kb;
    const step = 1 << (this.bits - 8);
    const full = range === 'full';
    const max = (1 << this.bits) - 1;
    const scale = full ? max : 224 * step;
    const lo = full ? 0 : 16 * step;
    const hi = full ? max : 240 * step;
    const neutral = 1 << (this.bits - 1);
    const cbScale = scale / (2 * (1 - kb));
    const crScale = scale / (2 * (1 - kr));
    const n = lightness.length;
    const lut = this.srgbLut;
    for (let i = 0; i < n; i++) {
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
      const u = Math.round(neutral + cbScale * (b - luma));
      const v = Math.round(neutral + crScale * (r - luma));
      cb[i] = u < lo ? lo : u > hi ? hi : u;
      cr[i] = v < lo ? lo : v > hi ? hi : v;
    }
  }
}

function toLutIndex(linear: number): number {
  if (!(linear > 0)) return 0;
  if (linear >= 1) return LINEAR_TO_SRGB_STEPS;
  return (linear * LINEAR_TO_SRGB_STEPS + 0.5) | 0;
}
