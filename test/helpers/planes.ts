import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ffmpegPath, ffprobePath } from '../../src/decode/binaries.js';

const run = promisify(execFile);

export interface VideoFacts {
  pixelFormat: string;
  width: number;
  height: number;
  codecName: string;
  profile?: string;
  frameRate: string;
  frames: number;
  timecode?: string;
  reel?: string;
  /** Presentation time of every frame, in seconds. */
  times: number[];
}

/** What ffprobe says about the first video stream, with every frame's timestamp. */
export async function videoFacts(path: string, inputArgs: string[] = []): Promise<VideoFacts> {
  const { stdout } = await run(
    ffprobePath(),
    ['-v', 'error', ...inputArgs, '-print_format', 'json', '-show_streams', '-show_format', '-show_entries', 'frame=pkt_pts_time,best_effort_timestamp_time', '-select_streams', 'v:0', '-show_frames', path],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const json = JSON.parse(stdout) as {
    streams: Array<Record<string, unknown> & { tags?: Record<string, string> }>;
    frames: Array<{ best_effort_timestamp_time?: string; pkt_pts_time?: string }>;
    format: { tags?: Record<string, string> };
  };
  const s = json.streams[0];
  const all = await run(ffprobePath(), ['-v', 'error', ...inputArgs, '-print_format', 'json', '-show_streams', '-show_format', path]);
  const whole = JSON.parse(all.stdout) as { streams: Array<{ tags?: Record<string, string> }>; format: { tags?: Record<string, string> } };
  const tag = (name: string) => [...whole.streams.map((x) => x.tags), whole.format.tags].map((t) => t?.[name] ?? t?.[name.toUpperCase()]).find(Boolean);
  return {
    pixelFormat: String(s.pix_fmt),
    width: Number(s.width),
    height: Number(s.height),
    codecName: String(s.codec_name),
    profile: s.profile as string | undefined,
    frameRate: String(s.r_frame_rate),
    frames: json.frames.length,
    timecode: tag('timecode'),
    reel: tag('reel_name'),
    times: json.frames.map((f) => Number(f.best_effort_timestamp_time ?? f.pkt_pts_time)),
  };
}

/** Bits per sample and plane sizes of a planar (or gray) little-endian pixel format. */
function layoutOf(pixelFormat: string, width: number, height: number): { bytes: number; ySize: number; frameSize: number } {
  const bitsMatch = /(\d+)(le|be)$/.exec(pixelFormat);
  const bits = bitsMatch ? Number(bitsMatch[1]) : 8;
  const bytes = bits > 8 ? 2 : 1;
  const ySize = width * height;
  if (pixelFormat.startsWith('gray')) return { bytes, ySize, frameSize: ySize };
  const cw = pixelFormat.startsWith('yuv444') ? width : Math.ceil(width / 2);
  const ch = pixelFormat.startsWith('yuv420') ? Math.ceil(height / 2) : height;
  return { bytes, ySize, frameSize: ySize + 2 * cw * ch };
}

/**
 * The luma (Y') samples of every frame at the file's own depth, extracted without any conversion
 * (ffmpeg's rawvideo in the stream's own pixel format, big-endian swapped to little): one array of
 * all frames' Y planes, one sample per element. Every stored frame once, whatever its time.
 */
export async function lumaSamples(path: string, inputArgs: string[] = []): Promise<{ samples: Uint16Array; pixelFormat: string; frames: number }> {
  const facts = await videoFacts(path, inputArgs);
  const own = facts.pixelFormat.replace(/be$/, 'le');
  const { stdout } = await run(ffmpegPath(), ['-v', 'error', ...inputArgs, '-i', path, '-map', '0:v:0', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', own, 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 1024 * 1024 * 1024,
  });
  const { bytes, ySize, frameSize } = layoutOf(own, facts.width, facts.height);
  const frames = stdout.length / (frameSize * bytes);
  const samples = new Uint16Array(frames * ySize);
  for (let f = 0; f < frames; f++) {
    const base = f * frameSize * bytes;
    for (let i = 0; i < ySize; i++) samples[f * ySize + i] = bytes === 2 ? stdout.readUInt16LE(base + 2 * i) : stdout[base + i];
  }
  return { samples, pixelFormat: facts.pixelFormat, frames };
}
