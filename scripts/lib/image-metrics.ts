/** Still-image quality measures on 8-bit interleaved RGB (RGBRGB…). */

/** PSNR in dB over all channels of two 8-bit images, peak 255; Infinity when identical. */
export function psnr8(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`psnr8: ${a.length} vs ${b.length} values`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  if (sum === 0) return Infinity;
  return 10 * Math.log10((255 * 255 * a.length) / sum);
}

/**
 * Colorfulness of Hasler & Süsstrunk (2003) on 0..255 RGB: rg = R − G, yb = ½(R + G) − B,
 * M = sqrt(σ_rg² + σ_yb²) + 0.3·sqrt(μ_rg² + μ_yb²) (population standard deviations).
 */
export function colorfulness(rgb: Uint8Array): number {
  const n = rgb.length / 3;
  if (!Number.isInteger(n) || n === 0) throw new RangeError('colorfulness needs a non-empty RGB image');
  let sumRg = 0;
  let sumYb = 0;
  let sqRg = 0;
  let sqYb = 0;
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i];
    const g = rgb[i + 1];
    const b = rgb[i + 2];
    const rg = r - g;
    const yb = 0.5 * (r + g) - b;
    sumRg += rg;
    sumYb += yb;
    sqRg += rg * rg;
    sqYb += yb * yb;
  }
  const meanRg = sumRg / n;
  const meanYb = sumYb / n;
  const varRg = Math.max(0, sqRg / n - meanRg * meanRg);
  const varYb = Math.max(0, sqYb / n - meanYb * meanYb);
  return Math.sqrt(varRg + varYb) + 0.3 * Math.sqrt(meanRg * meanRg + meanYb * meanYb);
}

export function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
