import { UserError } from '../decode/errors.js';
import type { Shot } from '../shots/index.js';

/** A contiguous run of frames [startFrame, endFrame) to render. */
export interface FrameSegment {
  startFrame: number;
  endFrame: number;
}

/** Frames covered by --start/--duration (whole film when both are absent). */
export function rangeFromTimes(frameCount: number, fps: number, start?: number, duration?: number): FrameSegment {
  if (start !== undefined && !(start >= 0)) throw new UserError(`--start must be a time of 0 or more seconds`, 2);
  if (duration !== undefined && !(duration > 0)) throw new UserError(`--duration must be a positive number of seconds`, 2);
  const startFrame = Math.round((start ?? 0) * fps);
  if (startFrame >= frameCount) {
    throw new UserError(`--start ${start}s is past the end of the film (${(frameCount / fps).toFixed(2)}s)`, 2);
  }
  const endFrame = duration === undefined ? frameCount : Math.min(frameCount, startFrame + Math.max(1, Math.round(duration * fps)));
  return { startFrame, endFrame };
}

/** Contiguous segments covering the selected shots (adjacent shots merge into one segment). */
export function segmentsForShots(shots: Shot[], selected: number[]): FrameSegment[] {
  const segments: FrameSegment[] = [];
  for (const index of [...selected].sort((a, b) => a - b)) {
    const shot = shots[index];
    const last = segments[segments.length - 1];
    if (last && last.endFrame === shot.startFrame) last.endFrame = shot.endFrame;
    else segments.push({ startFrame: shot.startFrame, endFrame: shot.endFrame });
  }
  return segments;
}

export function framesIn(segments: FrameSegment[]): number {
  return segments.reduce((sum, s) => sum + s.endFrame - s.startFrame, 0);
}
