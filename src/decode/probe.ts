import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { ffprobePath } from './binaries.js';
import { UserError } from './errors.js';
import { type ChromaLayout, type SourceSamples, sourceSamples } from './pixel-format.js';
import { readDpxTimecode } from './timecode.js';
import { DEFAULT_SEQUENCE_FPS, type ImageSequence, findSequence, isSequencePattern, sequenceInputArgs } from './sequence.js';

export type { ChromaLayout } from './pixel-format.js';

export interface StreamInfo {
  index: number;
  codec: string;
}

export interface VideoInfo {
  path: string;
  width: number;
  height: number;
  /** Sample aspect ratio as "num:den". */
  sampleAspectRatio: string;
  /** Display rotation in degrees (0, 90, 180, 270), as the container's display matrix gives it. */
  rotation: number;
  /** Frame rate as a rational "num/den" and as a number. */
  frameRate: string;
  fps: number;
  variableFrameRate: boolean;
  /** The video stream's time base as [num, den] (the unit of its frame timestamps), when ffprobe gives one. */
  timeBase?: [number, number];
  durationSeconds: number;
  /** Exact when the container says so, else counted from packets. */
  frameCount: number;
  pixelFormat: string;
  /** The planar layout frames are decoded to (the source's own where it is one). */
  decodeFormat: ChromaLayout;
  /** Kind and depth of the source's samples (8 to 16 bits). */
  samples: SourceSamples;
  /** Start timecode (hh:mm:ss:ff, or ; for drop frame) of the source, when it has one. */
  timecode?: string;
  /** Reel name of the source, when it has one. */
  reel?: string;
  /** Set when the source is a numbered image sequence (then `path` is its printf pattern). */
  sequence?: ImageSequence;
  colorMatrix: 'bt601' | 'bt709';
  colorRange: 'limited' | 'full';
  /** Tags to copy to the output, as ffprobe names them (undefined when the source has none). */
  colorTags: { primaries?: string; transfer?: string; space?: string; range?: string };
  videoStreamIndex: number;
  audioStreams: StreamInfo[];
  subtitleStreams: StreamInfo[];
  formatName: string;
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  time_base?: string;
  nb_frames?: string;
  nb_read_packets?: string;
  duration?: string;
  pix_fmt?: string;
  color_space?: string;
  color_primaries?: string;
  color_transfer?: string;
  color_range?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ rotation?: number; side_data_type?: string }>;
  disposition?: { attached_pic?: number };
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { duration?: string; format_name?: string; tags?: Record<string, string> };
}

/** A tag from the video stream, the format, or any other stream (MOV keeps timecode and reel on its tmcd track). */
function findTag(json: FfprobeOutput, name: string): string | undefined {
  const streams = json.streams ?? [];
  const ordered = [...streams.filter((s) => s.codec_type === 'video'), ...streams.filter((s) => s.codec_type !== 'video')];
  for (const tags of [ordered[0]?.tags, json.format?.tags, ...ordered.slice(1).map((s) => s.tags)]) {
    const value = tags?.[name] ?? tags?.[name.toUpperCase()];
    if (value) return value;
  }
  return undefined;
}

