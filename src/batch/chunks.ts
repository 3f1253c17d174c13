import type { Shot } from '../shots/index.js';

/**
 * A run of consecutive film frames rendered into one chunk file. Chunks end at cuts, except inside
 * a shot too long for one chunk: its pieces start with `warmupFrames` frames that only bring the
 * temporal stage into the state a single run would have there.
 */
export interface Chunk {
  index: number;
  /** First and last shot index (inclusive) with frames in the chunk. */
  firstShot: number;
  lastShot: number;
  startFrame: number;
  endFrame: number;
  /** Frames before `startFrame`, within its shot, rendered but not written (0 at a cut). */
  warmupFrames: number;
}

/** Warm-up before a piece that starts inside a shot: the temporal history weight is at most 0.95 per frame, so 0.95^50 ≈ 8% of the difference is left. */
export const DEFAULT_WARMUP_SECONDS = 2;

export interface ChunkPlanOptions {
  /** Chunks are about this long: whole shots are grouped to at least this, longer shots split. */
  chunkSeconds: number;
  warmupSeconds?: number;
}

/**
 * The one chunk plan of batch and farm. Consecutive whole shots are grouped until a chunk is at
 * least `chunkSeconds` long; a shot longer than twice that is split into pieces of at least
 * `chunkSeconds` (the first piece also takes the short shots before it); a short remainder at the
 * end joins the last chunk. Every chunk is at least that long unless the whole film is shorter.
 */
export function planChunks(shots: Shot[], fps: number, options: ChunkPlanOptions): Chunk[] {
  if (shots.length === 0) return [];
  const length = Math.max(1, Math.round(options.chunkSeconds * fps));
  const warmup = Math.max(0, Math.round((options.warmupSeconds ?? DEFAULT_WARMUP_SECONDS) * fps));
  const total = shots[shots.length - 1].endFrame;
  const starts: number[] = [shots[0].startFrame];
  let open = shots[0].startFrame;
  for (const shot of shots) {
    const frames = shot.endFrame - shot.startFrame;
    if (frames > 2 * length) {
      const pieces = Math.floor(frames / length);
      for (let k = 1; k < pieces; k++) starts.push(shot.startFrame + Math.round((k * frames) / pieces));
      starts.push(shot.endFrame);
      open = shot.endFrame;
    } else if (shot.endFrame - open >= length) {
      starts.push(shot.endFrame);
      open = shot.endFrame;
    }
  }
  if (open < total) {
    if (starts.length > 1) starts[starts.length - 1] = total;
    else starts.push(total);
  }
  const shotAt = (frame: number) => shots.find((s) => s.startFrame <= frame && frame < s.endFrame)!;
  const chunks: Chunk[] = [];
  for (let i = 0; i + 1 < starts.length; i++) {
    const startFrame = starts[i];
    const endFrame = starts[i + 1];
    const first = shotAt(startFrame);
    chunks.push({
      index: i,
      firstShot: first.index,
      lastShot: shotAt(endFrame - 1).index,
      startFrame,
      endFrame,
      warmupFrames: Math.min(warmup, startFrame - first.startFrame),
    });
  }
  return chunks;
}

/**
 * The chunk length for a film: a variable-frame-rate film is rendered whole (one chunk), because
 * only a whole-film render keeps its own frame times; pieces are found at the nominal rate.
 */
export function chunkSecondsFor(variableFrameRate: boolean, chunkSeconds: number): number {
  return variableFrameRate ? Number.POSITIVE_INFINITY : chunkSeconds;
}

/** The chunk's shots as `--shot` writes them (for messages; a piece of a shot names that shot). */
export function shotSelection(chunk: Chunk): string {
  return chunk.firstShot === chunk.lastShot ? String(chunk.firstShot) : `${chunk.firstShot}-${chunk.lastShot}`;
}

export function chunkFileName(chunk: Chunk, extension: string): string {
  return `chunk-${String(chunk.index).padStart(4, '0')}${extension}`;
}

/** The shots a chunk's render needs: those with frames in it or in its warm-up. */
export function shotsOfChunk(shots: Shot[], chunk: Chunk): Shot[] {
  const from = chunk.startFrame - chunk.warmupFrames;
  return shots.filter((s) => s.startFrame < chunk.endFrame && from < s.endFrame);
}
