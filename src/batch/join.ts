import { spawn } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ffmpegPath } from '../decode/binaries.js';
import { UserError } from '../decode/errors.js';
import { ffmpegFailureReason } from '../decode/ffmpeg-command.js';
import type { VideoInfo } from '../decode/probe.js';
import { containerFor } from '../encode/container.js';
import { passthroughStreamArgs } from '../encode/encoder-args.js';
import { removeTemporary, temporaryPathFor, trackTemporary, untrackTemporary } from '../encode/temp-files.js';
import { verifyOutput } from './verify.js';

export interface JoinOptions {
  info: VideoInfo;
  chunks: string[];
  workDir: string;
  output: string;
  signal?: AbortSignal;
}

/**
 * Joins chunk files (video only, same codec settings) with ffmpeg's concat demuxer, adds the
 * source's audio and subtitles, checks the result has the input's frames, and renames it into
 * place. Nothing but a hidden temporary exists at `output`'s folder until then.
 */
export async function joinChunks(options: JoinOptions): Promise<number> {
  const { info, output } = options;
  const container = containerFor(output);
  const list = join(options.workDir, 'concat.txt');
  await writeFile(list, options.chunks.map((c) => `file '${c.replace(/'/g, "'\\''")}'\n`).join(''));
  const temporary = temporaryPathFor(output);
  trackTemporary(temporary);
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list];
  const withSource = info.audioStreams.length > 0 || info.subtitleStreams.length > 0;
  if (withSource) args.push('-i', info.path);
  args.push('-map', '0:v:0', '-c:v', 'copy');
  if (withSource) args.push(...passthroughStreamArgs(info, container));
  if (info.rotation) args.push('-metadata:s:v:0', `rotate=${info.rotation}`);
  // The chunks' encoders wrote it, but the concat demuxer drops stream tags (the timecode survives as the first chunk's track).
  if (info.reel) args.push('-metadata:s:v:0', `reel_name=${info.reel}`);
  if (container.faststart) args.push('-movflags', '+faststart');
  args.push('-max_muxing_queue_size', '4096', '-f', container.muxer, temporary);
  try {
    await runFfmpeg(args, options.signal, `joining the chunks of ${output}`);
    const check = await verifyOutput(temporary, info);
    if (!check.ok) throw new UserError(`joined output ${output} is incomplete: it ${check.reason}`);
    try {
      await rename(temporary, output);
    } catch (error) {
      throw new UserError(`could not move the finished file into place at ${output}: ${(error as Error).message}`);
    }
    untrackTemporary(temporary);
    return check.frames ?? info.frameCount;
  } catch (error) {
    removeTemporary(temporary);
    throw error;
  }
}

function runFfmpeg(args: string[], signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new UserError('interrupted'));
      return;
    }
    const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => {
      stderr = (stderr + data.toString()).slice(-16_000);
    });
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new UserError(`${what} failed: ${error.message}`));
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(new UserError('interrupted'));
      else if (code === 0) resolve();
      else reject(new UserError(`${what} failed: ${ffmpegFailureReason(new Error(`ffmpeg exited with code ${code}`), stderr)}`));
    });
  });
}
