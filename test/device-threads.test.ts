import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuInferenceThreads, cpuInferenceWorkers } from '../src/infer/device.js';
import { colorizeVideo } from '../src/pipeline/colorize-video.js';
import { makeClip, rawFrames } from './helpers/media.js';

describe('CPU inference threads from the core count', () => {
  it('leaves the second of two cores to the other stages and gives inference half of larger machines', () => {
    expect([1, 2, 3, 4, 16].map((cores) => cpuInferenceThreads(cores))).toEqual([1, 1, 1, 2, 8]);
  });

  it('runs two single-threaded copies of the network on two cores or fewer when it runs on every frame, else one', () => {
    expect([1, 2, 3, 4, 16].map((cores) => cpuInferenceWorkers(1, cores))).toEqual([2, 2, 1, 1, 1]);
    expect([1, 2, 3, 4, 16].map((cores) => cpuInferenceWorkers(2, cores))).toEqual([1, 1, 1, 1, 1]);
  });

  it('batches run side by side on two copies give the same film, frame for frame, as one copy (the shipped model)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'colorize-workers-'));
    try {
      const clip = await makeClip(join(dir, 'moving.mkv'), { video: 'testsrc2=size=160x96:rate=24', seconds: 1.5, gray: true, codec: ['-c:v', 'ffv1'] });
      const outputs: Buffer[] = [];
      for (const workers of [1, 2]) {
        const output = join(dir, `out-${workers}.mkv`);
        const result = await colorizeVideo({ input: clip, output, codec: 'ffv1', batchSize: 2, inferWorkers: workers, device: 'cpu' });
        expect(result.frames).toBe(36);
        outputs.push(await rawFrames(output));
      }
      expect(outputs[1].equals(outputs[0])).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
