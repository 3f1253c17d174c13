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

  lightnessPlanes(y: Uint8Array): Pick<PreparedFrame, 'working' | 'grid' | 'chroma'> {
    const g = this.geometry;
    const w = this.working;
    const full = this.full;
    const lut = this.lightnessLut;
    for (let i = 0; i < full.length; i++) full[i] = lut[y[i]];
    const working = resizeArea(full, g.width, g.height, w.width, w.height);
    const grid = resizeArea(working, w.width, w.height, w.gridWidth, w.gridHeight);
    const chroma =
      g.chromaWidth === g.width && g.chromaHeight === g.height ? full.slice() : resizeArea(full, g.width, g.height, g.chromaWidth, g.chromaHeight);
    return { working, grid, chroma };
  }
}
