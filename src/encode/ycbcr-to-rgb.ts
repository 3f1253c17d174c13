import type { FrameGeometry, Samples } from '../decode/frame.js';
import { type ColorMatrix, type ColorRange, lumaCoefficients } from '../color/ycbcr.js';

/**
 * Y'CbCr frames -> planar G, B, R (ffmpeg's gbrp order) at the same depth, for RGB image-sequence
 * outputs. Done here rather than by ffmpeg's scaler so the luma survives: colors outside the RGB
 * cube are pulled toward gray along constant luma instead of being clipped channel by channel,
 * so each pixel's Y' computed from the written R'G'B' is the decoded Y' up to rounding.
 */
export function ycbcrToRgbConverter(g: FrameGeometry, matrix: ColorMatrix, range: ColorRange): (y: Samples, cb: Samples, cr: Samples) => Uint8Array {
  const { kr, kb } = lumaCoefficients(matrix);
  const kg = 1 - kr - kb;
  const max = (1 << g.bits) - 1;
  const step = 1 << (g.bits - 8);
  const full = range === 'full';
  const yOffset = full ? 0 : 16 * step;
  const yScale = full ? max : 219 * step;
  const cScale = full ? max : 224 * step;
  const neutral = 1 << (g.bits - 1);
  const xShift = g.chromaWidth === g.width ? 0 : 1;
  const yShift = g.chromaHeight === g.height ? 0 : 1;
  const n = g.width * g.height;
  return (yPlane, cbPlane, crPlane) => {
    const out = g.bits > 8 ? new Uint16Array(3 * n) : new Uint8Array(3 * n);
    for (let row = 0; row < g.height; row++) {
      const cRow = (row >> yShift) * g.chromaWidth;
      for (let x = 0; x < g.width; x++) {
        const i = row * g.width + x;
        const c = cRow + (x >> xShift);
        let luma = (yPlane[i] - yOffset) / yScale;
        luma = luma < 0 ? 0 : luma > 1 ? 1 : luma;
        const pb = (cbPlane[c] - neutral) / cScale;
        const pr = (crPlane[c] - neutral) / cScale;
        const r = luma + 2 * (1 - kr) * pr;
        const b = luma + 2 * (1 - kb) * pb;
        const gr = (luma - kr * r - kb * b) / kg;
        let t = 1;
        for (const v of [r, gr, b]) {
          if (v > 1) t = Math.min(t, (1 - luma) / (v - luma));
          else if (v < 0) t = Math.min(t, luma / (luma - v));
        }
        out[i] = Math.round((luma + t * (gr - luma)) * max);
        out[n + i] = Math.round((luma + t * (b - luma)) * max);
        out[2 * n + i] = Math.round((luma + t * (r - luma)) * max);
      }
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  };
}
