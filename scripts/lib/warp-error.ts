import { computeBidirectionalFlow, type FlowOptions } from '../../src/temporal/flow.js';
import { METRIC_FLOW_OPTIONS } from '../../src/temporal/metrics.js';
import { DEFAULT_OCCLUSION, occlusionMask, sampleBilinear, type OcclusionThresholds } from '../../src/temporal/warp.js';

/**
 * E_warp (Lai et al. 2018) of several planar RGB videos that share one gray input, computed with
 * one flow per frame pair: exactly the formula of src/temporal/metrics.ts WarpErrorAccumulator
 * (flow t → t+1 on the gray input, forward-backward occlusion mask, squared RGB norm, mean over
 * visible pixels, then over pairs), but the flow — the expensive part — is not recomputed per video.
 */
export class SharedFlowWarpError {
  private previous: { gray: Float32Array; outputs: Float32Array[] } | undefined;
  private readonly sums: number[];
  private count = 0;

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly videos: number,
    /** Planes per output frame: 3 for RGB, 2 for a*b*. */
    private readonly channels = 3,
    private readonly flow: Partial<FlowOptions> = METRIC_FLOW_OPTIONS,
    private readonly occlusion: OcclusionThresholds = DEFAULT_OCCLUSION,
  ) {
    this.sums = new Array<number>(videos).fill(0);
  }

  push(gray: Float32Array, outputs: Float32Array[]): void {
    const size = this.width * this.height;
    if (gray.length !== size) throw new RangeError(`gray frame has ${gray.length} values, expected ${size}`);
    if (outputs.length !== this.videos || outputs.some((o) => o.length !== this.channels * size)) throw new RangeError('outputs do not match the video count or frame size');
    const current = { gray, outputs };
    const earlier = this.previous;
    this.previous = current;
    if (!earlier) return;
    const { width, height } = this;
    const { forward, backward } = computeBidirectionalFlow(earlier.gray, gray, width, height, this.flow);
    const occluded = occlusionMask(forward, backward, this.occlusion);
    const sums = new Array<number>(this.videos).fill(0);
    let visible = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        if (occluded[i]) continue;
        const sx = x + forward.dx[i];
        const sy = y + forward.dy[i];
        for (let v = 0; v < this.videos; v++) {
          const a = earlier.outputs[v];
          const b = outputs[v];
          for (let c = 0; c < this.channels; c++) {
            const d = a[c * size + i] - sampleBilinear(b, c * size, width, height, sx, sy);
            sums[v] += d * d;
          }
        }
        visible++;
      }
    }
    for (let v = 0; v < this.videos; v++) this.sums[v] += visible === 0 ? 0 : sums[v] / visible;
    this.count++;
  }

  get pairs(): number {
    return this.count;
  }

  /** Mean E_pair per video (NaN before two frames). */
  get values(): number[] {
    return this.sums.map((s) => (this.count === 0 ? NaN : s / this.count));
  }
}
