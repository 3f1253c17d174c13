import { PassThrough } from 'node:stream';
import { ffmpegCommand, ffmpegFailureReason } from './ffmpeg-command.js';
import { UserError } from './errors.js';
import { type Frame, type FrameGeometry, splitPlanes } from './frame.js';
import { frameChunks } from './frame-chunks.js';

export interface FrameReaderOptions {
  path: string;
  geometry: FrameGeometry;
  fps: number;
  /** First frame to decode (fast seek in ffmpeg, then exact). */
  startFrame?: number;
  /** Exact number of frames to decode; fewer arriving is an error. */
  frameCount: number;
  signal?: AbortSignal;
}

/**
 * Streams raw planar frames out of ffmpeg. Frames are produced only as fast as the consumer
 * pulls them: an unread frame stays in the pipe and ffmpeg blocks on its write (backpressure),
 * so memory is a couple of frames whatever the film length.
 */
export async function* readFrames(options: FrameReaderOptions): AsyncGenerator<Frame> {
  const { geometry, fps, frameCount } = options;
  const startFrame = options.startFrame ?? 0;
  const sink = new PassThrough({ highWaterMark: geometry.frameBytes, emitClose: false });
  const command = ffmpegCommand(options.path);
  // Half a frame before the first wanted frame, so rounding can neither skip it nor include the one before.
  if (startFrame > 0) command.seekInput(((startFrame - 0.5) / fps).toFixed(6));
  command
    .inputOptions(['-noautorotate'])
    .outputOptions(['-map', '0:v:0', '-an', '-sn', '-dn', '-vsync', 'passthrough', '-pix_fmt', geometry.layout, '-frames:v', String(frameCount)])
    .format('rawvideo');

  let exitError: Error | undefined;
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    command.on('end', () => {
      exited = true;
      resolve();
    });
    command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
      exited = true;
      if (!options.signal?.aborted) exitError = new UserError(`decoding ${options.path} failed: ${ffmpegFailureReason(error, stderr)}`);
      sink.end();
      resolve();
    });
  });
  const abort = () => command.kill('SIGKILL');
  options.signal?.addEventListener('abort', abort, { once: true });
  command.pipe(sink, { end: true });

  let produced = 0;
  const frames = frameChunks(sink as AsyncIterable<Buffer>, geometry.frameBytes);
  try {
    for await (const buffer of frames) {
      yield { index: produced, time: (startFrame + produced) / fps, ...splitPlanes(buffer, geometry) };
      produced++;
    }
    await exit;
    if (options.signal?.aborted) throw new UserError('interrupted');
    if (exitError) throw exitError;
    if (frames.leftover() !== 0 || produced !== frameCount) {
      throw new UserError(
        `decoding ${options.path} gave ${produced} of ${frameCount} frames: the file is truncated or corrupt (frames are never dropped silently)`,
      );
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    if (!exited) command.kill('SIGKILL');
  }
}
