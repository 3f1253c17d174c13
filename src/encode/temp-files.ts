import { unlinkSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

const live = new Set<string>();
let exitHookInstalled = false;

/** A hidden temporary name beside `finalPath`, keeping its extension so ffmpeg picks the right muxer. */
export function temporaryPathFor(finalPath: string): string {
  const ext = extname(finalPath);
  const stem = basename(finalPath, ext);
  return join(dirname(finalPath), `.${stem}.partial-${process.pid}-${randomBytes(3).toString('hex')}${ext}`);
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
