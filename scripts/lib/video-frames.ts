import { spawn } from 'node:child_process';
import { ffmpegPath } from '../../src/decode/binaries.js';
import { probeVideo } from '../../src/decode/probe.js';
import { lumaCodeToUnit, lumaCoefficients, ycbcrCodesToRgb } from '../../src/color/ycbcr.js';
import { clamp01 } from '../../src/color/lab.js';

/** One analysis frame: Y' in [0, 1] (width*height) and planar R'G'B' in [0, 1] (3*width*height). */
export interface AnalysisFrame {
  gray: Float32Array;
  rgb: Float32Array;
}

export interface AnalysisSize {
  width: number;
  height: number;
}

/** Size frames are analysed at: `maxWidth` wide at most (never upscaled), aspect kept, both even. */
export function analysisSize(width: number, height: number, maxWidth: number): AnalysisSize {
  const w = Math.min(width, maxWidth);
  const even = (v: number) => Math.max(2, 2 * Math.round(v / 2));
  return { width: even(w), height: even((w * height) / width) };
}

/**
 * Streams the first `frameCount` frames of a video, area-scaled by ffmpeg to the analysis size
 * (Y'CbCr planes scaled as they are, then 4:4:4), converted to R'G'B' with the file's own matrix
 * and range as the pipeline reads them. Fewer frames than asked is an error.
 */
export async function* readAnalysisFrames(path: string, size: AnalysisSize, frameCount: number): AsyncGenerator<AnalysisFrame> {
  const info = await probeVideo(path);
  const k = lumaCoefficients(info.colorMatrix);
  const range = info.colorRange;
  const { width, height } = size;
  const pixels = width * height;
  const frameBytes = 3 * pixels;
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-noautorotate', '-i', path, '-map', '0:v:0', '-an', '-sn', '-dn'];
  args.push('-frames:v', String(frameCount), '-vf', `scale=${width}:${height}:flags=area,format=yuv444p`);
  args.push('-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv444p', 'pipe:1');
  const ffmpeg = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  ffmpeg.stderr.setEncoding('utf8');
  ffmpeg.stderr.on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    ffmpeg.once('error', reject);
    ffmpeg.once('close', resolve);
  });
  exited.catch(() => undefined);

  // Y'CbCr code triple -> R'G'B' through a table per (Cb, Cr) would be 16 MiB; the direct formula is fast enough.
  const grayLut = new Float32Array(256);
  for (let v = 0; v < 256; v++) grayLut[v] = lumaCodeToUnit(v, range);
  const buffer = new Uint8Array(frameBytes);
  let filled = 0;
  let produced = 0;
  let completed = false;
  try {
    for await (const chunk of ffmpeg.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        buffer.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          filled = 0;
          produced++;
          const gray = new Float32Array(pixels);
          const rgb = new Float32Array(frameBytes);
          for (let i = 0; i < pixels; i++) {
            const y = buffer[i];
            gray[i] = grayLut[y];
            const [r, g, b] = ycbcrCodesToRgb(y, buffer[pixels + i], buffer[2 * pixels + i], k, range);
            rgb[i] = clamp01(r);
            rgb[pixels + i] = clamp01(g);
            rgb[2 * pixels + i] = clamp01(b);
          }
          yield { gray, rgb };
        }
      }
    }
    const code = await exited;
    if (code !== 0) throw new Error(`ffmpeg could not decode ${path}: ${lastLine(stderr) ?? `exit code ${code}`}`);
    if (produced !== frameCount) throw new Error(`${path} gave ${produced} of ${frameCount} frames`);
    completed = true;
  } finally {
    if (!completed && ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
  }
}

/** Reads several videos frame by frame in lockstep: one array of frames per step. */
export async function* lockstep(readers: AsyncGenerator<AnalysisFrame>[]): AsyncGenerator<AnalysisFrame[]> {
  try {
    for (;;) {
      const steps = await Promise.all(readers.map((r) => r.next()));
      const done = steps.filter((s) => s.done).length;
      if (done === steps.length) return;
      if (done > 0) throw new Error('videos compared in lockstep have different frame counts');
      yield steps.map((s) => s.value as AnalysisFrame);
    }
  } finally {
    await Promise.all(readers.map((r) => r.return(undefined)));
  }
}

function lastLine(text: string): string | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1];
}
