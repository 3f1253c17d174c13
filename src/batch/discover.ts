import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { NUMBERED_FRAME, SEQUENCE_EXTENSIONS } from '../decode/sequence.js';

/** Extensions scanned for in folders when no --pattern is given (case-insensitive). */
export const VIDEO_EXTENSIONS: readonly string[] = [
  '.mp4', '.m4v', '.mov', '.mkv', '.avi', '.mpg', '.mpeg', '.m2v', '.ts', '.m2ts', '.mts',
  '.webm', '.wmv', '.flv', '.mxf', '.dv', '.ogv', '.3gp', '.vob',
];

/** One file of a batch: where it is, and the path its output mirrors (relative to --out-dir). */
export interface BatchInput {
  /** Absolute path of the input. */
  input: string;
  /** Relative path (with the input's own name) its output is placed under in the out-dir. */
  relative: string;
}

export interface DiscoverOptions {
  /** Glob on the file name (or on the path relative to the folder when it holds a "/"). */
  pattern?: string;
  /** Folders never scanned (the out-dir when it lies inside an input folder). */
  exclude?: string[];
}

/**
 * Expands files and folders into the list of files to process, in a stable order.
 * A file argument is taken as it is (whatever its name) and mirrored by its base name;
 * a folder is scanned recursively (hidden files and folders skipped, and without a pattern
 * also `*.color.*` files, outputs of earlier runs) and its files are
 * mirrored by their path relative to that folder. A folder of numbered image frames (a scan:
 * `reel1/scan_000001.dpx …`) is one film, given or found, and mirrored by its own name. Paths
 * that do not exist are returned as inputs too, so they are reported as failed rather than
 * silently dropped.
 */
export async function discoverInputs(paths: string[], options: DiscoverOptions = {}): Promise<BatchInput[]> {
  const matcher = options.pattern ? globMatcher(options.pattern) : undefined;
  const excluded = (options.exclude ?? []).map((p) => resolve(p));
  const found: BatchInput[] = [];
  const seen = new Set<string>();
  const add = (item: BatchInput) => {
    if (seen.has(item.input)) return;
    seen.add(item.input);
    found.push(item);
  };
  for (const path of paths) {
    const absolute = resolve(path);
    const info = await stat(absolute).catch(() => undefined);
    if (!info?.isDirectory() || (await holdsSequence(absolute))) {
      add({ input: absolute, relative: basename(absolute) });
      continue;
    }
    const found = await scanFolder(absolute, excluded);
    for (const { path: file, sequence } of found) {
      const rel = relative(absolute, file);
      const posixRel = rel.split(sep).join('/');
      const matches = matcher ? matcher(posixRel) : sequence || (VIDEO_EXTENSIONS.includes(extname(file).toLowerCase()) && !isOurOutput(file));
      if (matches) add({ input: file, relative: rel });
    }
  }
  return found;
}

/** `<name>.color.<ext>`: what a single run or a batch writes; not taken as input by default. */
function isOurOutput(file: string): boolean {
  return extname(basename(file, extname(file))) === '.color';
}

/** Files found under a folder, and folders that hold an image sequence (taken whole, not entered). */
async function scanFolder(folder: string, excluded: string[]): Promise<Array<{ path: string; sequence: boolean }>> {
  if (excluded.some((e) => folder === e || folder.startsWith(e + sep))) return [];
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const found: Array<{ path: string; sequence: boolean }> = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (excluded.some((e) => full === e || full.startsWith(e + sep))) continue;
      if (await holdsSequence(full)) found.push({ path: full, sequence: true });
      else found.push(...(await scanFolder(full, excluded)));
    } else if (entry.isFile()) found.push({ path: full, sequence: false });
    else if (entry.isSymbolicLink()) {
      const target = await stat(full).catch(() => undefined);
      if (target?.isFile()) found.push({ path: full, sequence: false });
    }
  }
  return found;
}

/** Whether a folder holds numbered image frames (at least two of one extension): a scan, one film. */
async function holdsSequence(folder: string): Promise<boolean> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const counts = new Map<string, number>();
  for (const name of names) {
    const ext = NUMBERED_FRAME.exec(name)?.[3];
    if (!ext || name.startsWith('.') || !SEQUENCE_EXTENSIONS.includes(ext.toLowerCase())) continue;
    const n = (counts.get(ext) ?? 0) + 1;
    if (n >= 2) return true;
    counts.set(ext, n);
  }
  return false;
}

/**
 * A matcher for a shell-style glob: `*`, `?`, `[abc]`, `{mp4,mov}`, and `**` for any folders.
 * A pattern without "/" is matched against the file name only. Case-insensitive.
 */
export function globMatcher(pattern: string): (relativePath: string) => boolean {
  const onName = !pattern.includes('/');
  const regex = new RegExp(`^${globToRegex(pattern)}$`, 'i');
  return (relativePath) => regex.test(onName ? relativePath.slice(relativePath.lastIndexOf('/') + 1) : relativePath);
}

function globToRegex(glob: string): string {
  let out = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          out += '(?:.*/)?';
        } else out += '.*';
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (c === '{') {
      braces++;
      out += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (c === ',' && braces > 0) out += '|';
    else out += c.replace(/[.+^$()|\\/]/g, (m) => `\\${m}`);
  }
  return out;
}

/** The output path of an input: `<out-dir>/<relative folder>/<name>.color<ext>`. */
export function mirroredOutputPath(outDir: string, relativePath: string, extension: string): string {
  const ext = extname(relativePath);
  return join(resolve(outDir), dirname(relativePath), `${basename(relativePath, ext)}.color${extension}`);
}
