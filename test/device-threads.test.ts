import { describe, expect, it } from 'vitest';
import { cpuInferenceThreads } from '../src/infer/device.js';

describe('CPU inference threads from the core count', () => {
  it('leaves the second of two cores to the other stages and gives inference half of larger machines', () => {
    expect([1, 2, 3, 4, 16].map((cores) => cpuInferenceThreads(cores))).toEqual([1, 1, 1, 2, 8]);
  });
});
