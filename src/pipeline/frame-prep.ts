import type { Frame, FrameGeometry } from '../decode/frame.js';
import type { WorkingGeometry } from '../infer/geometry.js';
import { resizeArea } from '../color/resample.js';
import type { BufferPool } from '../workers/buffer-pool.js';

/** A decoded frame with the lightness planes every later stage needs. */
export interface PreparedFrame {
  frame: Frame;
  /** Absolute frame number in the film. */
  filmFrame: number;
  shot: number;
  /** First frame of its shot in this render: the temporal stage resets here. */
  startsShot: boolean;
  /** L* at network input size, at a*b*-grid size, and at chroma-plane size. */
  working: Float32Array;
  grid: Float32Array;
  chroma: Float32Array;
}

export class FramePreparer {
  constructor(
    private readonly geometry: FrameGeometry,
    private readonly working: WorkingGeometry,
    private readonly lightnessLut: Float32Array,
    /** Where the chroma-size L* planes come from (the compose stage gives them back when done). */
    private readonly buffers?: BufferPool,
  ) {}

  /** `lightnessLut` maps every code of the luma depth to L* (256 entries at 8 bits, 2^bits above). */
  lightnessPlanes(y: Uint8Array | Uint16Array): Pick<PreparedFrame, 'working' | 'grid' | 'chroma'> {
    const g = this.geometry;
    const w = this.working;
    const chroma = lightnessAtChromaSize(y, g, this.lightnessLut, this.buffers);
    // The network input is far smaller than the chroma plane, so it is derived from it (4x fewer reads for 4:2:0).
    const working = resizeArea(chroma, g.chromaWidth, g.chromaHeight, w.width, w.height);
    const grid = resizeArea(working, w.width, w.height, w.gridWidth, w.gridHeight);
    return { working, grid, chroma };
  }
}

/**
 * L* averaged over each chroma sample's luma footprint (2x2 for 4:2:0, 2x1 for 4:2:2), looked up
 * straight from the Y' codes: no full-resolution L* plane is made (same sums in the same order).
 */
function lightnessAtChromaSize(y: Uint8Array | Uint16Array, g: FrameGeometry, lut: Float32Array, buffers?: BufferPool): Float32Array {
  const { width, height, chromaWidth, chromaHeight } = g;
  const fullSize = () => {
    const full = new Float32Array(width * height);
    for (let i = 0; i < full.length; i++) full[i] = lut[y[i]];
    return full;
  };
  if (chromaWidth === width && chromaHeight === height) return fullSize();
  if (width % 2 !== 0 || (chromaHeight !== height && height % 2 !== 0)) return resizeArea(fullSize(), width, height, chromaWidth, chromaHeight);
  // Both loops below write every sample, so a pooled buffer's old contents never show.
  const samples = chromaWidth * chromaHeight;
  const out = buffers ? new Float32Array(buffers.take(samples * 4)) : new Float32Array(samples);
  if (chromaHeight === height) {
    for (let cy = 0; cy < chromaHeight; cy++) {
      const top = cy * width;
      const o = cy * chromaWidth;
      for (let cx = 0; cx < chromaWidth; cx++) {
        const x = top + 2 * cx;
        out[o + cx] = (lut[y[x]] + lut[y[x + 1]] + 0) * 0.5;
      }
    }
    return out;
  }
  for (let cy = 0; cy < chromaHeight; cy++) {
    const top = 2 * cy * width;
    const bottom = top + width;
    const o = cy * chromaWidth;
    for (let cx = 0; cx < chromaWidth; cx++) {
      const x = 2 * cx;
      out[o + cx] = (lut[y[top + x]] + lut[y[top + x + 1]] + (lut[y[bottom + x]] + lut[y[bottom + x + 1]])) * 0.25;
    }
  }
  return out;
}
