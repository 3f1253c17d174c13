import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (this file is scripts/lib/paths.ts). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Derived outputs (ignored by git). */
export const OUT_DIR = resolve(PROJECT_ROOT, '.out');

/**
 * ../shared/datasets beside the project ($COLORIZE_VIDEO_DATASETS overrides it); read at run
 * time, never copied into the project.
 */
export const DATASETS_DIR = resolve(process.env.COLORIZE_VIDEO_DATASETS ?? resolve(PROJECT_ROOT, '../shared/datasets'));

/** An error the scripts print as one line (no stack) before exiting with status 1. */
export class ScriptError extends Error {}

/** Path of a folder under ../shared/datasets, or a one-line ScriptError saying what is missing. */
export function datasetDir(...parts: string[]): string {
  if (!isDir(DATASETS_DIR)) throw new ScriptError(`shared datasets not found at ${DATASETS_DIR} (expected ../shared/datasets beside the project, or set COLORIZE_VIDEO_DATASETS)`);
  const dir = resolve(DATASETS_DIR, ...parts);
  if (!isDir(dir)) throw new ScriptError(`dataset folder not found: ${dir}`);
  return dir;
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Runs a script's main: any failure is printed as one line on stderr, exit status 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${message.split('\n')[0]}`);
    process.exit(1);
  });
}
