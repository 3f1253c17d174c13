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
}

/** Affine map on (a*, b*): out = m · (a, b) + t, m row-major 2×2. */
export interface AbAffine {
  m: [number, number, number, number];
  t: [number, number];
}

export const IDENTITY_AFFINE: AbAffine = { m: [1, 0, 0, 1], t: [0, 0] };

/** Variance (a*b* units²) added to the shot's covariance so a nearly gray prediction is not blown up. */
const COVARIANCE_FLOOR = 4;
/** Largest stretch of the a*b* spread the transfer may apply. */
const MAX_GAIN = 3;

/** Mean and covariance of planar a*b* (one or more planes concatenated: pass each frame's array). */
export function abStats(planes: Float32Array[]): AbStats {
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
  return { meanA, meanB, cov: [caa / n, cab / n, cbb / n] };
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
  const m: AbAffine['m'] = [(1 - s) + s * aa, s * ab, s * ab, (1 - s) + s * bb];
  const t: AbAffine['t'] = [
    s * (to.meanA - (aa * from.meanA + ab * from.meanB)),
    s * (to.meanB - (ab * from.meanA + bb * from.meanB)),
  ];
  return { m, t };
}

/** `gain · affine(ab)` in place on planar a*b*; gain is the color intensity (0 = gray, 1 = as predicted). */
export function applyAbTransform(ab: Float32Array, affine: AbAffine, gain: number): Float32Array {
  const size = ab.length / 2;
  const [m00, m01, m10, m11] = affine.m;
  const [t0, t1] = affine.t;
  for (let i = 0; i < size; i++) {
    const a = ab[i];
    const b = ab[size + i];
    ab[i] = gain * (m00 * a + m01 * b + t0);
    ab[size + i] = gain * (m10 * a + m11 * b + t1);
  }
  return ab;
}

export function isIdentityTransform(affine: AbAffine, gain: number): boolean {
  return gain === 1 && affine.m[0] === 1 && affine.m[1] === 0 && affine.m[2] === 0 && affine.m[3] === 1 && affine.t[0] === 0 && affine.t[1] === 0;
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
