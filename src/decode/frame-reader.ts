import { spawn } from 'node:child_process';
import { ffmpegPath } from './binaries.js';
import { sequenceInputArgs } from './sequence.js';
import { UserError } from './errors.js';
import { type Frame, type FrameGeometry, splitPlanes } from './frame.js';
import { frameChunks } from './frame-chunks.js';
import type { BufferPool } from '../workers/buffer-pool.js';
import { type DamagedRange, DecodeMonitor, formatTime } from './decode-monitor.js';

export interface FrameReaderOptions {
  path: string;
  geometry: FrameGeometry;
  fps: number;
  /** First frame to decode (fast seek in ffmpeg, then exact). */
  startFrame?: number;
  /** Exact number of frames to decode; fewer arriving is an error. */
  frameCount: number;
  /** Keep going through damaged frames (the decoder's concealment; dropped frames repeat the previous one). */
  conceal?: boolean;
  /** Called once per damaged stretch when concealing. */
  onDamage?: (range: DamagedRange) => void;
  /** Whether frames come at a constant rate, so a gap in timestamps means dropped frames. Default true. */
  constantRate?: boolean;
  /** Options placed before `-i` (image sequences: demuxer, frame rate, start number). */
  inputArgs?: string[];
  /** A filter run on the decoded frames before they are handed over (RGB sources: the conversion to Y'CbCr). */
  videoFilter?: string;
  /**
   * Decode only the luma plane, as gray samples at the geometry's depth; the frames' Cb/Cr are
   * then empty. `source`: gray sources, their own samples with no conversion at all. `extract`:
   * the frame is decoded to the geometry's pixel format as it would be whole and ffmpeg cuts its
   * Y' plane out (extractplanes), code for code, so the chroma planes nobody reads never cross
   * the pipe (a third of a 4:2:0 frame's bytes).
   */
  lumaOnly?: 'source' | 'extract';
  /** Where frame buffers come from (every byte is overwritten); a consumer done with a frame may give `frame.y.buffer` back. */
  buffers?: BufferPool;
  /**
   * Deep RGB sources: decode planar R'G'B' at the geometry's depth and derive Y' here with the
   * given coefficients and range, rounded once (within half a code of the exact value); the frames'
   * Cb/Cr are then empty.
   */
  rgbLuma?: { kr: number; kb: number; range: 'limited' | 'full' };
  signal?: AbortSignal;
}

/**
 * Streams raw planar frames out of ffmpeg. Frames are produced only as fast as the consumer
 * pulls them: an unread frame stays in the pipe and ffmpeg blocks on its write (backpressure),
 * so memory is a couple of frames whatever the film length.
 *
 * ffmpeg's log is watched while it decodes (see DecodeMonitor): by default the first damaged
 * frame stops the read at once with one line naming it; with `conceal` the damaged stretches are
 * reported and dropped frames are filled in, so the film keeps its frame count.
 */
