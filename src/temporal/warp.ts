import { assertLength, type FlowField } from './types.js';

/** Bilinear sample of one plane at (x, y), coordinates clamped to the image (border clamp). */
export function sampleBilinear(plane: Float32Array, offset: number, width: number, height: number, x: number, y: number): number {
  const cx = x <= 0 ? 0 : x >= width - 1 ? width - 1 : x;
  const cy = y <= 0 ? 0 : y >= height - 1 ? height - 1 : y;
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = x0 + 1 < width ? x0 + 1 : x0;
  const y1 = y0 + 1 < height ? y0 + 1 : y0;
  const fx = cx - x0;
  const fy = cy - y0;
  const r0 = offset + y0 * width;
  const r1 = offset + y1 * width;
  const top = plane[r0 + x0] + fx * (plane[r0 + x1] - plane[r0 + x0]);
  const bottom = plane[r1 + x0] + fx * (plane[r1 + x1] - plane[r1 + x0]);
  return top + fy * (bottom - top);
}

/**
 * Backward warp of a planar multi-channel image: out(x) = src(x + flow(x)), bilinear, border clamp.
 * To bring frame t-1 onto frame t's grid, pass the flow t → t-1.
 */
export function warpImage(src: Float32Array, channels: number, flow: FlowField, out?: Float32Array): Float32Array {
  const { width, height, dx, dy } = flow;
  const size = width * height;
  assertLength('warpImage src', src, size * channels);
  const dst = out ?? new Float32Array(size * channels);
  assertLength('warpImage out', dst, size * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const sx = x + dx[i];
      const sy = y + dy[i];
      for (let c = 0; c < channels; c++) {
        dst[c * size + i] = sampleBilinear(src, c * size, width, height, sx, sy);
      }
    }
  }
  return dst;
}

export interface OcclusionThresholds {
  /** Relative tolerance, scales with the squared flow magnitudes (Sundaram et al. 2010: 0.01). */
  alpha: number;
  /** Absolute tolerance in px² (Sundaram et al. 2010: 0.5). */
  beta: number;
}

export const DEFAULT_OCCLUSION: OcclusionThresholds = { alpha: 0.01, beta: 0.5 };

/**
 * Forward-backward consistency check on the grid of image A. Returns 1 where A's pixel is
 * occluded (or leaves the frame) in B, else 0:
 *   |f_ab(x) + f_ba(x + f_ab(x))|² > α(|f_ab(x)|² + |f_ba(x + f_ab(x))|²) + β
 */
export function occlusionMask(
  flowAB: FlowField,
  flowBA: FlowField,
  thresholds: OcclusionThresholds = DEFAULT_OCCLUSION,
): Uint8Array {
  const { width, height } = flowAB;
  if (flowBA.width !== width || flowBA.height !== height) throw new RangeError('occlusionMask: flow sizes differ');
  const { alpha, beta } = thresholds;
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const u = flowAB.dx[i];
      const v = flowAB.dy[i];
      const tx = x + u;
      const ty = y + v;
      if (tx < -0.5 || ty < -0.5 || tx > width - 0.5 || ty > height - 0.5) {
        mask[i] = 1;
        continue;
      }
      const bu = sampleBilinear(flowBA.dx, 0, width, height, tx, ty);
      const bv = sampleBilinear(flowBA.dy, 0, width, height, tx, ty);
      const su = u + bu;
      const sv = v + bv;
      const limit = alpha * (u * u + v * v + bu * bu + bv * bv) + beta;
      mask[i] = su * su + sv * sv > limit ? 1 : 0;
    }
  }
  return mask;
}

export interface MotionBoundaryThresholds {
  /** Relative tolerance on the squared flow gradient, scales with |flow|² (Sundaram et al. 2010: 0.01). */
  alpha: number;
  /** Absolute tolerance on the squared flow gradient, (px/px)² (Sundaram et al. 2010: 0.002). */
  beta: number;
}

/**
 * β is 0.05 rather than the paper's 0.002: our flow on noisy static film grain has gradients above
 * 0.002, and that setting stopped all smoothing of a static noisy scene (test/temporal.test.ts).
 */
export const DEFAULT_MOTION_BOUNDARY: MotionBoundaryThresholds = { alpha: 0.01, beta: 0.05 };

/**
 * 1 on motion boundaries of a flow field, else 0 (Sundaram et al. 2010, as used by Ruder et al. 2016):
 *   |∇u|² + |∇v|² > α|w|² + β   (central differences).
 * A smooth flow blends the two motions across an object's edge, and the forward–backward check
 * can pass there while the warp samples the wrong side: such pixels must not carry history.
 */
export function motionBoundaryMask(flow: FlowField, thresholds: MotionBoundaryThresholds = DEFAULT_MOTION_BOUNDARY): Uint8Array {
  const { width, height, dx, dy } = flow;
  const { alpha, beta } = thresholds;
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const up = y > 0 ? y - 1 : y;
    const down = y < height - 1 ? y + 1 : y;
    const ySpan = down - up || 1;
    for (let x = 0; x < width; x++) {
      const left = x > 0 ? x - 1 : x;
      const right = x < width - 1 ? x + 1 : x;
      const xSpan = right - left || 1;
      const i = y * width + x;
      const ux = (dx[y * width + right] - dx[y * width + left]) / xSpan;
      const uy = (dx[down * width + x] - dx[up * width + x]) / ySpan;
      const vx = (dy[y * width + right] - dy[y * width + left]) / xSpan;
      const vy = (dy[down * width + x] - dy[up * width + x]) / ySpan;
      const gradient2 = ux * ux + uy * uy + vx * vx + vy * vy;
      mask[i] = gradient2 > alpha * (dx[i] * dx[i] + dy[i] * dy[i]) + beta ? 1 : 0;
    }
  }
  return mask;
}

/** Photometric check after warping: |A(x) - B(x + f_ab(x))| per pixel of A. */
export function warpedLumaError(lumaA: Float32Array, lumaB: Float32Array, flowAB: FlowField): Float32Array {
  const size = flowAB.width * flowAB.height;
  assertLength('warpedLumaError lumaA', lumaA, size);
  const warped = warpImage(lumaB, 1, flowAB);
  for (let i = 0; i < size; i++) warped[i] = Math.abs(lumaA[i] - warped[i]);
  return warped;
}

/** 1 where the warped luma error exceeds `threshold` (same units as the luma), else 0. */
export function lumaMismatchMask(error: Float32Array, threshold: number): Uint8Array {
  const mask = new Uint8Array(error.length);
  for (let i = 0; i < error.length; i++) mask[i] = error[i] > threshold ? 1 : 0;
  return mask;
}
