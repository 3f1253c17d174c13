import { unlinkSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

const live = new Set<string>();
let exitHookInstalled = false;

/** Fixed part of every temporary name: only names carrying it are ever removed as stale. */
export const PARTIAL_MARKER = 'partial-colorize';

/** Host part of a temporary name (a folder may be shared by machines, whose process ids say nothing here). */
function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9]/g, '').slice(0, 32) || 'host';
}

/**
 * A hidden temporary name beside `finalPath`, keeping its extension so ffmpeg picks the right
 * muxer: `.<stem>.partial-colorize-<host>-<pid>-<random><ext>`. The host and process id let a
 * later run tell a leftover of a killed run from a file another run is still writing.
 */
export function temporaryPathFor(finalPath: string): string {
  const ext = extname(finalPath);
  const stem = basename(finalPath, ext);
  return join(dirname(finalPath), `.${stem}.${PARTIAL_MARKER}-${hostTag()}-${process.pid}-${randomBytes(3).toString('hex')}${ext}`);
}

interface PartialName {
  stem: string;
  host: string;
  pid: number;
}

export function parsePartialName(name: string): PartialName | undefined {
  const match = new RegExp(`^\\.(.*)\\.${PARTIAL_MARKER}-([A-Za-z0-9]+)-(\\d+)-[0-9a-f]{6}(\\.[^.]*)?$`).exec(name);
  if (!match) return undefined;
  return { stem: match[1], host: match[2], pid: Number(match[3]) };
}

/**
 * Removes temporaries in `folder` left by runs that no longer exist (kill -9, power loss): only
 * names of our own pattern, written on this host, by a process id that is not running. With
 * `stem`, only those of that output name. Returns the names removed.
 */
export async function removeStaleTemporaries(folder: string, stem?: string): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names) {
    const parsed = parsePartialName(name);
    if (!parsed || (stem !== undefined && parsed.stem !== stem)) continue;
    if (parsed.host !== hostTag() || parsed.pid === process.pid || isAlive(parsed.pid)) continue;
    try {
      await unlink(join(folder, name));
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/** Whether a process of this id runs (one we may not signal counts as running). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remembers a temporary file so that it is removed even if the process exits without cleaning up. */
export function trackTemporary(path: string): void {
  live.add(path);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', removeAllTemporaries);
  }
}

export function untrackTemporary(path: string): void {
  live.delete(path);
}

export function removeTemporary(path: string): void {
  live.delete(path);
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

export function removeAllTemporaries(): void {
  for (const path of [...live]) removeTemporary(path);
}
