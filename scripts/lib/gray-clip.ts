import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ffmpegPath } from '../../src/decode/binaries.js';
import { probeVideo, type VideoInfo } from '../../src/decode/probe.js';

export interface ClipSpan {
  start: number;
  seconds: number;
}

/**
 * A gray version of a span of a color clip, as a black-and-white film holds it (ffmpeg hue=s=0:
 * Y' bit-identical, Cb = Cr = neutral; lossless FFV1, the source's color tags kept), and the truth
 * cut the same way (the original itself when the span starts at 0) so that frames line up.
 */
export async function makeGrayClip(original: string, workDir: string, name: string, span: ClipSpan): Promise<{ gray: string; truth: string }> {
  const gray = join(workDir, `${name}.gray.mkv`);
  const source = await probeVideo(original);
  const input = ['-y', ...(span.start > 0 ? ['-ss', String(span.start)] : []), '-i', original, '-t', String(span.seconds), '-map', '0:v:0', '-an', '-sn', '-dn'];
  const tags = colorTagArgs(source.colorTags);
  await runFfmpeg([...input, '-vf', 'hue=s=0', '-c:v', 'ffv1', ...tags, gray]);
  const truth = span.start > 0 ? join(workDir, `${name}.truth.mkv`) : original;
  if (span.start > 0) await runFfmpeg([...input, '-c:v', 'ffv1', ...tags, truth]);
  return { gray, truth };
}

/** ffmpeg output options that keep the source's color tags on the gray version. */
function colorTagArgs(tags: VideoInfo['colorTags']): string[] {
  const args: string[] = [];
  if (tags.primaries) args.push('-color_primaries', tags.primaries);
  if (tags.transfer) args.push('-color_trc', tags.transfer);
  if (tags.space) args.push('-colorspace', tags.space);
  if (tags.range) args.push('-color_range', tags.range);
  return args;
}

export function runFfmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-v', 'error', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg failed (${code}): ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
}
