/**
 * Area-average resize of a single-channel float image (any ratio, down or up).
 *
 * Each destination column has the same number of taps (padded with weight 0 on a valid index), so
 * the inner loop reads flat typed arrays without branches. Each source row is summed across once
 * and reused by every destination row it contributes to; the sums, their order and the float32
 * rounding per destination row are those of the plain version (test/helpers/resample-reference.ts),
 * bit for bit.
 */
export function resizeArea(src: Float32Array, sw: number, sh: number, dw: number, dh: number, dst = new Float32Array(dw * dh)): Float32Array {
  const xs = cached(`x${sw}:${dw}`, () => flatSpans(axisSpans(sw, dw)));
  const ys = cached(`y${sh}:${dh}`, () => axisSpans(sh, dh));
  const { index: xIndex, weight: xWeight, taps } = xs;
  const row = new Float32Array(dw);
  // The last two source rows summed across (float64, as the plain version's running sums are):
  // neighbouring destination rows share a boundary row when shrinking and a pair when enlarging.
  const slots = [new Float64Array(dw), new Float64Array(dw)];
  const slotRow = [-1, -1];
  let older = 0;
  for (let y = 0; y < dh; y++) {
    row.fill(0);
    const ySpan = ys[y];
    for (let k = 0; k < ySpan.indices.length; k++) {
      const sourceRow = ySpan.indices[k];
      let slot = slotRow[0] === sourceRow ? 0 : slotRow[1] === sourceRow ? 1 : -1;
      if (slot < 0) {
        slot = older;
        older = 1 - older;
        slotRow[slot] = sourceRow;
        sumAcross(src, sourceRow * sw, xIndex, xWeight, taps, slots[slot]);
      }
      const across = slots[slot];
      const wy = ySpan.weights[k];
      for (let x = 0; x < dw; x++) row[x] += across[x] * wy;
    }
    dst.set(row, y * dw);
  }
  return dst;
}

/** One source row (starting at `srcRow`) summed over each destination column's taps. */
function sumAcross(src: Float32Array, srcRow: number, xIndex: Int32Array, xWeight: Float32Array, taps: number, out: Float64Array): void {
  for (let x = 0, t = 0; x < out.length; x++, t += taps) {
    let acc = 0;
    for (let j = 0; j < taps; j++) acc += src[srcRow + xIndex[t + j]] * xWeight[t + j];
    out[x] = acc;
  }
}

/** Spans by axis lengths: a video resizes the same sizes on every frame. */
const spanCache = new Map<string, unknown>();

function cached<T>(key: string, make: () => T): T {
  let value = spanCache.get(key) as T | undefined;
  if (value === undefined) {
    if (spanCache.size > 64) spanCache.clear();
    value = make();
    spanCache.set(key, value);
  }
  return value;
}

interface Span {
  indices: Int32Array;
  weights: Float32Array;
}

/** Spans padded to one length: `taps` entries per destination sample. */
function flatSpans(spans: Span[]): { index: Int32Array; weight: Float32Array; taps: number } {
  const taps = Math.max(1, ...spans.map((s) => s.indices.length));
  const index = new Int32Array(spans.length * taps);
  const weight = new Float32Array(spans.length * taps);
  spans.forEach((span, d) => {
    index.set(span.indices, d * taps);
    weight.set(span.weights, d * taps);
    // Padding taps repeat a real index with weight 0 (adds exactly 0 to the sum).
    for (let j = span.indices.length; j < taps; j++) index[d * taps + j] = span.indices[0] ?? 0;
  });
  return { index, weight, taps };
}

/** For each destination sample, the source samples it covers and their normalized overlap weights. */
function axisSpans(srcLength: number, dstLength: number): Span[] {
  const scale = srcLength / dstLength;
  const spans: Span[] = [];
  for (let d = 0; d < dstLength; d++) {
    let start = d * scale;
    let end = (d + 1) * scale;
    if (scale < 1) {
      // Upsampling: fall back to linear interpolation between the two nearest samples.
      const center = (d + 0.5) * scale - 0.5;
      const i0 = Math.max(0, Math.min(srcLength - 1, Math.floor(center)));
      const i1 = Math.min(srcLength - 1, i0 + 1);
      const t = Math.max(0, Math.min(1, center - i0));
      spans.push({ indices: Int32Array.of(i0, i1), weights: Float32Array.of(1 - t, t) });
      continue;
    }
    start = Math.max(0, start);
    end = Math.min(srcLength, end);
    const indices: number[] = [];
    const weights: number[] = [];
    for (let s = Math.floor(start); s < Math.ceil(end); s++) {
      const overlap = Math.min(end, s + 1) - Math.max(start, s);
      if (overlap > 1e-9) {
        indices.push(s);
        weights.push(overlap / (end - start));
      }
    }
    spans.push({ indices: Int32Array.from(indices), weights: Float32Array.from(weights) });
  }
  return spans;
}
