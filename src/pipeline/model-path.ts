import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shipped models/ folder (or $COLORIZE_VIDEO_MODEL), found from this file whether run from src/ or dist/. */
export function defaultModelPath(): string {
  if (process.env.COLORIZE_VIDEO_MODEL) return process.env.COLORIZE_VIDEO_MODEL;
  return join(packageRoot(), 'models');
}

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the colorize-video package root');
    dir = parent;
  }
}
