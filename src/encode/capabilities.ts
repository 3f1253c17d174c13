import { execFile } from 'node:child_process';
import { ffmpegPath } from '../decode/binaries.js';
import { UserError } from '../decode/errors.js';

const cache = new Map<string, Promise<string[] | undefined>>();

/** Pixel formats an encoder of the ffmpeg in use accepts (undefined when it has no such encoder). */
export function encoderPixelFormats(encoder: string): Promise<string[] | undefined> {
  const key = `${ffmpegPath()}\u0000${encoder}`;
  let found = cache.get(key);
  if (!found) {
    found = new Promise((resolve) => {
      execFile(ffmpegPath(), ['-hide_banner', '-h', `encoder=${encoder}`], { maxBuffer: 4 * 1024 * 1024 }, (error, stdout) => {
        const line = /Supported pixel formats:(.*)/.exec(stdout ?? '');
        if (error || /is not recognized/.test(stdout ?? '') || !/Encoder /.test(stdout ?? '')) resolve(undefined);
        else resolve(line ? line[1].trim().split(/\s+/) : []);
      });
    });
    cache.set(key, found);
  }
  return found;
}

/**
 * Refuses, in one line, a render whose encoder the ffmpeg in use lacks or that cannot take the
 * samples it would be given (an older or slimmer build behind FFMPEG_PATH), before rendering starts.
 */
export async function assertEncoderTakes(encoder: string, pixelFormat: string): Promise<void> {
  const formats = await encoderPixelFormats(encoder);
  if (formats === undefined) throw new UserError(`the ffmpeg in use (${ffmpegPath()}) has no ${encoder} encoder: set FFMPEG_PATH to a build that has, or choose another --codec`);
  if (formats.length > 0 && !formats.includes(pixelFormat)) {
    throw new UserError(`the ffmpeg in use (${ffmpegPath()}) cannot write ${pixelFormat} with ${encoder}: set FFMPEG_PATH to a build that can, or use --codec ffv1`);
  }
}
