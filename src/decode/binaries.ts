import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Path of the ffmpeg binary: $FFMPEG_PATH, else the one shipped by @ffmpeg-installer/ffmpeg. */
export function ffmpegPath(): string {
  const fromEnv = process.env.FFMPEG_PATH;
  if (fromEnv) return fromEnv;
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

/** Path of the ffprobe binary: $FFPROBE_PATH, else the one shipped by @ffprobe-installer/ffprobe. */
export function ffprobePath(): string {
  const fromEnv = process.env.FFPROBE_PATH;
  if (fromEnv) return fromEnv;
  return (require('@ffprobe-installer/ffprobe') as { path: string }).path;
}
