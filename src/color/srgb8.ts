import { luminanceToLightness, srgbToLinear } from './lab.js';

/** L* of interleaved 8-bit sRGB pixels (`channels` per pixel: 1 = gray, 3 or 4 = RGB(A)). */
export function srgb8ToLightness(pixels: Uint8Array, width: number, height: number, channels: number): Float32Array {
  const n = width * height;
  if (pixels.length < n * channels) throw new RangeError(`pixel buffer has ${pixels.length} bytes, expected ${n * channels}`);
  const linear = new Float32Array(256);
  for (let v = 0; v < 256; v++) linear[v] = srgbToLinear(v / 255);
  const lightness = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = i * channels;
    const y = channels >= 3 ? 0.2126729 * linear[pixels[p]] + 0.7151522 * linear[pixels[p + 1]] + 0.072175 * linear[pixels[p + 2]] : linear[pixels[p]];
    lightness[i] = luminanceToLightness(y);
  }
  return lightness;
}
