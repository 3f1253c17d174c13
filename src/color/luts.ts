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
