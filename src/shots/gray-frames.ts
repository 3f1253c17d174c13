import { spawn } from 'node:child_process';
import { ffmpegPath } from '../decode/binaries.js';
import { frameChunks } from '../decode/frame-chunks.js';
import { sequenceInputArgs } from '../decode/sequence.js';

export interface GrayFrameOptions {
  /** Size every frame is scaled to. Fixed, so frame boundaries in the byte stream are known up front. */
  width: number;
  height: number;
  /** Seek to this time in seconds before reading. */
  start?: number;
  /** Stop after this many frames. */
  maxFrames?: number;
  signal?: AbortSignal;
}

/**
 * Streams the first video stream of `input` as small gray frames, decoded by ffmpeg.
 * Every frame is delivered exactly once (no frame-rate conversion). The yielded array
 * is reused: it is valid only until the next iteration. Throws a one-line Error when
 * ffmpeg fails; ending the iteration early stops ffmpeg.
 */
export function readGrayFrames(input: string, options: GrayFrameOptions): AsyncGenerator<Uint8Array> {
  const { width, height } = options;
  return decodeGray(input, options, grayScale(width, height), width * height);
}

export interface ScanAndViewOptions {
  /** The shot detector's frame size. */
  scan: { width: number; height: number };
  /** The global network's view size. */
  view: { width: number; height: number };
  start?: number;
  maxFrames?: number;
  signal?: AbortSignal;
}

/**
 * One decode, two sizes of every frame: the shot detector's and the global network's view, each
 * bit-identical to what {@link readGrayFrames} gives at that size (the decoded picture is split
 * and each branch scaled as it would be alone; ffmpeg stacks them into one frame, which is cut
 * apart here). Saves the film's second decode when the shots and the views are both wanted.
 * Both yielded arrays are reused.
 */
export async function* readScanAndViewFrames(input: string, options: ScanAndViewOptions): AsyncGenerator<{ scan: Uint8Array; view: Uint8Array }> {
  const { scan, view } = options;
  const width = Math.max(scan.width, view.width);
  const padded = (size: { width: number; height: number }) => grayScale(size.width, size.height) + (size.width < width ? `,pad=${width}:${size.height}` : '');
  const filter = `split[v][s];[v]${padded(view)}[V];[s]${padded(scan)}[S];[V][S]vstack`;
  const viewFrame = new Uint8Array(view.width * view.height);
  const scanFrame = new Uint8Array(scan.width * scan.height);
  for await (const stacked of decodeGray(input, options, filter, width * (view.height + scan.height))) {
    cutOut(stacked, 0, width, viewFrame, view);
    cutOut(stacked, width * view.height, width, scanFrame, scan);
    yield { scan: scanFrame, view: viewFrame };
  }
}

/** Copies a `size` picture stored from `offset` with rows `stride` bytes apart into `into`. */
function cutOut(from: Uint8Array, offset: number, stride: number, into: Uint8Array, size: { width: number; height: number }): void {
  for (let row = 0; row < size.height; row++) {
    const start = offset + row * stride;
    into.set(from.subarray(start, start + size.width), row * size.width);
  }
}

function grayScale(width: number, height: number): string {
  return `scale=${width}:${height}:flags=area,format=gray`;
}

async function* decodeGray(
  input: string,
  options: { start?: number; maxFrames?: number; signal?: AbortSignal },
  filter: string,
  frameBytes: number,
): AsyncGenerator<Uint8Array> {
  const { start, maxFrames, signal } = options;
  signal?.throwIfAborted();
  const args = ['-hide_banner', '-nostdin', '-v', 'error'];
  if (start !== undefined && start > 0) args.push('-ss', String(start));
  args.push(...sequenceInputArgs(input), '-i', input, '-map', '0:v:0', '-an', '-sn', '-dn');
  if (maxFrames !== undefined) args.push('-frames:v', String(maxFrames));
  args.push(
    '-vf', filter,
    '-vsync', 'passthrough',
    '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1',
  );

  const ffmpeg = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
  let stderr = '';
  ffmpeg.stderr.setEncoding('utf8');
  ffmpeg.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-4096);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    ffmpeg.once('error', reject);
    ffmpeg.once('close', (code) => resolve(code));
  });
  exited.catch(() => undefined); // awaited below; avoid an unhandled rejection while frames stream

  const frames = frameChunks(ffmpeg.stdout as AsyncIterable<Buffer>, frameBytes, true);
  let completed = false;
  try {
    yield* frames;
    let code: number | null;
    try {
      code = await exited;
    } catch (error) {
      signal?.throwIfAborted();
      throw new Error(`could not run ffmpeg (${ffmpegPath()}): ${(error as Error).message}`);
    }
    signal?.throwIfAborted();
    if (code !== 0) {
      const reason = lastLine(stderr) ?? `exit code ${code ?? 'none (killed)'}`;
      throw new Error(`ffmpeg could not decode "${input}": ${reason}`);
    }
    if (frames.leftover() !== 0) throw new Error(`ffmpeg output for "${input}" ended in the middle of a frame`);
    completed = true;
  } finally {
    if (!completed && ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
  }
}

function lastLine(text: string): string | undefined {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
  return lines[lines.length - 1];
}
