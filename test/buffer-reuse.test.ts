import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameGeometry, type FrameGeometry } from '../src/decode/frame.js';
import { readFrames } from '../src/decode/frame-reader.js';
import { ffmpegPath } from '../src/decode/binaries.js';
import { probeVideo } from '../src/decode/probe.js';
import { FrameWriter } from '../src/encode/frame-writer.js';
import { decodeFilter } from '../src/pipeline/decode-filter.js';
import { BufferPool } from '../src/workers/buffer-pool.js';
import { makeClip, rawFrames } from './helpers/media.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-buffers-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('buffer pool', () => {
  it('hands back given buffers by size, within its limits, and ignores detached ones', () => {
    const pool = new BufferPool(2, 2);
    const a = pool.take(16);
    const b = pool.take(16);
    const c = pool.take(16);
    expect(pool.reused).toBe(0);
    pool.give(a);
    pool.give(a); // twice: kept once
    pool.give(b);
    pool.give(c); // beyond 2 per size
    expect(pool.held).toBe(2);
    expect([a, b]).toContain(pool.take(16));
    expect(pool.reused).toBe(1);
    expect(pool.take(32).byteLength).toBe(32); // another size: new
    pool.give(new ArrayBuffer(8));
    pool.give(new ArrayBuffer(4)); // a third size: not kept
    expect(pool.take(4)).not.toBe(undefined);
    expect(pool.reused).toBe(1);
    const detached = new ArrayBuffer(16);
    structuredClone(detached, { transfer: [detached] });
    pool.give(detached);
    expect(pool.held).toBe(2); // the 16-byte one left plus the 8-byte one
  });
});

/** Every frame's Y' from a full decode and from a luma-only one (pooled buffers given back at once). */
async function lumaBothWays(path: string, geometry: FrameGeometry, lumaOnly: 'source' | 'extract'): Promise<{ full: number[][]; luma: number[][]; reused: number }> {
  const info = await probeVideo(path);
  const common = { path, geometry, fps: info.fps, frameCount: info.frameCount, videoFilter: decodeFilter(info) };
  const full: number[][] = [];
  for await (const frame of readFrames(common)) full.push(Array.from(frame.y));
  const pool = new BufferPool();
  const luma: number[][] = [];
  for await (const frame of readFrames({ ...common, lumaOnly, buffers: pool })) {
    expect(frame.cb.length).toBe(0);
    expect(frame.recyclable).toBe(true);
    luma.push(Array.from(frame.y));
    pool.give(frame.y.buffer);
  }
  return { full, luma, reused: pool.reused };
}

describe('luma-only decode', () => {
  it('cuts out exactly the full decode Y\' plane, 8-bit 4:2:0, 10-bit 4:2:2 and 8-bit RGB, into reused buffers', async () => {
    const cases: { name: string; pixelFormat: string; codec: string[]; geometry: FrameGeometry }[] = [
      { name: 'h264.mp4', pixelFormat: 'yuv420p', codec: ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '20'], geometry: frameGeometry(160, 90, 'yuv420p') },
      { name: 'ffv1-10.mkv', pixelFormat: 'yuv422p10le', codec: ['-c:v', 'ffv1'], geometry: frameGeometry(160, 90, 'yuv422p', 10) },
      { name: 'rgb.mkv', pixelFormat: 'gbrp', codec: ['-c:v', 'ffv1'], geometry: frameGeometry(160, 90, 'yuv444p') },
    ];
    for (const c of cases) {
      const path = await makeClip(join(dir, c.name), { video: 'testsrc2=size=160x90:rate=25', seconds: 0.4, codec: c.codec, pixelFormat: c.pixelFormat });
      const { full, luma, reused } = await lumaBothWays(path, c.geometry, 'extract');
      expect(full.length, c.name).toBe(10);
      expect(luma, c.name).toEqual(full);
      expect(new Set(full.map((f) => f.join())).size, c.name).toBeGreaterThan(1); // the frames differ, so stale contents would show
      expect(reused, c.name).toBeGreaterThanOrEqual(8);
    }
  });
});

