import type { Frame, FrameGeometry } from '../decode/frame.js';
import type { WorkingGeometry } from '../infer/geometry.js';
import { resizeArea } from '../color/resample.js';

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
  private readonly full: Float32Array;

  constructor(
    private readonly geometry: FrameGeometry,
    private readonly working: WorkingGeometry,
    private readonly lightnessLut: Float32Array,
  ) {
    this.full = new Float32Array(geometry.width * geometry.height);
  }

  /** `lightnessLut` maps every code of the luma depth to L* (256 entries at 8 bits, 2^bits above). */
  lightnessPlanes(y: Uint8Array | Uint16Array): Pick<PreparedFrame, 'working' | 'grid' | 'chroma'> {
    const g = this.geometry;
    const w = this.working;
    const full = this.full;
    const lut = this.lightnessLut;
    for (let i = 0; i < full.length; i++) full[i] = lut[y[i]];
    const chroma = toChromaSize(full, g);
    // The network input is far smaller than the chroma plane, so it is derived from it (4x fewer reads for 4:2:0).
    const working = resizeArea(chroma, g.chromaWidth, g.chromaHeight, w.width, w.height);
    const grid = resizeArea(working, w.width, w.height, w.gridWidth, w.gridHeight);
    return { working, grid, chroma };
  }
}

/** L* averaged over each chroma sample's luma footprint (2x2 for 4:2:0, 2x1 for 4:2:2). */
function toChromaSize(full: Float32Array, g: FrameGeometry): Float32Array {
  const { width, height, chromaWidth, chromaHeight } = g;
  if (chromaWidth === width && chromaHeight === height) return full.slice();
  if (width % 2 !== 0 || (chromaHeight !== height && height % 2 !== 0)) return resizeArea(full, width, height, chromaWidth, chromaHeight);
  const out = new Float32Array(chromaWidth * chromaHeight);
  const rows = chromaHeight === height ? 1 : 2;
  const scale = 1 / (2 * rows);
  for (let cy = 0; cy < chromaHeight; cy++) {
    const top = cy * rows * width;
    const bottom = top + (rows - 1) * width;
    const o = cy * chromaWidth;
    for (let cx = 0; cx < chromaWidth; cx++) {
      const x = 2 * cx;
      out[o + cx] = (full[top + x] + full[top + x + 1] + (rows === 2 ? full[bottom + x] + full[bottom + x + 1] : 0)) * scale;
    }
  }
  return out;
}
