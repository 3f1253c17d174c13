import { probeVideo, type VideoInfo } from '../decode/probe.js';

export interface Verification {
  ok: boolean;
  frames?: number;
  reason?: string;
}

/**
 * Whether `output` is a complete render of `input`: its frame count and duration match the
 * input's within one frame. Mere existence is never enough (a crash only ever leaves hidden
 * temporaries, but a file of the same name may come from another input).
 */
export async function verifyOutput(output: string, input: VideoInfo): Promise<Verification> {
  let info: VideoInfo;
  try {
    info = await probeVideo(output);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  const frameTolerance = 1;
  const durationTolerance = 1 / input.fps + 1e-3;
  if (Math.abs(info.frameCount - input.frameCount) > frameTolerance) {
    return { ok: false, frames: info.frameCount, reason: `has ${info.frameCount} frames, the input ${input.frameCount}` };
  }
  if (Math.abs(info.durationSeconds - input.durationSeconds) > durationTolerance) {
    return { ok: false, frames: info.frameCount, reason: `lasts ${info.durationSeconds.toFixed(3)} s, the input ${input.durationSeconds.toFixed(3)} s` };
  }
  return { ok: true, frames: info.frameCount };
}

/** Whether a chunk file holds exactly the frames it should. */
export async function verifyChunk(path: string, frames: number): Promise<boolean> {
  try {
    return (await probeVideo(path)).frameCount === frames;
  } catch {
    return false;
  }
}
