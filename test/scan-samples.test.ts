import { describe, expect, it } from 'vitest';
import { ScanSampler } from '../src/pipeline/scan-samples.js';
import { sampleFrames } from '../src/pipeline/shot-globals.js';
import { shotsFromCuts } from '../src/shots/index.js';

interface Emitted {
  startFrame: number;
  endFrame: number;
  /** The frame number each sample view carries. */
  frames: number[];
}

/**
 * Feeds frames 0..frameCount-1 through a ScanSampler the way a scan does: one reused view
 * buffer holding its frame number, and the cuts the detector has confirmed by each frame
 * (`confirmedAt`: cut -> frame at which it is confirmed). Returns the shots it sampled.
 */
async function scan(frameCount: number, confirmedAt: Map<number, number>, finalCuts: number[], maxHeldFrames?: number): Promise<Emitted[]> {
  const emitted: Emitted[] = [];
  const sampler = new ScanSampler({
    samplesPerShot: 5,
    maxHeldFrames,
    onShot: async (shot, samples) => {
      emitted.push({ ...shot, frames: samples.map((view) => view[0] + 256 * view[1]) });
    },
  });
  const view = new Uint8Array(16);
  for (let frame = 0; frame < frameCount; frame++) {
    view[0] = frame % 256;
    view[1] = Math.floor(frame / 256);
    const cuts = [...confirmedAt].filter(([, at]) => at <= frame).map(([cut]) => cut);
    await sampler.add(frame, view, cuts);
  }
  await sampler.finish(shotsFromCuts(finalCuts, frameCount, 25));
  return emitted;
}

const expected = (startFrame: number, endFrame: number): Emitted => ({
  startFrame,
  endFrame,
  frames: sampleFrames({ startFrame, endFrame }, 5),
});

describe('ScanSampler', () => {
  it('gives each shot the sample frames a separate decode would pick, with cuts confirmed a few frames late', async () => {
    const shots = await scan(300, new Map([[40, 42], [70, 72]]), [40, 70]);
    expect(shots).toEqual([expected(0, 40), expected(40, 70), expected(70, 300)]);
  });

  it('joins the last two shots when the detector drops its last cut at the end, and takes a cut confirmed only at the end', async () => {
    expect(await scan(100, new Map([[40, 42], [95, 97]]), [40])).toEqual([expected(0, 40), expected(40, 100)]);
    expect(await scan(100, new Map([[40, 42]]), [40, 60])).toEqual([expected(0, 40), expected(40, 60), expected(60, 100)]);
  });

  it('leaves out a shot longer than it holds (sampled by seeking instead) and still samples the next', async () => {
    const shots = await scan(120, new Map([[50, 52], [80, 82]]), [50, 80], 30);
    expect(shots).toEqual([expected(50, 80)]); // 0-49 and 80-119 are longer than 30 frames
    expect(await scan(200, new Map(), [], 150)).toEqual([]);
  });

  it('samples a one-shot film and a film shorter than the sample count', async () => {
    expect(await scan(250, new Map(), [])).toEqual([expected(0, 250)]);
    expect(await scan(3, new Map(), [])).toEqual([{ startFrame: 0, endFrame: 3, frames: [0, 1, 2] }]);
  });
});
