/** Median and median absolute deviation over the last `capacity` values. */
export class RollingMedian {
  private readonly values: number[] = [];

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`invalid window size ${capacity}`);
  }

  get size(): number {
    return this.values.length;
  }

  clear(): void {
    this.values.length = 0;
  }

  push(value: number): void {
    this.values.push(value);
    if (this.values.length > this.capacity) this.values.shift();
  }

  median(): number {
    return median(this.values);
  }

  /** Median absolute deviation from the median, unscaled. */
  mad(): number {
    const center = this.median();
    return median(this.values.map((v) => Math.abs(v - center)));
  }
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
