import { rename } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { type FrameGeometry, type Samples, planeBytes } from '../decode/frame.js';
import type { VideoInfo } from '../decode/probe.js';
import { ffmpegCommand, ffmpegFailureReason } from '../decode/ffmpeg-command.js';
import { UserError } from '../decode/errors.js';
import { containerFor } from './container.js';
import { type EncodeSettings, passthroughStreamArgs, videoCodecArgs, videoMetadataArgs } from './encoder-args.js';
import { removeTemporary, temporaryPathFor, trackTemporary, untrackTemporary } from './temp-files.js';
import { isSequenceOutput } from '../decode/sequence.js';
import { publishSequence, removeSequenceFolder, sequenceCodecArgs, sequenceInputFormat, temporarySequenceFolder } from './sequence-output.js';
import { ycbcrToRgbConverter } from './ycbcr-to-rgb.js';
import { ticksToNanoseconds, timedFrameHeader, timedStreamHeader } from './timed-frames.js';
import { basename, join } from 'node:path';
import { StdinCapture } from './stdin-capture.js';

/** A piece of the source, in seconds, whose audio goes with the frames written. */
export interface TimeSegment {
  start: number;
  end: number;
}

export interface FrameWriterOptions {
  info: VideoInfo;
  /** Geometry of the frames we write (may be wider than the source for side-by-side). */
  geometry: FrameGeometry;
  outputPath: string;
  settings: EncodeSettings;
  /** Pieces of the source being rendered; the whole film when omitted. */
  segments?: TimeSegment[];
  /** Whether to carry the source's audio and subtitles. */
  includeAudio?: boolean;
  /**
   * Keep each frame's own time (variable-frame-rate sources): `write` then takes the frame's
   * timestamp in ticks of this time base, and the output's video track uses the same time base.
   */
  frameTimes?: { timeBase: [number, number] };
}

/**
 * Encodes raw planar frames from stdin into `outputPath`, with the source's audio and subtitles.
 * Writes to a hidden temporary file in the output folder and renames it only after ffmpeg exits
 * cleanly, so an interrupted run never leaves a file that looks complete.
 */
export class FrameWriter {
  readonly temporaryPath: string;
  private readonly input = new StdinCapture();
  /** ffmpeg's stdin once it has started, with the stream header (timed frames) already written. */
  private readonly stdin: Promise<Writable>;
  private readonly done: Promise<void>;
  private failure: Error | undefined;
  private finished = false;
  private running = false;
  private aborting = false;
  private readonly command;
  /** Image-sequence output: frames go to a hidden folder (temporaryPath) and are moved into place at the end. */
  private readonly sequence: boolean;
  private readonly toRgb: ((y: Samples, cb: Samples, cr: Samples) => Uint8Array) | undefined;
  /** Frame times (variable frame rate): the first frame's ticks and the last written. */
  private readonly timed: { timeBase: [number, number]; frameTicks: number; first?: number; last?: number } | undefined;

