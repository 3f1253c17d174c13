/**
 * CIE L*a*b* (D65) <-> sRGB. The model is trained on sRGB photographs converted with these
 * same formulas, so the pipeline treats decoded Y'CbCr as sRGB-encoded R'G'B'.
 */
const XN = 0.95047;
const YN = 1.0;
const ZN = 1.08883;
const EPSILON = 216 / 24389;
const KAPPA = 24389 / 27;

export function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

export function linearToSrgb(v: number): number {
  return v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
}

function labF(t: number): number {
  return t > EPSILON ? Math.cbrt(t) : (KAPPA * t + 16) / 116;
}

function labFInverse(f: number): number {
  const f3 = f * f * f;
  return f3 > EPSILON ? f3 : (116 * f - 16) / KAPPA;
}

/** Relative luminance Y (0..1) -> L* (0..100). */
export function luminanceToLightness(y: number): number {
  return 116 * labF(y / YN) - 16;
}

/** sRGB components in [0,1] -> [L*, a*, b*]. */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  const rl = srgbToLinear(r);
  const gl = srgbToLinear(g);
  const bl = srgbToLinear(b);
  const x = 0.4124564 * rl + 0.3575761 * gl + 0.1804375 * bl;
  const y = 0.2126729 * rl + 0.7151522 * gl + 0.072175 * bl;
  const z = 0.0193339 * rl + 0.119192 * gl + 0.9503041 * bl;
  const fx = labF(x / XN);
  const fy = labF(y / YN);
  const fz = labF(z / ZN);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** L*a*b* -> linear RGB (unclipped), written into out[0..2]. */
export function labToLinearRgb(l: number, a: number, b: number, out: Float64Array | number[]): void {
  const fy = (l + 16) / 116;
  const fx = fy + a / 500;
  const fz = fy - b / 200;
  const x = XN * labFInverse(fx);
  const y = YN * labFInverse(fy);
  const z = ZN * labFInverse(fz);
  out[0] = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
  out[1] = -0.969266 * x + 1.8760108 * y + 0.041556 * z;
  out[2] = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
}

/** L*a*b* -> sRGB components clipped to [0,1]. */
export function labToSrgb(l: number, a: number, b: number): [number, number, number] {
  const lin = [0, 0, 0];
  labToLinearRgb(l, a, b, lin);
  return [clamp01(linearToSrgb(clamp01(lin[0]))), clamp01(linearToSrgb(clamp01(lin[1]))), clamp01(linearToSrgb(clamp01(lin[2])))];
}

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