describe('frame writer', () => {
  /**
   * Writes frames whose buffers are scribbled over and reused the moment `consumed` says ffmpeg
   * has them, into lossless FFV1: any frame taken early would come out scribbled.
   */
  async function writeReusing(width: number, height: number, frames: number): Promise<void> {
    const source = await makeClip(join(dir, `source-${width}.mp4`), { video: `testsrc2=size=${width}x${height}:rate=25`, seconds: frames / 25 });
    const info = await probeVideo(source);
    const geometry = frameGeometry(width, height, 'yuv420p');
    const output = join(dir, `reused-${width}.mkv`);
    const writer = new FrameWriter({ info, geometry, outputPath: output, settings: { codec: 'ffv1', crf: 0 }, includeAudio: false });
    const lumaSize = width * height;
    const chromaSize = geometry.chromaWidth * geometry.chromaHeight;
    const free: { y: Uint8Array; cb: Uint8Array; cr: Uint8Array }[] = [];
    const pattern = (frame: number, plane: number, i: number) => (frame * 37 + plane * 91 + i * 13 + (i >> 7)) & 0xff;
    let consumed = 0;
    let reused = 0;
    for (let f = 0; f < frames; f++) {
      const recycled = free.pop();
      if (recycled) reused++;
      const planes = recycled ?? { y: new Uint8Array(lumaSize), cb: new Uint8Array(chromaSize), cr: new Uint8Array(chromaSize) };
      [planes.y, planes.cb, planes.cr].forEach((plane, p) => plane.forEach((_, i) => (plane[i] = pattern(f, p, i))));
      await writer.write(planes.y, planes.cb, planes.cr, undefined, () => {
        consumed++;
        planes.y.fill(0xee);
        planes.cb.fill(0xee);
        planes.cr.fill(0xee);
        free.push(planes);
      });
    }
    await writer.finish();
    expect(consumed).toBe(frames);
    expect(reused).toBeGreaterThan(0);
    const raw = await rawFrames(output);
    expect(raw.length).toBe(frames * geometry.frameBytes);
    for (let f = 0; f < frames; f++) {
      const base = f * geometry.frameBytes;
      const sizes = [lumaSize, chromaSize, chromaSize];
      let offset = base;
      sizes.forEach((size, p) => {
        const plane = raw.subarray(offset, offset + size);
        const wrong = plane.findIndex((v, i) => v !== pattern(f, p, i));
        expect(wrong, `frame ${f} plane ${p}`).toBe(-1);
        offset += size;
      });
    }
  }

  it('says a frame is consumed only once ffmpeg has taken it: small frames (below the pipe buffer) and large ones', async () => {
    await writeReusing(96, 64, 40);
    await writeReusing(1280, 720, 8);
  });

  it('an encoder that dies mid-stream is one error, no hang, no consumed call for what it never took, no file left', async () => {
    const source = await makeClip(join(dir, 'dies-source.mp4'), { video: 'testsrc2=size=320x240:rate=25', seconds: 0.2 });
    const info = await probeVideo(source);
    // Reads about three frames of the raw stream, then fails; anything else goes to the real ffmpeg.
    const fake = join(dir, 'ffmpeg-dies.sh');
    await writeFile(fake, `#!/bin/sh\ncase "$*" in *pipe:0*) head -c 350000 > /dev/null; echo "Conversion failed: the disk is full" >&2; exit 1;; esac\nexec ${ffmpegPath()} "$@"\n`);
    await chmod(fake, 0o755);
    const saved = process.env.FFMPEG_PATH;
    process.env.FFMPEG_PATH = fake;
    try {
      const geometry = frameGeometry(320, 240, 'yuv420p');
      const writer = new FrameWriter({ info, geometry, outputPath: join(dir, 'dies.mkv'), settings: { codec: 'ffv1', crf: 0 }, includeAudio: false });
      let consumed = 0;
      const frames = 200;
      await expect(async () => {
        for (let f = 0; f < frames; f++) {
          const y = new Uint8Array(320 * 240).fill(f);
          const c = new Uint8Array(geometry.chromaWidth * geometry.chromaHeight).fill(128);
          await writer.write(y, c, c.slice(), undefined, () => consumed++);
        }
        await writer.finish();
      }).rejects.toThrow(/^encoding .*dies\.mkv failed: .*disk is full/);
      expect(consumed).toBeLessThan(frames);
      await writer.abort();
      expect(existsSync(writer.temporaryPath)).toBe(false);
      expect(existsSync(join(dir, 'dies.mkv'))).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.FFMPEG_PATH;
      else process.env.FFMPEG_PATH = saved;
    }
  });
});
