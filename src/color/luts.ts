import { type ColorRange, lumaCodeToUnit } from './ycbcr.js';
import { luminanceToLightness, srgbToLinear } from './lab.js';

/**
 * 8-bit luma code -> L* for a gray pixel (R'=G'=B'=Y'), so that gray input maps to the
 * lightness the model was trained on.
 */
export function lumaToLightnessLut(range: ColorRange): Float32Array {
  const lut = new Float32Array(256);
  for (let code = 0; code < 256; code++) {
    lut[code] = luminanceToLightness(srgbToLinear(lumaCodeToUnit(code, range)));
  }
  return lut;
}

/** Gray codes (e.g. a decoded luma plane) -> L* through a `lumaToLightnessLut` table. */
export function lightnessOfCodes(codes: Uint8Array, lut: Float32Array): Float32Array {
  const lightness = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) lightness[i] = lut[codes[i]];
  return lightness;
}

export const LINEAR_TO_SRGB_STEPS = 4096;

/** Linear light in [0,1] sampled at LINEAR_TO_SRGB_STEPS+1 points -> sRGB-encoded value. */
export function linearToSrgbLut(): Float32Array {
  const lut = new Float32Array(LINEAR_TO_SRGB_STEPS + 1);
  for (let i = 0; i <= LINEAR_TO_SRGB_STEPS; i++) {
    const v = i / LINEAR_TO_SRGB_STEPS;
    lut[i] = v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
  }
  return lut;
}

/**
 * N-bit luma code -> L*, the high-depth twin of `lumaToLightnessLut` (2^bits entries, 256 KiB at
 * 16 bits): every code keeps its own lightness instead of being rounded to 8 bits first.
 */
export function lumaToLightnessLutAtDepth(range: ColorRange, bits: number): Float32Array {
  if (bits <= 8) return lumaToLightnessLut(range);
  const size = 1 << bits;
  const scale = 1 << (bits - 8);
  const lut = new Float32Array(size);
  for (let code = 0; code < size; code++) {
    const unit = range === 'full' ? code / (size - 1) : Math.min(1, Math.max(0, (code - 16 * scale) / (219 * scale)));
    lut[code] = luminanceToLightness(srgbToLinear(unit));
  }
  return lut;
}