  constructor(private readonly options: FrameWriterOptions) {
    const { info, geometry, outputPath, settings } = options;
    this.sequence = isSequenceOutput(outputPath);
    this.toRgb = this.sequence ? ycbcrToRgbConverter(geometry, info.colorMatrix, info.colorRange) : undefined;
    const frameTimes = this.sequence ? undefined : options.frameTimes;
    this.timed = frameTimes && { timeBase: frameTimes.timeBase, frameTicks: Math.max(1, Math.round(frameTimes.timeBase[1] / (frameTimes.timeBase[0] * info.fps))) };
    this.command = ffmpegCommand().input(this.input);
    const header = this.timed ? timedStreamHeader(geometry) : undefined;
    this.stdin = this.input.stdin.then((stdin) => {
      if (header) stdin.write(header);
      return stdin;
    });
    if (this.timed) {
      this.command.inputFormat('matroska');
    } else {
      this.command
        .inputFormat('rawvideo')
        .inputOptions(['-pix_fmt', this.sequence ? sequenceInputFormat(geometry) : geometry.pixelFormat, '-video_size', `${geometry.width}x${geometry.height}`, '-framerate', info.frameRate]);
    }
    if (this.sequence) {
      this.temporaryPath = temporarySequenceFolder(outputPath);
      this.command
        .outputOptions(['-map', '0:v:0', ...sequenceCodecArgs(outputPath, geometry, info, this.firstFrame())])
        .format('image2')
        .output(join(this.temporaryPath, basename(outputPath)));
      this.done = this.watch(outputPath);
      this.command.run();
      return;
    }
    const container = containerFor(outputPath);
    this.temporaryPath = temporaryPathFor(outputPath);
    trackTemporary(this.temporaryPath);
    const outputArgs = ['-map', '0:v:0', ...videoCodecArgs(settings, geometry.layout, geometry.bits), ...videoMetadataArgs(info, geometry.width / info.width, this.firstFrame())];
    if (this.timed) {
      const [num, den] = this.timed.timeBase;
      outputArgs.push('-vsync', 'passthrough', '-enc_time_base', `${num}:${den}`);
      if (container.muxer === 'mp4' || container.muxer === 'mov') outputArgs.push('-video_track_timescale', String(den));
    }
    const includeAudio = options.includeAudio !== false && (info.audioStreams.length > 0 || info.subtitleStreams.length > 0);
    if (includeAudio) {
      const segments = options.segments ?? [];
      if (segments.length <= 1) {
        this.command.input(info.path);
        const inputArgs: string[] = [];
        if (segments.length === 1) inputArgs.push('-ss', segments[0].start.toFixed(6), '-t', (segments[0].end - segments[0].start).toFixed(6));
        this.command.inputOptions(inputArgs);
        outputArgs.push(...passthroughStreamArgs(info, container));
      } else if (info.audioStreams.length > 0) {
        this.command.input(info.path);
        outputArgs.push(...joinedAudioArgs(info, segments));
      }
    }
    if (container.faststart) outputArgs.push('-movflags', '+faststart');
    outputArgs.push('-max_muxing_queue_size', '4096');
    this.command.outputOptions(outputArgs).format(container.muxer).output(this.temporaryPath);
    this.done = this.watch(outputPath);
    this.command.run();
  }

