import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoundedQueue } from '../src/decode/bounded-queue.js';
import { frameGeometry } from '../src/decode/frame.js';
import { readFrames } from '../src/decode/frame-reader.js';
import { probeVideo } from '../src/decode/probe.js';
import { makeClip } from './helpers/media.js';

let dir: string;
let clip: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-decode-'));
  clip = await makeClip(join(dir, 'clip.mp4'), { video: 'testsrc2=size=320x180:rate=30000/1001', seconds: 20, audioHz: 500 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ffmpegChildren(): number {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), 'ffmpeg']).toString().trim().split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

describe('probe', () => {
  it('reads size, rate, frame count, layout and streams', async () => {
    const info = await probeVideo(clip);
    expect(info).toMatchObject({ width: 320, height: 180, frameRate: '30000/1001', frameCount: 599, decodeFormat: 'yuv420p', colorMatrix: 'bt601', colorRange: 'limited', rotation: 0 });
    expect(info.fps).toBeCloseTo(29.97, 2);
    expect(info.audioStreams).toHaveLength(1);
    expect(info.variableFrameRate).toBe(false);
  });
});

describe('frame reader', () => {
  it('applies backpressure: ffmpeg waits while frames are not consumed, and stops when the reader does', async () => {
    const info = await probeVideo(clip);
    const frames = readFrames({ path: clip, geometry: frameGeometry(320, 180, 'yuv420p'), fps: info.fps, frameCount: info.frameCount });
    const first = await frames.next();
    expect(first.done).toBe(false);
    // Unthrottled, ffmpeg decodes these 599 small frames in well under this pause; blocked on its pipe it cannot exit.
    await new Promise((r) => setTimeout(r, 1500));
    expect(ffmpegChildren()).toBe(1);
    await frames.return(undefined);
    for (let i = 0; i < 50 && ffmpegChildren() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(ffmpegChildren()).toBe(0);
  });

  it('delivers every frame exactly once, with its index and time', async () => {
    const info = await probeVideo(clip);
    let count = 0;
    let lastTime = -1;
    for await (const frame of readFrames({ path: clip, geometry: frameGeometry(320, 180, 'yuv420p'), fps: info.fps, frameCount: 599 })) {
      expect(frame.index).toBe(count);
      expect(frame.time).toBeGreaterThan(lastTime);
      expect(frame.y.length).toBe(320 * 180);
      expect(frame.cb.length).toBe(160 * 90);
      lastTime = frame.time;
      count++;
    }
    expect(count).toBe(599);
  });

  it('fails loudly when fewer frames arrive than the file promises', async () => {
    const info = await probeVideo(clip);
    const frames = readFrames({ path: clip, geometry: frameGeometry(320, 180, 'yuv420p'), fps: info.fps, frameCount: 600 });
    await expect(async () => {
      for await (const _ of frames) void _;
    }).rejects.toThrow(/gave 599 of 600 frames/);
  });
});

describe('bounded queue', () => {
  it('blocks the producer at capacity and hands items over in order', async () => {
    const queue = new BoundedQueue<number>(3);
    let pushed = 0;
    const producer = (async () => {
      for (let i = 0; i < 10; i++) {
        await queue.push(i);
        pushed++;
      }
      queue.end();
    })();
    await new Promise((r) => setTimeout(r, 20));
    expect(pushed).toBe(3);
    const seen: number[] = [];
    for await (const item of queue) seen.push(item);
    await producer;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(queue.highWater).toBe(3);
  });

  it('propagates a failure to both sides', async () => {
    const queue = new BoundedQueue<number>(1);
    await queue.push(1);
    const blocked = queue.push(2);
    queue.fail(new Error('boom'));
    await expect(blocked).rejects.toThrow('boom');
    await expect(async () => {
      for await (const _ of queue) void _;
    }).rejects.toThrow('boom');
  });
});