export async function* readFrames(options: FrameReaderOptions): AsyncGenerator<Frame> {
  const { geometry, fps, frameCount, path } = options;
  const startFrame = options.startFrame ?? 0;
  options.signal?.throwIfAborted();
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'level+info', '-threads', '1'];
  // Half a frame before the first wanted frame, so rounding can neither skip it nor include the one before.
  if (startFrame > 0) args.push('-ss', ((startFrame - 0.5) / fps).toFixed(6));
  args.push('-noautorotate', ...(options.inputArgs ?? sequenceInputArgs(path)), '-i', path, '-map', '0:v:0', '-an', '-sn', '-dn');
  const lumaSamples = geometry.width * geometry.height;
  const sampleBytes = geometry.bits > 8 ? 2 : 1;
  const rgbLuma = options.rgbLuma && geometry.bits > 8 ? options.rgbLuma : undefined;
  const extract = !rgbLuma && options.lumaOnly === 'extract' ? [`format=${geometry.pixelFormat}`, 'extractplanes=y'] : [];
  // showinfo's per-frame line gives each frame's number and time; its checksums of every plane are not read (they cost a quarter of a 1080p decode)
  args.push('-vf', [options.videoFilter, ...extract, 'showinfo=checksum=0'].filter(Boolean).join(','));
  const rawFormat = rgbLuma ? `gbrp${geometry.bits}le` : options.lumaOnly ? (geometry.bits > 8 ? `gray${geometry.bits}le` : 'gray') : geometry.pixelFormat;
  const frameBytes = rgbLuma ? 3 * lumaSamples * 2 : options.lumaOnly ? lumaSamples * sampleBytes : geometry.frameBytes;
  const toLuma = rgbLuma ? rgbToLuma(lumaSamples, geometry.bits, rgbLuma) : undefined;
  // Concealment repeats the last good picture after it was handed on, so its buffers are never pooled.
  const pool = options.conceal ? undefined : options.buffers;
  const planes = (buffer: Uint8Array) => {
    if (toLuma) {
      const y = toLuma(buffer);
      pool?.give(buffer.buffer);
      return { y, cb: new Uint16Array(0), cr: new Uint16Array(0) };
    }
    if (options.lumaOnly) return { y: splitPlanes(buffer, geometry).y.subarray(0, lumaSamples), cb: new Uint8Array(0), cr: new Uint8Array(0) };
    return splitPlanes(buffer, geometry);
  };
  args.push('-vsync', 'passthrough', '-pix_fmt', rawFormat, '-frames:v', String(frameCount), '-f', 'rawvideo', 'pipe:1');

  const ffmpeg = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const monitor = new DecodeMonitor({ fps, startFrame, constantRate: options.constantRate ?? true, strict: !options.conceal, endFrame: startFrame + frameCount });
  ffmpeg.stderr.setEncoding('utf8');
  let partial = '';
  ffmpeg.stderr.on('data', (text: string) => {
    const lines = (partial + text).split(/\r?\n/);
    partial = lines.pop() ?? '';
    for (const line of lines) monitor.line(line);
    if (monitor.damage && !options.conceal) ffmpeg.kill('SIGKILL');
  });
  const exit = new Promise<number | null>((resolve) => {
    ffmpeg.once('error', () => resolve(-1));
    ffmpeg.once('close', (code) => {
      if (partial) monitor.line(partial);
      monitor.close();
      resolve(code);
    });
  });
  const abort = () => ffmpeg.kill('SIGKILL');
  options.signal?.addEventListener('abort', abort, { once: true });

  let produced = 0;
  let previous: Uint8Array | undefined;
  const frames = frameChunks(ffmpeg.stdout as AsyncIterable<Buffer>, frameBytes, false, pool && ((bytes) => pool.take(bytes)));
  const emit = (buffer: Uint8Array, ticks?: number): Frame => ({ index: produced, time: (startFrame + produced) / fps, ticks, ...planes(buffer), recyclable: pool !== undefined });
  const damaged = (): UserError => {
    const d = monitor.damage!;
    return new UserError(`${path} is damaged at frame ${d.frame} (${formatTime(d.frame / fps)}): ${d.reason}; --conceal renders through damage`);
  };
  try {
    let delivered = 0;
    for await (const buffer of frames) {
      await monitor.seen(delivered);
      const ticks = monitor.takeTicks();
      if (!options.conceal && monitor.damage) throw damaged();
      // Frames the decoder dropped (concealing) are filled with the last good picture.
      for (let gap = monitor.missingBefore(delivered); gap > 0 && produced < frameCount; gap--) {
        yield emit((previous ?? buffer).slice());
        produced++;
      }
      delivered++;
      if (produced >= frameCount) break;
      previous = buffer;
      yield emit(buffer, ticks);
      produced++;
      if (produced >= frameCount) break;
    }
    const code = await exit;
    if (options.signal?.aborted) throw new UserError('interrupted');
    if (!options.conceal && monitor.damage) throw damaged();
    const lastGood = startFrame + produced - 1;
    if (monitor.truncated || frames.leftover() !== 0 || (produced < frameCount && !options.conceal)) {
      throw new UserError(
        `decoding ${path} gave ${produced} of ${frameCount} frames: the file is truncated, its last readable frame is ${lastGood} (${formatTime(Math.max(0, lastGood) / fps)})`,
      );
    }
    if (code !== 0 && produced < frameCount) throw new UserError(`decoding ${path} failed: ${monitor.lastError ?? `ffmpeg exit code ${code}`}`);
    if (produced < frameCount && previous) {
      // Concealing: the end of the film did not decode; hold the last picture for the missing frames.
      monitor.markMissingEnd(startFrame + produced, startFrame + frameCount - 1);
      while (produced < frameCount) {
        yield emit(previous.slice());
        produced++;
      }
    }
    if (produced < frameCount) throw new UserError(`decoding ${path} gave ${produced} of ${frameCount} frames`);
  } finally {
    options.signal?.removeEventListener('abort', abort);
    if (ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
    for (const range of monitor.ranges()) options.onDamage?.(range);
  }
}

/** Planar G, B, R words at `bits` -> Y' words at the same depth (BT.601/709 coefficients, limited or full range). */
function rgbToLuma(samples: number, bits: number, { kr, kb, range }: { kr: number; kb: number; range: 'limited' | 'full' }): (buffer: Uint8Array) => Uint16Array {
  const max = (1 << bits) - 1;
  const step = 1 << (bits - 8);
  const offset = range === 'full' ? 0 : 16 * step;
  const scale = (range === 'full' ? max : 219 * step) / max;
  const kg = 1 - kr - kb;
  const [wr, wg, wb] = [kr * scale, kg * scale, kb * scale];
  return (buffer) => {
    const words = new Uint16Array(buffer.buffer, buffer.byteOffset, 3 * samples);
    const y = new Uint16Array(samples);
    for (let i = 0; i < samples; i++) {
      y[i] = Math.round(offset + wg * words[i] + wb * words[samples + i] + wr * words[2 * samples + i]);
    }
    return y;
  };
}
