import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '../src/decode/binaries.js';
import { frameGeometry } from '../src/decode/frame.js';
import type { ChromaLayout } from '../src/decode/pixel-format.js';
import { ticksToNanoseconds, timedFrameHeader, timedStreamHeader } from '../src/encode/timed-frames.js';
import { lumaSamples, videoFacts } from './helpers/planes.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-timed-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Pipes `chunks` into the bundled ffmpeg as Matroska and stores them losslessly in a MOV with the given time base. */
function encode(chunks: Buffer[], output: string, den: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['-v', 'error', '-y', '-f', 'matroska', '-i', 'pipe:0', '-vsync', 'passthrough', '-enc_time_base', `1:${den}`, '-c:v', 'ffv1', '-video_track_timescale', String(den), output];
    const child = spawn(ffmpegPath(), args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(stderr))));
    for (const chunk of chunks) child.stdin.write(chunk);
    child.stdin.end();
  });
}

describe('timed raw frames (Matroska on a pipe)', () => {
  it('ticks become nanoseconds rounded to the nearest, exactly for long films', () => {
    expect(ticksToNanoseconds(1, [1, 90000])).toBe(11111n);
    expect(ticksToNanoseconds(1001, [1, 30000])).toBe(33366667n);
    // 30 hours at 1/90000: beyond 2^53 nanoseconds, still exact.
    expect(ticksToNanoseconds(30 * 3600 * 90000, [1, 90000])).toBe(30n * 3600n * 1_000_000_000n);
  });

  for (const layout of ['yuv420p', 'yuv422p', 'yuv444p'] as ChromaLayout[]) {
    for (const bits of [8, 10, 12, 16]) {
      it(`${layout} at ${bits} bits reads back in its own pixel format, with every frame at its own time and its samples as written`, async () => {
        const geometry = frameGeometry(32, 16, layout, bits);
        const ticks = [0, 1001, 5000, 5001];
        const lumaValues = [16, 100, 200, 235].map((v) => v << (bits - 8));
        const chunks = [timedStreamHeader(geometry)];
        for (const [i, t] of ticks.entries()) {
          const frame = bits > 8 ? new Uint16Array(geometry.frameBytes / 2) : new Uint8Array(geometry.frameBytes);
          frame.fill(lumaValues[i], 0, geometry.width * geometry.height);
          frame.fill(1 << (bits - 1), geometry.width * geometry.height);
          chunks.push(timedFrameHeader(ticksToNanoseconds(t, [1, 30000]), geometry.frameBytes), Buffer.from(frame.buffer));
        }
        const output = join(dir, `${layout}-${bits}.mov`);
        await encode(chunks, output, 30000);
        const facts = await videoFacts(output);
        expect(facts.pixelFormat).toBe(bits > 8 ? `${layout}${bits}le` : layout);
        expect(facts.times).toEqual(ticks.map((t) => Number((t / 30000).toFixed(6))));
        const { samples } = await lumaSamples(output);
        const plane = geometry.width * geometry.height;
        expect([0, 1, 2, 3].map((f) => samples[f * plane + 7])).toEqual(lumaValues);
      });
    }
  }
});
