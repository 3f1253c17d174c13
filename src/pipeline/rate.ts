/**
 * Frames per second for progress and ETA: measured from the first finished frame on (the start-up
 * before it, spent opening workers and filling the pipeline, says nothing about the rate to
 * come) over a sliding window of recent progress, and unknown (NaN) until it spans long enough
 * to mean something, rather than a guess that is off by half.
 */
export class RateEstimator {
  private readonly samples: Array<{ seconds: number; frames: number }> = [];

  constructor(
    private readonly windowSeconds = 10,
    private readonly minimumSeconds = 1,
  ) {}

  /** `frames` finished in all at time `seconds` (any monotonic clock). */
  add(seconds: number, frames: number): void {
    this.samples.push({ seconds, frames });
    // Keep one sample at or before the window's start, so the window is always fully covered.
    while (this.samples.length > 2 && this.samples[1].seconds <= seconds - this.windowSeconds) this.samples.shift();
  }

  /** Frames per second, NaN while unknown. */
  fps(): number {
    if (this.samples.length < 2) return NaN;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const span = last.seconds - first.seconds;
    if (span < this.minimumSeconds || last.frames <= first.frames) return NaN;
    return (last.frames - first.frames) / span;
  }

  /** Seconds until `total` frames are done, NaN while the rate is unknown. */
  etaSeconds(total: number): number {
    const fps = this.fps();
    if (!Number.isFinite(fps) || this.samples.length === 0) return NaN;
    return Math.max(0, total - this.samples[this.samples.length - 1].frames) / fps;
  }
}
