import ffmpeg from 'fluent-ffmpeg';
import { ffmpegPath, ffprobePath } from './binaries.js';

/** A fluent-ffmpeg command bound to our ffmpeg/ffprobe binaries. */
export function ffmpegCommand(input?: string): ffmpeg.FfmpegCommand {
  const command = input === undefined ? ffmpeg() : ffmpeg(input);
  return command.setFfmpegPath(ffmpegPath()).setFfprobePath(ffprobePath());
}

/** ffmpeg's own explanation of a failure, reduced to one line. */
export function ffmpegFailureReason(error: unknown, stderr?: string | null): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = (stderr ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  const meaningful = lines.filter((l) => /error|invalid|no such|not found|unable|failed|could not|denied|no space/i.test(l));
  const reason = meaningful[meaningful.length - 1] ?? message.split('\n')[0] ?? 'unknown error';
  return reason.replace(/^ffmpeg exited with code \d+: ?/, '').trim();
}