  private watch(outputPath: string): Promise<void> {
    // fluent-ffmpeg spawns asynchronously: an abort that comes first must kill the process once it exists.
    this.command.on('start', () => {
      this.running = true;
      if (this.aborting) this.command.kill('SIGKILL');
    });
    return new Promise<void>((resolve) => {
      this.command.on('end', () => resolve());
      this.command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
        this.failure = new UserError(`encoding ${outputPath} failed: ${ffmpegFailureReason(error, stderr)}`);
        this.input.destroy();
        resolve();
      });
    });
  }

  /** Film frame number of the first frame written. */
  private firstFrame(): number {
    const first = this.options.segments?.[0];
    return first ? Math.round(first.start * this.options.info.fps) : 0;
  }

  /**
   * Writes one frame; resolves when ffmpeg can take more (backpressure). With `frameTimes`, `ticks`
   * is the frame's own timestamp (a frame without one follows the last at the nominal rate).
   * `consumed` is called once ffmpeg's pipe has taken all of the planes' bytes (or they were
   * converted into a buffer of our own), after which their buffers may be reused; never when the
   * write fails.
   */
  async write(y: Samples, cb: Samples, cr: Samples, ticks?: number, consumed?: () => void): Promise<void> {
    if (this.failure) throw this.failure;
    const parts = this.toRgb ? [this.toRgb(y, cb, cr)] : [y, cb, cr].map(planeBytes);
    if (this.toRgb) consumed?.();
    if (this.timed) parts.unshift(timedFrameHeader(this.frameTime(ticks), parts.reduce((sum, part) => sum + part.byteLength, 0)));
    const stdin = await this.started();
    if (!stdin) throw this.failure ?? new UserError(`encoding ${this.options.outputPath} stopped before the first frame`);
    // Writes complete in order, so the last plane's callback (without an error) says the whole frame was taken.
    const taken = consumed && !this.toRgb ? (error?: Error | null) => void (error ?? consumed()) : undefined;
    for (let i = 0; i < parts.length; i++) {
      if (!stdin.write(parts[i], i === parts.length - 1 ? taken : undefined)) {
        await Promise.race([once(stdin, 'drain').catch(() => undefined), this.done]);
        if (stdin.destroyed) {
          await this.done; // ffmpeg closed its end: its exit says why
          throw this.failure ?? new UserError(`encoding ${this.options.outputPath} failed: ffmpeg stopped reading frames`);
        }
        if (this.failure) throw this.failure;
      }
    }
  }

  /** ffmpeg's stdin, or undefined when ffmpeg ended (failed) before starting. */
  private started(): Promise<Writable | undefined> {
    return Promise.race([this.stdin, this.done.then(() => undefined)]);
  }

  /** A frame's time from the start of the output, in nanoseconds; strictly after the last one written. */
  private frameTime(ticks: number | undefined): bigint {
    const timed = this.timed!;
    timed.first ??= ticks ?? 0;
    let relative = ticks === undefined ? (timed.last === undefined ? 0 : timed.last + timed.frameTicks) : ticks - timed.first;
    if (timed.last !== undefined && relative <= timed.last) relative = timed.last + 1;
    timed.last = relative;
    return ticksToNanoseconds(relative, timed.timeBase);
  }

  /** Ends the stream, waits for ffmpeg, and moves the finished file into place. */
  async finish(): Promise<void> {
    (await this.started())?.end();
    await this.done;
    if (this.sequence) {
      if (this.failure) {
        removeSequenceFolder(this.temporaryPath);
        throw this.failure;
      }
      await publishSequence(this.temporaryPath, this.options.outputPath, this.options.info, this.firstFrame());
      this.finished = true;
      return;
    }
    if (this.failure) {
      removeTemporary(this.temporaryPath);
      throw this.failure;
    }
    if (this.options.info.rotation) await this.tagRotation();
    try {
      await rename(this.temporaryPath, this.options.outputPath);
    } catch (error) {
      removeTemporary(this.temporaryPath);
      throw new UserError(`could not move the finished file into place at ${this.options.outputPath}: ${(error as Error).message}`);
    }
    untrackTemporary(this.temporaryPath);
    this.finished = true;
  }

  /**
   * The bundled ffmpeg drops the `rotate` tag when it encodes and keeps it only on a stream copy,
   * so a rotated source costs one extra remux (no re-encoding) of the finished file.
   */
  private async tagRotation(): Promise<void> {
    const container = containerFor(this.options.outputPath);
    const rotated = temporaryPathFor(this.options.outputPath);
    trackTemporary(rotated);
    const args = ['-map', '0', '-c', 'copy', '-metadata:s:v:0', `rotate=${this.options.info.rotation}`];
    if (container.faststart) args.push('-movflags', '+faststart');
    await new Promise<void>((resolve, reject) => {
      ffmpegCommand(this.temporaryPath)
        .outputOptions(args)
        .format(container.muxer)
        .output(rotated)
        .on('end', () => resolve())
        .on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
          removeTemporary(rotated);
          removeTemporary(this.temporaryPath);
          reject(new UserError(`tagging the rotation of ${this.options.outputPath} failed: ${ffmpegFailureReason(error, stderr)}`));
        })
        .run();
    });
    await rename(rotated, this.temporaryPath);
    untrackTemporary(rotated);
  }

  /** Stops ffmpeg and removes the temporary file. */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.aborting = true;
    if (this.running) this.command.kill('SIGKILL');
    this.input.destroy();
    await this.done;
    if (this.sequence) removeSequenceFolder(this.temporaryPath);
    else removeTemporary(this.temporaryPath);
  }
}

/** Audio of several separate pieces of the film joined end to end (first audio track, AAC). */
function joinedAudioArgs(info: VideoInfo, segments: TimeSegment[]): string[] {
  const track = `1:${info.audioStreams[0].index}`;
  const parts = segments.map((s, i) => `[${track}]atrim=start=${s.start.toFixed(6)}:end=${s.end.toFixed(6)},asetpts=PTS-STARTPTS[a${i}]`);
  const labels = segments.map((_, i) => `[a${i}]`).join('');
  const graph = `${parts.join(';')};${labels}concat=n=${segments.length}:v=0:a=1[aout]`;
  return ['-filter_complex', graph, '-map', '[aout]', '-c:a', 'aac', '-b:a', '192k'];
}
