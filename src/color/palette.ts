/**
 * Palette statistics and transfers on planar a*b* (all a, then all b): the part of a reference
 * image's colors the pipeline can impose on a shot. A shot's a*b* is moved by one affine map
 * (the same for every frame of the shot, so it cannot flicker) that takes the mean and covariance
 * of the shot's predicted a*b* onto the reference's (the Monge–Kantorovich linear map between two
 * Gaussians, Pitié & Kokaram 2007), blended with the identity by a strength.
 */

export interface AbStats {
  meanA: number;
  meanB: number;
  /** Covariance [aa, ab, bb]. */
  cov: [number, number, number];
  /** Mean a*b* of dark, middle and light pixels (when the lightness was given). */
  bands?: LightnessBands;
}

/** Per lightness band (centres LIGHTNESS_BANDS, overlapping linearly): mean a*, b* and the share of pixels. */
export interface LightnessBands {
  a: number[];
  b: number[];
  share: number[];
}

/** Affine map on (a*, b*): out = m · (a, b) + t, m row-major 2×2, plus an offset that depends on L*. */
export interface AbAffine {
  m: [number, number, number, number];
  t: [number, number];
  /** Extra a*, b* per lightness band, blended by the pixel's L* (needs the lightness when applied). */
  bandOffsets?: { a: number[]; b: number[] };
}

/** Centres (L*) of the dark, middle and light bands. */
export const LIGHTNESS_BANDS = [20, 50, 80];
/** A band holding less than this share of a picture's pixels keeps no colour of its own. */
const MIN_BAND_SHARE = 0.05;

/** Weights of the bands at lightness l (they sum to 1). */
export function bandWeights(l: number, out: number[]): void {
  const [c0, c1, c2] = LIGHTNESS_BANDS;
  out[0] = out[1] = out[2] = 0;
  if (l <= c0) out[0] = 1;
  else if (l < c1) {
    out[1] = (l - c0) / (c1 - c0);
    out[0] = 1 - out[1];
  } else if (l < c2) {
    out[2] = (l - c1) / (c2 - c1);
    out[1] = 1 - out[2];
  } else out[2] = 1;
}

export const IDENTITY_AFFINE: AbAffine = { m: [1, 0, 0, 1], t: [0, 0] };

/** Variance (a*b* units²) added to the shot's covariance so a nearly gray prediction is not blown up. */
const COVARIANCE_FLOOR = 4;
/** Largest stretch of the a*b* spread the transfer may apply. */
const MAX_GAIN = 3;

/**
 * Mean and covariance of planar a*b* (one or more planes concatenated: pass each frame's array),
 * and with `lightness` (L* of the same pixels, one array per plane) the means per lightness band.
 */
export function abStats(planes: Float32Array[], lightness?: Float32Array[]): AbStats {
  let n = 0;
  let sa = 0;
  let sb = 0;
  for (const ab of planes) {
    const size = ab.length / 2;
    for (let i = 0; i < size; i++) {
      sa += ab[i];
      sb += ab[size + i];
    }
    n += size;
  }
  if (n === 0) throw new RangeError('abStats needs at least one pixel');
  const meanA = sa / n;
  const meanB = sb / n;
  let caa = 0;
  let cab = 0;
  let cbb = 0;
  for (const ab of planes) {
    const size = ab.length / 2;
    for (let i = 0; i < size; i++) {
      const da = ab[i] - meanA;
      const db = ab[size + i] - meanB;
      caa += da * da;
      cab += da * db;
      cbb += db * db;
    }
  }
  const stats: AbStats = { meanA, meanB, cov: [caa / n, cab / n, cbb / n] };
  if (lightness) stats.bands = bandMeans(planes, lightness);
  return stats;
}

