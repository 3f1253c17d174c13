export type StageName = 'shots' | 'decode' | 'infer' | 'temporal' | 'compose' | 'encode';

/** Wall time each stage spends working (stages overlap, so the sum can exceed the total). */
export class StageClock {
  readonly seconds: Record<StageName, number> = { shots: 0, decode: 0, infer: 0, temporal: 0, compose: 0, encode: 0 };

  async time<T>(stage: StageName, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.seconds[stage] += (performance.now() - start) / 1000;
    }
  }

  timeSync<T>(stage: StageName, work: () => T): T {
    const start = performance.now();
    try {
      return work();
    } finally {
      this.seconds[stage] += (performance.now() - start) / 1000;
    }
  }
}
