/**
 * A shot, as in docs/contracts.md: `startFrame` inclusive, `endFrame` exclusive,
 * times in seconds, `endTime` = start time of the next shot (or the end of the film).
 * `index` is the shot number shown to users: 0-based, in film order.
 */
export interface Shot {
  index: number;
  startFrame: number;
  endFrame: number;
  startTime: number;
  endTime: number;
}

export interface ShotsFromCutsOptions {
  /** Index of the first frame covered (when only part of a film was scanned). Default 0. */
  firstFrame?: number;
  /** End time of the last shot in seconds. Default: (firstFrame + frameCount) / fps. */
  endTime?: number;
}

/**
 * Turns cut frame indices into shots covering frames [firstFrame, firstFrame + frameCount).
 * Times are frame index / fps: a constant frame rate is assumed.
 */
export function shotsFromCuts(
  cuts: readonly number[],
  frameCount: number,
  fps: number,
  options: ShotsFromCutsOptions = {},
): Shot[] {
  const firstFrame = options.firstFrame ?? 0;
  if (!Number.isInteger(frameCount) || frameCount < 0) throw new Error(`invalid frame count ${frameCount}`);
  if (!(fps > 0) || !Number.isFinite(fps)) throw new Error(`invalid fps ${fps}`);
  if (!Number.isInteger(firstFrame) || firstFrame < 0) throw new Error(`invalid first frame ${firstFrame}`);
  if (frameCount === 0) return [];
  const endFrame = firstFrame + frameCount;
  const bounds = [firstFrame];
  for (const cut of cuts) {
    if (!Number.isInteger(cut) || cut <= bounds[bounds.length - 1] || cut >= endFrame) {
      throw new Error(`invalid cut at frame ${cut}: cuts must be increasing integers in ${firstFrame + 1}..${endFrame - 1}`);
    }
    bounds.push(cut);
  }
  bounds.push(endFrame);
  const shots: Shot[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    shots.push({
      index: i,
      startFrame: bounds[i],
      endFrame: bounds[i + 1],
      startTime: bounds[i] / fps,
      endTime: bounds[i + 1] / fps,
    });
  }
  if (options.endTime !== undefined) shots[shots.length - 1].endTime = options.endTime;
  return shots;
}

/**
 * Parses a user's shot list such as "3,5-7" into sorted unique shot indices.
 * Shot numbers are the 0-based `Shot.index`. Throws a one-line Error on malformed
 * input or a number outside 0..shotCount-1.
 */
export function parseShotSelection(text: string, shotCount: number): number[] {
  const selected = new Set<number>();
  const parts = text.split(',').map((part) => part.trim());
  if (parts.every((part) => part === '')) throw new Error('empty shot list: expected e.g. "3,5-7"');
  for (const part of parts) {
    const match = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!match) {
      throw new Error(`invalid shot list entry "${part}": expected a shot number or a range like "5-7"`);
    }
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) throw new Error(`invalid shot range "${part}": ${first} is after ${last}`);
    for (const shot of [first, last]) {
      if (shot >= shotCount) throw new Error(`shot ${shot} is out of range: ${describeShotCount(shotCount)}`);
    }
    for (let shot = first; shot <= last; shot++) selected.add(shot);
  }
  return [...selected].sort((a, b) => a - b);
}

function describeShotCount(shotCount: number): string {
  if (shotCount <= 0) return 'the film has no shots';
  if (shotCount === 1) return 'the film has 1 shot (0)';
  return `the film has ${shotCount} shots (0-${shotCount - 1})`;
}
