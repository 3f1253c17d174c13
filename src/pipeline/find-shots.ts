import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../decode/errors.js';
import type { VideoInfo } from '../decode/probe.js';
import { detectShots, type DetectShotsOptions, type Shot } from '../shots/index.js';
import type { FrameSegment } from './frame-range.js';

const CACHE_VERSION = 1;

export interface FindShotsOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Skip the cache (read and write). */
  noCache?: boolean;
  /** Hand every frame's view at this size to a consumer during the scan (see detectShots); the scan then always runs (its result is still cached). */
  views?: DetectShotsOptions['views'];
}

/**
 * Shot list of a frame range. Whole-film scans are cached by file identity (path, size, mtime),
 * so previewing shots of a long film after the first scan costs only the seek.
 */
export async function findShots(info: VideoInfo, range: FrameSegment, options: FindShotsOptions = {}): Promise<Shot[]> {
  const total = range.endFrame - range.startFrame;
  const cacheFile = options.noCache || process.env.COLORIZE_VIDEO_NO_CACHE ? undefined : await cachePath(info, range);
  if (cacheFile && !options.views) {
    const cached = await readCache(cacheFile);
    if (cached) return cached;
  }
  let shots: Shot[];
  try {
    shots = await detectShots(info.path, {
      fps: info.fps,
      durationSeconds: info.durationSeconds,
      frameCount: total,
      start: range.startFrame / info.fps,
      signal: options.signal,
      views: options.views,
      onProgress: (done) => options.onProgress?.(done, total),
    });
  } catch (error) {
    if (options.signal?.aborted) throw new UserError('interrupted');
    throw error instanceof UserError ? error : new UserError(`shot detection failed: ${(error as Error).message}`);
  }
  if (cacheFile) await writeCache(cacheFile, shots).catch(() => undefined);
  return shots;
}

export function cacheDir(): string {
  return process.env.COLORIZE_VIDEO_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'colorize-video');
}

async function cachePath(info: VideoInfo, range: FrameSegment): Promise<string | undefined> {
  const file = await stat(info.path).catch(() => undefined);
  if (!file) return undefined;
  const key = JSON.stringify([CACHE_VERSION, resolve(info.path), file.size, file.mtimeMs, range.startFrame, range.endFrame, info.fps]);
  return join(cacheDir(), `shots-${createHash('sha256').update(key).digest('hex').slice(0, 24)}.json`);
}

async function readCache(path: string): Promise<Shot[] | undefined> {
  try {
    const shots = JSON.parse(await readFile(path, 'utf8')) as Shot[];
    return Array.isArray(shots) && shots.length > 0 ? shots : undefined;
  } catch {
    return undefined;
  }
}

async function writeCache(path: string, shots: Shot[]): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(shots));
  await rename(temporary, path);
}
