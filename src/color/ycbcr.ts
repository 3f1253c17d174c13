/** Y'CbCr matrices and ranges, 8-bit. */
export type ColorMatrix = 'bt601' | 'bt709';
export type ColorRange = 'limited' | 'full';

export interface LumaCoefficients {
  kr: number;
  kb: number;
}

export function lumaCoefficients(matrix: ColorMatrix): LumaCoefficients {
  return matrix === 'bt709' ? { kr: 0.2126, kb: 0.0722 } : { kr: 0.299, kb: 0.114 };
}

/** 8-bit Y' code value -> normalized Y' in [0,1] (limited range is clipped to [16,235]). */
export function lumaCodeToUnit(code: number, range: ColorRange): number {
  if (range === 'full') return code / 255;
  const v = (code - 16) / 219;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Normalized R'G'B' in [0,1] -> 8-bit [Cb, Cr] code values (rounded, clipped to the legal range). */
export function rgbToChromaCodes(r: number, g: number, b: number, k: LumaCoefficients, range: ColorRange): [number, number] {
  const y = k.kr * r + (1 - k.kr - k.kb) * g + k.kb * b;
  const pb = (b - y) / (2 * (1 - k.kb));
  const pr = (r - y) / (2 * (1 - k.kr));
  const scale = range === 'full' ? 255 : 224;
  const lo = range === 'full' ? 0 : 16;
  const hi = range === 'full' ? 255 : 240;
  return [clampRound(128 + scale * pb, lo, hi), clampRound(128 + scale * pr, lo, hi)];
}

/** 8-bit Y'CbCr -> normalized R'G'B' (unclipped). Used by tests and evaluation. */
export function ycbcrCodesToRgb(yCode: number, cb: number, cr: number, k: LumaCoefficients, range: ColorRange): [number, number, number] {
  const y = range === 'full' ? yCode / 255 : (yCode - 16) / 219;
  const scale = range === 'full' ? 255 : 224;
  const pb = (cb - 128) / scale;
  const pr = (cr - 128) / scale;
  const r = y + 2 * (1 - k.kr) * pr;
  const b = y + 2 * (1 - k.kb) * pb;
  const g = (y - k.kr * r - k.kb * b) / (1 - k.kr - k.kb);
  return [r, g, b];
}

function clampRound(v: number, lo: number, hi: number): number {
  const r = Math.round(v);
  return r < lo ? lo : r > hi ? hi : r;
}
