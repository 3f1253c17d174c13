import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { ffmpegPath, ffprobePath } from '../../src/decode/binaries.js';

const run = promisify(execFile);

/** Runs ffmpeg with the given arguments (quiet, overwrite). */
export async function ffmpeg(args: string[]): Promise<void> {
  await run(ffmpegPath(), ['-hide_banner', '-v', 'error', '-y', ...args], { maxBuffer: 64 * 1024 * 1024 });
}

export interface ClipOptions {
  /** lavfi video source, e.g. "testsrc2=size=160x90:rate=25". */
  video: string;
  seconds: number;
  /** Sine audio track (Hz); none when omitted. */
  audioHz?: number;
  pixelFormat?: string;
  codec?: string[];
  gray?: boolean;
  extraOutput?: string[];
}

/** A synthetic clip from ffmpeg's lavfi sources. */
export async function makeClip(path: string, options: ClipOptions): Promise<string> {
  const args = ['-f', 'lavfi', '-i', options.video];
  if (options.audioHz) args.push('-f', 'lavfi', '-i', `sine=frequency=${options.audioHz}:sample_rate=48000`);
  args.push('-t', String(options.seconds), '-map', '0:v');
  if (options.audioHz) args.push('-map', '1:a', '-c:a', 'aac', '-b:a', '96k');
  if (options.gray) args.push('-vf', 'hue=s=0');
  args.push(...(options.codec ?? ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12']), '-pix_fmt', options.pixelFormat ?? 'yuv420p');
  args.push(...(options.extraOutput ?? []), path);
  await ffmpeg(args);
  return path;
}

export interface StreamFacts {
  codecType: string;
  codecName: string;
  frames?: number;
  duration?: number;
  frameRate?: string;
  width?: number;
  height?: number;
  colorSpace?: string;
  colorPrimaries?: string;
  colorTransfer?: string;
  sampleAspectRatio?: string;
  /** Display-matrix rotation in degrees, when the stream has one. */
  rotation?: number;
}

/** Per-stream facts, with video frames counted by decoding. */
export async function streamFacts(path: string): Promise<StreamFacts[]> {
  const { stdout } = await run(ffprobePath(), ['-v', 'error', '-count_frames', '-print_format', 'json', '-show_streams', '-show_format', path], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const json = JSON.parse(stdout) as { streams: Array<Record<string, unknown>>; format: { duration?: string } };
  return json.streams.map((s) => ({
    codecType: String(s.codec_type),
    codecName: String(s.codec_name),
    frames: s.nb_read_frames !== undefined ? Number(s.nb_read_frames) : undefined,
    duration: s.duration !== undefined ? Number(s.duration) : json.format.duration !== undefined ? Number(json.format.duration) : undefined,
    frameRate: s.r_frame_rate !== undefined ? String(s.r_frame_rate) : undefined,
    width: s.width !== undefined ? Number(s.width) : undefined,
    height: s.height !== undefined ? Number(s.height) : undefined,
    colorSpace: s.color_space as string | undefined,
    colorPrimaries: s.color_primaries as string | undefined,
    colorTransfer: s.color_transfer as string | undefined,
    sampleAspectRatio: s.sample_aspect_ratio as string | undefined,
    rotation: (s.side_data_list as Array<{ rotation?: number }> | undefined)?.find((d) => typeof d.rotation === 'number')?.rotation,
  }));
}

/** All decoded frames as raw planar bytes of the given pixel format. */
export async function rawFrames(path: string, pixelFormat = 'yuv420p'): Promise<Buffer> {
  const { stdout } = await run(ffmpegPath(), ['-v', 'error', '-i', path, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', pixelFormat, 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 1024 * 1024 * 1024,
  });
  return stdout;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI (built by the global setup) as a user would. */
export function runCli(args: string[], options: { env?: Record<string, string>; onSpawn?: (pid: number) => void } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/colorize-video.js', ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (child.pid) options.onSpawn?.(child.pid);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
