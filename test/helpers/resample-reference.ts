/** The first area resize, kept unchanged as the reference src/color/resample.ts must reproduce exactly. */
/** Area-average resize of a single-channel float image (any ratio, down or up). */
export function referenceResizeArea(src: Float32Array, sw: number, sh: number, dw: number, dh: number, dst = new Float32Array(dw * dh)): Float32Array {
  const xs = axisSpans(sw, dw);
  const ys = axisSpans(sh, dh);
  const row = new Float32Array(dw);
  for (let y = 0; y < dh; y++) {
    row.fill(0);
    const ySpan = ys[y];
    for (let k = 0; k < ySpan.indices.length; k++) {
      const srcRow = ySpan.indices[k] * sw;
      const wy = ySpan.weights[k];
      for (let x = 0; x < dw; x++) {
        const xSpan = xs[x];
        let acc = 0;
        for (let j = 0; j < xSpan.indices.length; j++) acc += src[srcRow + xSpan.indices[j]] * xSpan.weights[j];
        row[x] += acc * wy;
      }
    }
    dst.set(row, y * dw);
  }
  return dst;
}

interface Span {
  indices: Int32Array;
  weights: Float32Array;
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
