import type { Shot } from '../shots/index.js';

/** A run of whole consecutive shots rendered into one chunk file. */
export interface Chunk {
  index: number;
  /** First and last shot index (inclusive), as `--shot a-b` takes them. */
  firstShot: number;
  lastShot: number;
  startFrame: number;
  endFrame: number;
}

/**
 * Groups consecutive shots into chunks of at least `minSeconds` each (a shot is never split).
 * A short remainder at the end joins the last chunk, so every chunk is at least that long
 * unless the whole film is shorter.
 */
export function groupShotsIntoChunks(shots: Shot[], fps: number, minSeconds: number): Chunk[] {
  const minFrames = Math.max(1, Math.round(minSeconds * fps));
  const chunks: Chunk[] = [];
  let open: Chunk | undefined;
  for (const shot of shots) {
    if (!open) {
      open = { index: chunks.length, firstShot: shot.index, lastShot: shot.index, startFrame: shot.startFrame, endFrame: shot.endFrame };
    } else {
      open.lastShot = shot.index;
      open.endFrame = shot.endFrame;
    }
    if (open.endFrame - open.startFrame >= minFrames) {
      chunks.push(open);
      open = undefined;
    }
  }
  if (open) {
    const last = chunks[chunks.length - 1];
    if (last) {
      last.lastShot = open.lastShot;
      last.endFrame = open.endFrame;
    } else chunks.push(open);
  }
  return chunks;
}

export function shotSelection(chunk: Chunk): string {
  return chunk.firstShot === chunk.lastShot ? String(chunk.firstShot) : `${chunk.firstShot}-${chunk.lastShot}`;
}

export function chunkFileName(chunk: Chunk, extension: string): string {
  return `chunk-${String(chunk.index).padStart(4, '0')}${extension}`;
}