function bandMeans(planes: Float32Array[], lightness: Float32Array[]): LightnessBands {
  const weight = [0, 0, 0];
  const sumA = [0, 0, 0];
  const sumB = [0, 0, 0];
  const w = [0, 0, 0];
  let n = 0;
  planes.forEach((ab, p) => {
    const size = ab.length / 2;
    const l = lightness[p];
    if (l.length !== size) throw new RangeError(`lightness has ${l.length} values, a*b* ${size} pixels`);
    for (let i = 0; i < size; i++) {
      bandWeights(l[i], w);
      for (let k = 0; k < 3; k++) {
        weight[k] += w[k];
        sumA[k] += w[k] * ab[i];
        sumB[k] += w[k] * ab[size + i];
      }
    }
    n += size;
  });
  return {
    a: sumA.map((v, k) => (weight[k] > 0 ? v / weight[k] : 0)),
    b: sumB.map((v, k) => (weight[k] > 0 ? v / weight[k] : 0)),
    share: weight.map((v) => v / n),
  };
}

/**
 * The affine map that moves a*b* with statistics `from` towards `to`: strength 0 is the identity,
 * 1 matches mean and covariance (within the gain limit), in between blends the two maps.
 */
export function paletteTransfer(from: AbStats, to: AbStats, strength: number): AbAffine {
  const s = Math.min(1, Math.max(0, strength));
  const source = addFloor(from.cov);
  const sourceRoot = sqrtSym(source);
  const sourceInvRoot = inverseSym(sourceRoot);
  const middle = sqrtSym(sandwich(sourceRoot, to.cov));
  const full = clampEigen(sandwich(sourceInvRoot, middle), MAX_GAIN);
  const [aa, ab, bb] = full;
  const fullT = [to.meanA - (aa * from.meanA + ab * from.meanB), to.meanB - (ab * from.meanA + bb * from.meanB)];
  const m: AbAffine['m'] = [(1 - s) + s * aa, s * ab, s * ab, (1 - s) + s * bb];
  const t: AbAffine['t'] = [s * fullT[0], s * fullT[1]];
  if (!from.bands || !to.bands) return { m, t };
  // Then the colour differences between dark, middle and light pixels follow the reference's
  // (dark with dark, light with light), where both pictures have enough pixels of that lightness.
  // The offsets average to zero over the shot's pixels, so its overall mean stays the reference's.
  const raw = { a: [0, 0, 0], b: [0, 0, 0] };
  const valid = [0, 1, 2].filter((k) => from.bands!.share[k] >= MIN_BAND_SHARE && to.bands!.share[k] >= MIN_BAND_SHARE);
  if (valid.length < 2) return { m, t };
  let share = 0;
  let meanA = 0;
  let meanB = 0;
  for (const k of valid) {
    raw.a[k] = to.bands.a[k] - (aa * from.bands.a[k] + ab * from.bands.b[k] + fullT[0]);
    raw.b[k] = to.bands.b[k] - (ab * from.bands.a[k] + bb * from.bands.b[k] + fullT[1]);
    share += from.bands.share[k];
    meanA += from.bands.share[k] * raw.a[k];
    meanB += from.bands.share[k] * raw.b[k];
  }
  const offsets = { a: [0, 0, 0], b: [0, 0, 0] };
  for (const k of valid) {
    offsets.a[k] = s * (raw.a[k] - meanA / share);
    offsets.b[k] = s * (raw.b[k] - meanB / share);
  }
  return { m, t, bandOffsets: offsets };
}

/**
 * `gain · affine(ab)` in place on planar a*b*; gain is the color intensity (0 = gray, 1 = as
 * predicted). `lightness` (L* of the same pixels) is needed for an affine with band offsets.
 */
