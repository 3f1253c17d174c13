/**
 * Dense optical flow: a coarse-to-fine "combined local-global" method (Bruhn et al. 2005),
 * i.e. a Lucas–Kanade data term (structure tensor over a Gaussian window) joined with a
 * Horn–Schunck smoothness term. The local window makes it robust to noise; the global term
 * fills flat regions from their textured neighbours. Each pyramid level re-linearises around
 * the current estimate a few times (image warping), so shifts of several pixels are recovered.
 */
import { binomialBlur, buildPyramid } from './pyramid.js';
import { assertGridSize, assertLength, type FlowField, type ImagePlane } from './types.js';
import { sampleBilinear, warpImage } from './warp.js';

export interface FlowOptions {
  /** Most pyramid levels, finest included. */
  maxLevels: number;
  /** A coarser level is only added while both its sides stay at least this long. */
  minLevelSize: number;
  /** Re-linearisations (warps) per pyramid level. */
  warpsPerLevel: number;
  /** Gauss–Seidel sweeps per warp. */
  solverIterations: number;
  /** Blur passes over the structure tensor: 1 ≈ Gaussian window σ 1 px, 2 ≈ σ 1.4 px. */
  windowPasses: number;
  /** Smoothness weight, relative to the image's mean squared gradient, so intensity scale doesn't matter. */
  smoothness: number;
}

export const DEFAULT_FLOW_OPTIONS: FlowOptions = {
  maxLevels: 5,
  minLevelSize: 8,
  warpsPerLevel: 3,
  solverIterations: 5,
  smoothness: 1,
  windowPasses: 1,
};

export type FlowPyramid = ImagePlane[];

export function buildFlowPyramid(
  image: Float32Array,
  width: number,
  height: number,
  options: Partial<FlowOptions> = {},
): FlowPyramid {
  assertGridSize(width, height);
  assertLength('flow image', image, width * height);
  const { maxLevels, minLevelSize } = { ...DEFAULT_FLOW_OPTIONS, ...options };
  return buildPyramid(image, width, height, maxLevels, minLevelSize);
}

export function zeroFlow(width: number, height: number): FlowField {
  return { width, height, dx: new Float32Array(width * height), dy: new Float32Array(width * height) };
}

/** Flow from `from` to `to` (from(x) ≈ to(x + flow(x))), both given as pyramids of the same size. */
export function flowBetweenPyramids(from: FlowPyramid, to: FlowPyramid, options: Partial<FlowOptions> = {}): FlowField {
  const opts = { ...DEFAULT_FLOW_OPTIONS, ...options };
  if (from.length !== to.length || from[0].width !== to[0].width || from[0].height !== to[0].height) {
    throw new RangeError('flow: pyramids differ in size');
  }
  let flow: FlowField | undefined;
  for (let level = from.length - 1; level >= 0; level--) {
    const a = from[level];
    const b = to[level];
    flow = flow ? upsampleFlow(flow, a.width, a.height) : zeroFlow(a.width, a.height);
    refineFlowAtLevel(a, b, flow, opts);
  }
  return flow as FlowField;
}

/** Flow from image `from` to image `to` (luma planes of width×height). */
export function computeFlow(
  from: Float32Array,
  to: Float32Array,
  width: number,
  height: number,
  options: Partial<FlowOptions> = {},
): FlowField {
  return flowBetweenPyramids(
    buildFlowPyramid(from, width, height, options),
    buildFlowPyramid(to, width, height, options),
    options,
  );
}

/** Both directions between two frames: forward a→b and backward b→a, pyramids built once. */
export function computeBidirectionalFlow(
  a: Float32Array,
  b: Float32Array,
  width: number,
  height: number,
  options: Partial<FlowOptions> = {},
): { forward: FlowField; backward: FlowField } {
  const pa = buildFlowPyramid(a, width, height, options);
  const pb = buildFlowPyramid(b, width, height, options);
  return { forward: flowBetweenPyramids(pa, pb, options), backward: flowBetweenPyramids(pb, pa, options) };
}

/** Coarse pixel j sits at fine pixel 2j (see downsample), so fine x maps to coarse x/2. */
function upsampleFlow(coarse: FlowField, width: number, height: number): FlowField {
  const fine = zeroFlow(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      fine.dx[i] = 2 * sampleBilinear(coarse.dx, 0, coarse.width, coarse.height, x / 2, y / 2);
      fine.dy[i] = 2 * sampleBilinear(coarse.dy, 0, coarse.width, coarse.height, x / 2, y / 2);
    }
  }
  return fine;
}

/** Central differences with clamped borders, added into gx/gy with weight 0.5. */
function addHalfGradient(img: Float32Array, width: number, height: number, gx: Float32Array, gy: Float32Array): void {
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const up = (y > 0 ? y - 1 : 0) * width;
    const down = (y < height - 1 ? y + 1 : y) * width;
    const yScale = y > 0 && y < height - 1 ? 0.25 : 0.5;
    for (let x = 0; x < width; x++) {
      const left = x > 0 ? x - 1 : 0;
      const right = x < width - 1 ? x + 1 : x;
      const xScale = x > 0 && x < width - 1 ? 0.25 : 0.5;
      gx[row + x] += xScale * (img[row + right] - img[row + left]);
      gy[row + x] += yScale * (img[down + x] - img[up + x]);
    }
  }
}

