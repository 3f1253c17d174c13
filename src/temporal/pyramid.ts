import type { ImagePlane } from './types.js';

/**
 * Separable [1 4 6 4 1]/16 binomial blur (σ ≈ 1) with clamped borders.
 * `out` may not alias `src`; `scratch` (width*height) avoids an allocation in hot loops.
 */
export function binomialBlur(
  src: Float32Array,
  width: number,
  height: number,
  out: Float32Array = new Float32Array(width * height),
  scratch: Float32Array = new Float32Array(width * height),
): Float32Array {
  const lastX = width - 1;
  const lastY = height - 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (x === 2 && width > 4) {
        // Interior: no clamping needed.
        for (; x < width - 2; x++) {
          const i = row + x;
          scratch[i] = (src[i - 2] + src[i + 2] + 4 * (src[i - 1] + src[i + 1]) + 6 * src[i]) * 0.0625;
        }
        if (x >= width) break;
      }
      const xm2 = x < 2 ? 0 : x - 2;
      const xm1 = x < 1 ? 0 : x - 1;
      const xp1 = x + 1 > lastX ? lastX : x + 1;
      const xp2 = x + 2 > lastX ? lastX : x + 2;
      scratch[row + x] =
        (src[row + xm2] + src[row + xp2] + 4 * (src[row + xm1] + src[row + xp1]) + 6 * src[row + x]) * 0.0625;
    }
  }
  for (let y = 0; y < height; y++) {
    const rm2 = (y < 2 ? 0 : y - 2) * width;
    const rm1 = (y < 1 ? 0 : y - 1) * width;
    const r0 = y * width;
    const rp1 = (y + 1 > lastY ? lastY : y + 1) * width;
    const rp2 = (y + 2 > lastY ? lastY : y + 2) * width;
    for (let x = 0; x < width; x++) {
      out[r0 + x] =
        (scratch[rm2 + x] + scratch[rp2 + x] + 4 * (scratch[rm1 + x] + scratch[rp1 + x]) + 6 * scratch[r0 + x]) * 0.0625;
    }
  }
  return out;
}

/** Blur then keep every second pixel: coarse pixel (j, k) sits at fine pixel (2j, 2k). */
export function downsample(level: ImagePlane): ImagePlane {
  const { width, height } = level;
  const blurred = binomialBlur(level.data, width, height);
  const w = (width + 1) >> 1;
  const h = (height + 1) >> 1;
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const srcRow = 2 * y * width;
    for (let x = 0; x < w; x++) data[y * w + x] = blurred[srcRow + 2 * x];
  }
  return { width: w, height: h, data };
}

/**
 * Gaussian pyramid, finest level first. The finest level is lightly blurred too,
 * which makes the gradient-based flow far less sensitive to noise and aliasing.
 */
export function buildPyramid(
  image: Float32Array,
  width: number,
  height: number,
  maxLevels: number,
  minLevelSize: number,
): ImagePlane[] {
  const levels: ImagePlane[] = [{ width, height, data: binomialBlur(image, width, height) }];
  while (levels.length < maxLevels) {
    const last = levels[levels.length - 1];
    if (Math.min((last.width + 1) >> 1, (last.height + 1) >> 1) < minLevelSize) break;
    levels.push(downsample(last));
  }
  return levels;
}