/** Reads everything the pipeline needs to know about a video file, or throws a UserError. */
export async function probeVideo(input: string, options: { fps?: number } = {}): Promise<VideoInfo> {
  const sequence = await sequenceOf(input, options.fps ?? DEFAULT_SEQUENCE_FPS);
  const path = sequence?.pattern ?? input;
  if (!sequence) await assertReadableFile(path);
  const json = await runFfprobe(path, []);
  const video = (json.streams ?? []).find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) throw new UserError(`no video stream in ${path}`);
  if (sequence) {
    video.nb_frames = String(sequence.count);
    video.avg_frame_rate = video.r_frame_rate = String(options.fps ?? DEFAULT_SEQUENCE_FPS);
    video.duration = String(sequence.count / (options.fps ?? DEFAULT_SEQUENCE_FPS));
  }
  let frameCount = parseIntOr(video.nb_frames, 0);
  const counted = frameCount <= 0;
  if (counted) {
    const packets = await runFfprobe(path, ['-count_packets', '-select_streams', String(video.index)]);
    frameCount = parseIntOr(packets.streams?.[0]?.nb_read_packets, 0);
  }
  if (frameCount <= 0) throw new UserError(`no video frames in ${path}`);
  const fpsRational = pickFrameRate(video);
  const fps = rationalToNumber(fpsRational);
  await assertComplete(path, json, video, frameCount, fps, counted);
  const avg = rationalToNumber(video.avg_frame_rate ?? '0/0');
  const durationSeconds = parseFloatOr(video.duration, parseFloatOr(json.format?.duration, frameCount / fps));
  const width = video.width ?? 0;
  const height = video.height ?? 0;
  if (width <= 0 || height <= 0) throw new UserError(`video stream of ${path} has no frame size`);
  const pixelFormat = video.pix_fmt ?? 'unknown';
  const samples = sourceSamples(pixelFormat);
  const fullRangeFormat = pixelFormat.startsWith('yuvj');
  // Deep RGB becomes full-range Y'CbCr (every code of the scan keeps its own luma code), 8-bit RGB
  // limited-range as before (see decodeFilter); gray samples are full range unless tagged otherwise.
  const colorRange =
    samples.kind === 'rgb' ? (samples.bits > 8 ? 'full' : 'limited') : video.color_range === 'pc' || fullRangeFormat || (samples.kind === 'gray' && video.color_range !== 'tv') ? 'full' : 'limited';
  const colorMatrix = matrixFor(samples.kind === 'rgb' ? undefined : video.color_space, height);
  return {
    path,
    width,
    height,
    sampleAspectRatio: video.sample_aspect_ratio && video.sample_aspect_ratio !== '0:1' ? video.sample_aspect_ratio : '1:1',
    rotation: readRotation(video),
    frameRate: fpsRational,
    fps,
    variableFrameRate: isVariableRate(avg, rationalToNumber(video.r_frame_rate ?? '0/0')),
    timeBase: sequence ? undefined : parseTimeBase(video.time_base),
    durationSeconds,
    frameCount,
    pixelFormat,
    decodeFormat: samples.bits > 8 ? samples.layout : decodeLayoutFor(pixelFormat),
    samples,
    timecode: findTag(json, 'timecode') ?? (sequence && /\.dpx$/i.test(sequence.firstFile) ? await readDpxTimecode(sequence.firstFile) : undefined),
    reel: findTag(json, 'reel_name'),
    colorMatrix,
    colorRange,
    colorTags: {
      primaries: known(video.color_primaries),
      transfer: known(video.color_transfer),
      space: samples.kind === 'rgb' ? (colorMatrix === 'bt709' ? 'bt709' : 'smpte170m') : known(video.color_space),
      range: samples.kind === 'rgb' ? (colorRange === 'full' ? 'pc' : 'tv') : samples.kind === 'gray' ? (colorRange === 'full' ? 'pc' : 'tv') : known(video.color_range),
    },
    videoStreamIndex: video.index,
    audioStreams: streamsOf(json, 'audio'),
    subtitleStreams: streamsOf(json, 'subtitle'),
    formatName: json.format?.format_name ?? 'unknown',
    sequence,
  };
}

async function sequenceOf(input: string, fps: number): Promise<ImageSequence | undefined> {
  if (isSequencePattern(input)) return findSequence(input, fps);
  const info = await stat(input).catch(() => undefined);
  if (!info?.isDirectory()) return undefined;
  try {
    return await findSequence(input, fps);
  } catch (error) {
    if (error instanceof UserError && /^no numbered frames/.test(error.message)) {
      throw new UserError(`input is a directory, not a video file or a folder of numbered frames: ${input}`);
    }
    throw error;
  }
}

/**
 * A half-copied file is refused up front, naming its last readable frame: Matroska's header says
 * how long the video is while its packets stop early; an MP4/MOV index points past the end of the file.
 */
async function assertComplete(path: string, json: FfprobeOutput, video: FfprobeStream, frameCount: number, fps: number, counted: boolean): Promise<void> {
  let promised: number | undefined;
  let readable = frameCount;
  if (counted) {
    const tagged = video.tags?.DURATION ?? video.tags?.duration;
    const seconds = tagged ? parseClock(tagged) : (json.streams ?? []).length === 1 ? parseFloatOr(json.format?.duration, NaN) : NaN;
    if (Number.isFinite(seconds)) promised = Math.round(seconds * fps);
  } else if (/mov|mp4/.test(json.format?.format_name ?? '')) {
    const size = (await stat(path)).size;
    const packets = await runFfprobeText(path, ['-select_streams', String(video.index), '-show_entries', 'packet=size,pos', '-of', 'csv=p=0']);
    let inside = 0;
    for (const line of packets.split('\n')) {
      const [bytes, pos] = line.split(',').map(Number);
      if (Number.isFinite(pos) && Number.isFinite(bytes) && pos + bytes <= size) inside++;
    }
    promised = frameCount;
    readable = inside;
  }
  if (promised !== undefined && promised > readable + Math.max(2, 0.01 * promised)) {
    const last = readable - 1;
    throw new UserError(`${path} is truncated: ${promised} frames promised, the last readable one is frame ${last} (${formatClock(Math.max(0, last) / fps)}); the file looks incompletely copied`);
  }
}

function parseClock(text: string): number {
  const parts = text.split(':').map(Number);
  return parts.some((p) => !Number.isFinite(p)) ? NaN : parts.reduce((total, part) => total * 60 + part, 0);
}

