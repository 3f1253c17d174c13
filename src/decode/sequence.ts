import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { UserError } from './errors.js';
import { imageSize } from './image-size.js';

/** Extensions read as numbered image sequences (scans). */
export const SEQUENCE_EXTENSIONS = ['.dpx', '.tif', '.tiff', '.png', '.jpg', '.jpeg', '.bmp'];

/** Frame rate of a sequence when none is given: sound film. */
export const DEFAULT_SEQUENCE_FPS = 24;

export interface ImageSequence {
  /** printf pattern of the frame files, absolute (…/scan_%06d.dpx). */
  pattern: string;
  /** Number of the first frame file, and how many there are (numbered without gaps). */
  start: number;
  count: number;
  /** Digits of the zero-padded number (0 when not padded). */
  digits: number;
  firstFile: string;
}

const demuxerArgs = new Map<string, string[]>();

/** Whether a path names a sequence by a printf pattern (frame_%06d.tif). */
export function isSequencePattern(path: string): boolean {
  return /%0?\d*d/.test(basename(path));
}

/** ffmpeg input options registered for a sequence pattern by `findSequence` (none for plain files). */
export function sequenceInputArgs(path: string): string[] {
  return demuxerArgs.get(path) ?? [];
}

/** A numbered frame's file name: prefix, frame number, extension. */
export const NUMBERED_FRAME = /^(.*?)(\d+)(\.[A-Za-z0-9]+)$/;

/**
 * The image sequence named by `input` (a printf pattern or a folder of numbered frames), or
 * undefined when `input` is neither. Checks what would otherwise fail hours later: a gap in the
 * numbering (names the first missing number) and frames of different sizes (names the first odd one).
 */
export async function findSequence(input: string, fps = DEFAULT_SEQUENCE_FPS): Promise<ImageSequence | undefined> {
  let folder: string;
  let matcher: { prefix: string; ext: string; digits: number } | undefined;
  if (isSequencePattern(input)) {
    folder = resolve(dirname(input));
    const name = basename(input);
    const m = /^(.*?)%(0?)(\d*)d(.*)$/.exec(name)!;
    matcher = { prefix: m[1], ext: m[4], digits: m[2] ? Number(m[3]) : 0 };
  } else {
    const info = await stat(input).catch(() => undefined);
    if (!info?.isDirectory()) return undefined;
    folder = resolve(input);
  }
  const names = await readdir(folder).catch(() => {
    throw new UserError(`sequence folder not found: ${folder}`);
  });
  const groups = new Map<string, { prefix: string; ext: string; digits: number; numbers: Map<number, string> }>();
  for (const name of names) {
    const m = NUMBERED_FRAME.exec(name);
    if (!m) continue;
    const [, prefix, digitsText, ext] = m;
    if (matcher) {
      if (prefix !== matcher.prefix || ext !== matcher.ext) continue;
      if (matcher.digits > 0 ? digitsText.length !== matcher.digits : digitsText.length > 1 && digitsText.startsWith('0')) continue;
    } else if (!SEQUENCE_EXTENSIONS.includes(ext.toLowerCase())) {
      continue;
    }
    const padded = digitsText.length > 1 && digitsText.startsWith('0') ? digitsText.length : 0;
    const key = `${prefix}\u0000${ext}`;
    const group = groups.get(key) ?? { prefix, ext, digits: matcher?.digits ?? padded, numbers: new Map<number, string>() };
    if (!matcher) group.digits = Math.max(group.digits, padded);
    group.numbers.set(Number(digitsText), name);
    groups.set(key, group);
  }
  const candidates = [...groups.values()].filter((g) => g.numbers.size > 0);
  if (candidates.length === 0) {
    if (matcher) throw new UserError(`no frames match ${input}`);
    throw new UserError(`no numbered frames (${SEQUENCE_EXTENSIONS.join(', ')}) in ${input}`);
  }
  if (candidates.length > 1) {
    const listed = candidates.map((g) => `${g.prefix}#${g.ext}`).join(', ');
    throw new UserError(`${input} holds several sequences (${listed}): name one with a pattern like ${join(folder, `${candidates[0].prefix}%0${candidates[0].digits || 1}d${candidates[0].ext}`)}`, 2);
  }
  const group = candidates[0];
  const numbers = [...group.numbers.keys()].sort((a, b) => a - b);
  const start = numbers[0];
  for (let i = 0; i < numbers.length; i++) {
    if (numbers[i] !== start + i) throw new UserError(`sequence ${input} has a gap: frame number ${start + i} is missing`);
  }
  const pattern = join(folder, `${group.prefix}${group.digits > 0 ? `%0${group.digits}d` : '%d'}${group.ext}`);
  await assertSameSize(folder, numbers.map((n) => group.numbers.get(n)!));
  demuxerArgs.set(pattern, ['-f', 'image2', '-framerate', String(fps), '-start_number', String(start)]);
  return { pattern, start, count: numbers.length, digits: group.digits, firstFile: join(folder, group.numbers.get(start)!) };
}

async function assertSameSize(folder: string, files: string[]): Promise<void> {
  let first: { width: number; height: number } | undefined;
  for (const file of files) {
    const size = await imageSize(join(folder, file)).catch(() => undefined);
    if (!size) continue;
    first ??= size;
    if (size.width !== first.width || size.height !== first.height) {
      throw new UserError(`sequence frame ${join(folder, file)} is ${size.width}x${size.height}, the frames before it are ${first.width}x${first.height}`);
    }
  }
}

/** Whether an output path asks for an image sequence (a printf pattern with an image extension). */
export function isSequenceOutput(path: string): boolean {
  return isSequencePattern(path) && SEQUENCE_EXTENSIONS.includes(extname(path).toLowerCase());
}

/** The file of frame number `n` of a printf pattern (`scan_%06d.dpx`, 7 → `scan_000007.dpx`). */
export function sequenceFramePath(pattern: string, n: number): string {
  return pattern.replace(/%(0?)(\d*)d/, (_, zero: string, width: string) => String(n).padStart(zero ? Number(width) : 0, '0'));
}