function refineFlowAtLevel(a: ImagePlane, b: ImagePlane, flow: FlowField, opts: FlowOptions): void {
  const { width, height } = a;
  const size = width * height;
  const gx = new Float32Array(size);
  const gy = new Float32Array(size);
  const jxx = new Float32Array(size);
  const jxy = new Float32Array(size);
  const jyy = new Float32Array(size);
  const jxt = new Float32Array(size);
  const jyt = new Float32Array(size);
  const warped = new Float32Array(size);
  const scratch = new Float32Array(size);
  const blurred = new Float32Array(size);
  const u0 = new Float32Array(size);
  const v0 = new Float32Array(size);
  const outside = new Uint8Array(size);

  for (let warp = 0; warp < opts.warpsPerLevel; warp++) {
    warpImage(b.data, 1, flow, warped);
    gx.fill(0);
    gy.fill(0);
    // Average the gradients of both images: a symmetric linearisation converges faster.
    addHalfGradient(a.data, width, height, gx, gy);
    addHalfGradient(warped, width, height, gx, gy);
    markSamplesOutsideFrame(flow, outside);
    let meanSquaredGradient = 0;
    for (let i = 0; i < size; i++) {
      // Where x + flow leaves the frame the warped value is a clamped border copy, i.e. no
      // evidence at all; dropping the data term lets the smoothness term fill it in.
      const keep = outside[i] === 0;
      const ix = keep ? gx[i] : 0;
      const iy = keep ? gy[i] : 0;
      const it = warped[i] - a.data[i];
      jxx[i] = ix * ix;
      jxy[i] = ix * iy;
      jyy[i] = iy * iy;
      jxt[i] = ix * it;
      jyt[i] = iy * it;
      meanSquaredGradient += jxx[i] + jyy[i];
    }
    meanSquaredGradient /= size;
    for (const tensor of [jxx, jxy, jyy, jxt, jyt]) {
      for (let pass = 0; pass < opts.windowPasses; pass++) {
        binomialBlur(tensor, width, height, blurred, scratch);
        tensor.set(blurred);
      }
    }
    const lambda = Math.max(opts.smoothness * meanSquaredGradient, 1e-12);
    u0.set(flow.dx);
    v0.set(flow.dy);
    solveLinearisedFlow(flow, u0, v0, { jxx, jxy, jyy, jxt, jyt }, lambda, opts.solverIterations);
  }
}

function markSamplesOutsideFrame(flow: FlowField, outside: Uint8Array): void {
  const { width, height, dx, dy } = flow;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const sx = x + dx[i];
      const sy = y + dy[i];
      outside[i] = sx < 0 || sy < 0 || sx > width - 1 || sy > height - 1 ? 1 : 0;
    }
  }
}

const MAX_STEP = 1;

interface StructureTensor {
  jxx: Float32Array;
  jxy: Float32Array;
  jyy: Float32Array;
  jxt: Float32Array;
  jyt: Float32Array;
}

/**
 * Gauss–Seidel on (J + λI) w = J w0 - b + λ w̄ per pixel, where w0 is the linearisation point,
 * J/b the windowed structure tensor and w̄ the 4-neighbour mean of the current flow.
 * Only w̄ changes between sweeps, so (J + λI)⁻¹ and J w0 - b are computed once, in place of the tensor.
 */
function solveLinearisedFlow(
  flow: FlowField,
  u0: Float32Array,
  v0: Float32Array,
  t: StructureTensor,
  lambda: number,
  iterations: number,
): void {
  const { width, height, dx: u, dy: v } = flow;
  const size = width * height;
  const inv11 = t.jxx;
  const inv12 = t.jxy;
  const inv22 = t.jyy;
  const c1 = t.jxt;
  const c2 = t.jyt;
  for (let i = 0; i < size; i++) {
    const jxx = t.jxx[i];
    const jxy = t.jxy[i];
    const jyy = t.jyy[i];
    const a11 = jxx + lambda;
    const a22 = jyy + lambda;
    const invDet = 1 / (a11 * a22 - jxy * jxy);
    c1[i] = jxx * u0[i] + jxy * v0[i] - t.jxt[i];
    c2[i] = jxy * u0[i] + jyy * v0[i] - t.jyt[i];
    inv11[i] = a22 * invDet;
    inv12[i] = -jxy * invDet;
    inv22[i] = a11 * invDet;
  }
  for (let iter = 0; iter < iterations; iter++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        let sumU = 0;
        let sumV = 0;
        let n = 0;
        if (x > 0) { sumU += u[i - 1]; sumV += v[i - 1]; n++; }
        if (x < width - 1) { sumU += u[i + 1]; sumV += v[i + 1]; n++; }
        if (y > 0) { sumU += u[i - width]; sumV += v[i - width]; n++; }
        if (y < height - 1) { sumU += u[i + width]; sumV += v[i + width]; n++; }
        const weight = n > 0 ? lambda / n : 0;
        const r1 = c1[i] + weight * sumU;
        const r2 = c2[i] + weight * sumV;
        // One linearisation is only trustworthy within about a pixel; clamping the step keeps
        // textureless or aliased levels from running away.
        const du = inv11[i] * r1 + inv12[i] * r2 - u0[i];
        const dv = inv12[i] * r1 + inv22[i] * r2 - v0[i];
        u[i] = u0[i] + (du > MAX_STEP ? MAX_STEP : du < -MAX_STEP ? -MAX_STEP : du);
        v[i] = v0[i] + (dv > MAX_STEP ? MAX_STEP : dv < -MAX_STEP ? -MAX_STEP : dv);
      }
    }
  }
}