function formatClock(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  return `${h}:${String(m).padStart(2, '0')}:${((ms % 60_000) / 1000).toFixed(3).padStart(6, '0')}`;
}

function runFfprobeText(path: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(ffprobePath(), ['-v', 'error', ...args, path], { maxBuffer: 512 * 1024 * 1024 }, (_error, stdout) => resolve(stdout ?? ''));
  });
}

async function assertReadableFile(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new UserError(`input not found: ${path}`);
  }
  if (info.isDirectory()) throw new UserError(`input is a directory, not a video file: ${path}`);
  if (!info.isFile()) throw new UserError(`input is not a regular file: ${path}`);
  if (info.size === 0) throw new UserError(`input is empty: ${path}`);
}

function runFfprobe(path: string, extra: string[]): Promise<FfprobeOutput> {
  const args = ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', ...extra, ...sequenceInputArgs(path), path];
  return new Promise((resolve, reject) => {
    execFile(ffprobePath(), args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const detail = firstLine(stderr) || error.message;
        if (/moov atom not found/.test(stderr)) {
          reject(new UserError(`not a readable video: ${path} (no moov atom: an MP4/MOV that is truncated or incompletely copied, or not an MP4/MOV at all)`));
          return;
        }
        reject(new UserError(`not a readable video: ${path} (${detail})`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as FfprobeOutput);
      } catch {
        reject(new UserError(`not a readable video: ${path} (ffprobe gave no metadata)`));
      }
    });
  });
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? '';
}

/**
 * A stream whose average rate differs from its base rate (the least common multiple of its frame
 * spacings, ffprobe's r_frame_rate) has frames at uneven times. A constant-rate file caught by this
 * (an odd r_frame_rate) loses nothing: its frame times are kept as they are.
 */
function isVariableRate(average: number, base: number): boolean {
  return average > 0 && base > 0 && Math.abs(average - base) / base > 0.01;
}

function pickFrameRate(video: FfprobeStream): string {
  for (const candidate of [video.avg_frame_rate, video.r_frame_rate]) {
    if (candidate && rationalToNumber(candidate) > 0 && rationalToNumber(candidate) < 1000) return candidate;
  }
  throw new UserError('video stream has no usable frame rate');
}

export function rationalToNumber(rational: string): number {
  const [num, den] = rational.split('/').map(Number);
  if (!Number.isFinite(num)) return 0;
  if (den === undefined) return num;
  return den ? num / den : 0;
}

function readRotation(video: FfprobeStream): number {
  const fromSide = video.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const fromTag = video.tags?.rotate !== undefined ? Number(video.tags.rotate) : undefined;
  // Measured with the bundled binaries: ffmpeg's `rotate=R` output tag reads back from ffprobe as a
  // display matrix with rotation R, so the value round-trips without a change of sign.
  const degrees = fromTag ?? fromSide ?? 0;
  return ((Math.round(degrees / 90) * 90) % 360 + 360) % 360;
}

function decodeLayoutFor(pixelFormat: string): ChromaLayout {
  if (pixelFormat.startsWith('yuv444p') || pixelFormat.startsWith('yuvj444p')) return 'yuv444p';
  if (pixelFormat.startsWith('yuv422p') || pixelFormat.startsWith('yuvj422p')) return 'yuv422p';
  return 'yuv420p';
}

function matrixFor(space: string | undefined, height: number): 'bt601' | 'bt709' {
  if (space === 'bt709') return 'bt709';
  if (space && ['smpte170m', 'bt470bg', 'fcc', 'smpte240m'].includes(space)) return 'bt601';
  return height >= 720 ? 'bt709' : 'bt601';
}

function known(value: string | undefined): string | undefined {
  return value && value !== 'unknown' && value !== 'reserved' ? value : undefined;
}

function streamsOf(json: FfprobeOutput, type: string): StreamInfo[] {
  return (json.streams ?? []).filter((s) => s.codec_type === type).map((s) => ({ index: s.index, codec: s.codec_name ?? 'unknown' }));
}

function parseIntOr(text: string | undefined, fallback: number): number {
  const n = text === undefined ? NaN : parseInt(text, 10);
  return Number.isFinite(n) ? n : fallback;
}

function parseFloatOr(text: string | undefined, fallback: number): number {
  const n = text === undefined ? NaN : parseFloat(text);
  return Number.isFinite(n) ? n : fallback;
}

/** A time base "num/den" as numbers, or undefined when it is not a positive rational. */
export function parseTimeBase(text: string | undefined): [number, number] | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text ?? '');
  if (!match) return undefined;
  const [num, den] = [Number(match[1]), Number(match[2])];
  return num > 0 && den > 0 ? [num, den] : undefined;
}