export function applyAbTransform(ab: Float32Array, affine: AbAffine, gain: number, lightness?: Float32Array): Float32Array {
  const size = ab.length / 2;
  const [m00, m01, m10, m11] = affine.m;
  const [t0, t1] = affine.t;
  const offsets = affine.bandOffsets;
  if (offsets && lightness?.length !== size) throw new RangeError('a palette map with lightness bands needs the lightness of every pixel');
  const w = [0, 0, 0];
  for (let i = 0; i < size; i++) {
    const a = ab[i];
    const b = ab[size + i];
    let oa = t0;
    let ob = t1;
    if (offsets) {
      bandWeights(lightness![i], w);
      oa += w[0] * offsets.a[0] + w[1] * offsets.a[1] + w[2] * offsets.a[2];
      ob += w[0] * offsets.b[0] + w[1] * offsets.b[1] + w[2] * offsets.b[2];
    }
    ab[i] = gain * (m00 * a + m01 * b + oa);
    ab[size + i] = gain * (m10 * a + m11 * b + ob);
  }
  return ab;
}

export function isIdentityTransform(affine: AbAffine, gain: number): boolean {
  const offsets = affine.bandOffsets;
  return (
    gain === 1 &&
    affine.m[0] === 1 && affine.m[1] === 0 && affine.m[2] === 0 && affine.m[3] === 1 &&
    affine.t[0] === 0 && affine.t[1] === 0 &&
    (!offsets || [...offsets.a, ...offsets.b].every((v) => v === 0))
  );
}

type Sym = [number, number, number]; // [xx, xy, yy] of a symmetric 2×2 matrix

function addFloor([xx, xy, yy]: Sym): Sym {
  return [xx + COVARIANCE_FLOOR, xy, yy + COVARIANCE_FLOOR];
}

/** Square root of a symmetric positive semi-definite 2×2 matrix (closed form). */
function sqrtSym([xx, xy, yy]: Sym): Sym {
  const det = Math.max(0, xx * yy - xy * xy);
  const s = Math.sqrt(det);
  const t = Math.sqrt(Math.max(1e-12, xx + yy + 2 * s));
  return [(xx + s) / t, xy / t, (yy + s) / t];
}

function inverseSym([xx, xy, yy]: Sym): Sym {
  const det = xx * yy - xy * xy;
  return [yy / det, -xy / det, xx / det];
}

/** P · Q · P for symmetric P, Q (symmetric again). */
function sandwich(p: Sym, q: Sym): Sym {
  // R = P · Q (general 2×2), then R · P
  const r00 = p[0] * q[0] + p[1] * q[1];
  const r01 = p[0] * q[1] + p[1] * q[2];
  const r10 = p[1] * q[0] + p[2] * q[1];
  const r11 = p[1] * q[1] + p[2] * q[2];
  const xx = r00 * p[0] + r01 * p[1];
  const xy = 0.5 * (r00 * p[1] + r01 * p[2] + (r10 * p[0] + r11 * p[1]));
  const yy = r10 * p[1] + r11 * p[2];
  return [xx, xy, yy];
}

/** Caps the eigenvalues of a symmetric 2×2 matrix at `max` (and at 0 from below). */
function clampEigen([xx, xy, yy]: Sym, max: number): Sym {
  const mean = (xx + yy) / 2;
  const radius = Math.sqrt(((xx - yy) / 2) ** 2 + xy * xy);
  const l1 = mean + radius;
  const l2 = mean - radius;
  const c1 = Math.min(max, Math.max(0, l1));
  const c2 = Math.min(max, Math.max(0, l2));
  if (c1 === l1 && c2 === l2) return [xx, xy, yy];
  if (radius < 1e-12) return [c1, 0, c1];
  // Eigenvector of l1: (xy, l1 - xx) or (l1 - yy, xy).
  let vx = xy;
  let vy = l1 - xx;
  if (Math.abs(vx) + Math.abs(vy) < 1e-12) {
    vx = l1 - yy;
    vy = xy;
  }
  const norm = Math.hypot(vx, vy);
  vx /= norm;
  vy /= norm;
  // c1 v vᵀ + c2 (I - v vᵀ)
  return [c2 + (c1 - c2) * vx * vx, (c1 - c2) * vx * vy, c2 + (c1 - c2) * vy * vy];
}
