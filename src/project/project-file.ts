import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { UserError } from '../decode/errors.js';
import { srgbToLab } from '../color/lab.js';
import type { ColorHint } from '../infer/hints.js';

/**
 * The project file `<film stem>.colorize.json` beside a film: the per-shot choices made in the
 * review room (or by hand), taken by `colorize-video --settings`, `batch` and the render farm.
 *
 *     { "version": 1, "film": "reel.mp4",
 *       "shots": { "3": { "reference": "refs/beach.jpg", "intensity": 1.3, "temporalStrength": 0.5 } } }
 *
 * Shot numbers are those `colorize-video shots` prints. Reference paths are relative to the
 * project file's folder (absolute ones are kept).
 */
export const PROJECT_VERSION = 1;
export const PROJECT_SUFFIX = '.colorize.json';

export const INTENSITY_RANGE = [0, 3] as const;

/** A color hint of the project file: a point of one film frame and the color it should have. */
export interface FrameHint extends ColorHint {
  /** Film frame number the hint was given on (it applies to that frame). */
  frame: number;
}

/** Settings of one shot; everything optional (absent = the film's settings). */
export interface ShotSettings {
  /** Reference image (absolute path once loaded): its colors are imposed on the shot. */
  reference?: string;
  /** How far the shot's colors move to the reference's palette, 0..1 (default 1). */
  referenceStrength?: number;
  /** Color intensity: a gain on a*b* (0 = gray, 1 = as predicted). */
  intensity?: number;
  /** Temporal smoothing strength of this shot, 0..1 (0 = off). */
  temporalStrength?: number;
  hints?: FrameHint[];
}

export type ShotSettingsMap = Record<string, ShotSettings>;

export interface Project {
  version: typeof PROJECT_VERSION;
  /** Name of the film the file belongs to (informative). */
  film?: string;
  shots: ShotSettingsMap;
}

/** `reel.mp4` → `reel.colorize.json` beside it. */
export function projectPathFor(film: string): string {
  return join(dirname(film), `${basename(film, extname(film))}${PROJECT_SUFFIX}`);
}

/** Reads and validates a project file; reference paths come back absolute. */
export async function readProjectFile(path: string): Promise<Project> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`settings file ${path} could not be read${code === 'ENOENT' ? ': no such file' : `: ${code ?? (error as Error).message}`}`, 2);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UserError(`settings file ${path} is not valid JSON: ${(error as Error).message.split('\n')[0]}`, 2);
  }
  return parseProject(raw, { source: path, baseDir: dirname(resolve(path)) });
}

/** Writes a project atomically (temporary file, then rename); reference paths are stored relative to the file. */
export async function writeProjectFile(path: string, project: Project): Promise<void> {
  const base = dirname(resolve(path));
  const shots: ShotSettingsMap = {};
  for (const [shot, settings] of Object.entries(project.shots)) {
    const stored = { ...settings };
    if (stored.reference && isAbsolute(stored.reference)) stored.reference = relative(base, stored.reference).split('\\').join('/');
    shots[shot] = stored;
  }
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(temporary, `${JSON.stringify({ version: PROJECT_VERSION, film: project.film, shots }, null, 2)}\n`);
  await rename(temporary, path);
}

export interface ParseOptions {
  /** Named in error messages. */
  source: string;
  /** Folder relative reference paths are resolved against. */
  baseDir: string;
}

/** Validates a parsed project; every problem is a one-line usage error naming the field. */
export function parseProject(raw: unknown, options: ParseOptions): Project {
  const bad = (what: string) => new UserError(`settings file ${options.source}: ${what}`, 2);
  const root = record(raw, () => bad('must be a JSON object'));
  onlyKeys(root, ['version', 'film', 'shots'], '', bad);
  if (root.version !== PROJECT_VERSION) throw bad(`"version" must be ${PROJECT_VERSION} (found ${JSON.stringify(root.version)})`);
  if (root.film !== undefined && typeof root.film !== 'string') throw bad('"film" must be a string');
  const shotsRaw = record(root.shots ?? {}, () => bad('"shots" must be an object of shot number → settings'));
  const shots: ShotSettingsMap = {};
  for (const [key, value] of Object.entries(shotsRaw)) {
    if (!/^(0|[1-9]\d*)$/.test(key)) throw bad(`shot "${key}" is not a shot number`);
    shots[key] = parseShotSettings(value, `shots.${key}`, options.baseDir, bad);
  }
  return { version: PROJECT_VERSION, film: root.film as string | undefined, shots };
}

/** Validates one shot's settings (also used by the review server for what a page sends). */
export function parseShotSettings(raw: unknown, where: string, baseDir: string, bad: (what: string) => Error): ShotSettings {
  const entry = record(raw, () => bad(`"${where}" must be an object`));
  onlyKeys(entry, ['reference', 'referenceStrength', 'intensity', 'temporalStrength', 'hints'], `${where}.`, bad);
  const settings: ShotSettings = {};
  if (entry.reference !== undefined) {
    if (typeof entry.reference !== 'string' || entry.reference === '') throw bad(`"${where}.reference" must be an image path`);
    settings.reference = resolve(baseDir, entry.reference);
  }
  const number = (key: 'referenceStrength' | 'intensity' | 'temporalStrength', min: number, max: number) => {
    const value = entry[key];
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) throw bad(`"${where}.${key}" must be a number from ${min} to ${max}`);
    settings[key] = value;
  };
  number('referenceStrength', 0, 1);
  number('intensity', INTENSITY_RANGE[0], INTENSITY_RANGE[1]);
  number('temporalStrength', 0, 1);
  if (entry.hints !== undefined) {
    if (!Array.isArray(entry.hints)) throw bad(`"${where}.hints" must be a list`);
    settings.hints = entry.hints.map((hint, i) => parseHint(hint, `${where}.hints[${i}]`, bad));
  }
  return settings;
}

function parseHint(raw: unknown, where: string, bad: (what: string) => Error): FrameHint {
  const hint = record(raw, () => bad(`"${where}" must be an object`));
  onlyKeys(hint, ['frame', 'x', 'y', 'a', 'b', 'color'], `${where}.`, bad);
  if (!Number.isInteger(hint.frame) || (hint.frame as number) < 0) throw bad(`"${where}.frame" must be a frame number`);
  for (const key of ['x', 'y'] as const) {
    const v = hint[key];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw bad(`"${where}.${key}" must be a number from 0 to 1`);
  }
  let a: number;
  let b: number;
  if (hint.color !== undefined) {
    if (hint.a !== undefined || hint.b !== undefined) throw bad(`"${where}" takes either "color" or "a" and "b", not both`);
    const match = typeof hint.color === 'string' ? /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hint.color) : null;
    if (!match) throw bad(`"${where}.color" must be an sRGB color like "#a0522d"`);
    const [, A, B] = srgbToLab(parseInt(match[1], 16) / 255, parseInt(match[2], 16) / 255, parseInt(match[3], 16) / 255);
    a = A;
    b = B;
  } else {
    for (const key of ['a', 'b'] as const) {
      const v = hint[key];
      if (typeof v !== 'number' || !(v >= -128 && v <= 127)) throw bad(`"${where}.${key}" must be a Lab ${key}* value from -128 to 127 (or give "color")`);
    }
    a = hint.a as number;
    b = hint.b as number;
  }
  return { frame: hint.frame as number, x: hint.x as number, y: hint.y as number, a, b };
}

function record(value: unknown, error: () => Error): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw error();
  return value as Record<string, unknown>;
}

function onlyKeys(value: Record<string, unknown>, allowed: string[], prefix: string, bad: (what: string) => Error): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw bad(`unknown setting "${prefix}${key}" (known: ${allowed.join(', ')})`);
  }
}

/**
 * The shot settings a film of a batch gets: those of the settings file given (`batch --settings`),
 * else those of the project file beside the film (`<stem>.colorize.json`) when there is one.
 * They come back as `shotSettings` (an object), so that they are part of what a resumed render compares.
 */
export async function shotSettingsForFilm<T extends { settingsFile?: string; shotSettings?: ShotSettingsMap }>(settings: T, film: string): Promise<T> {
  const file = settings.settingsFile ?? projectPathFor(film);
  const exists = settings.settingsFile !== undefined || (await stat(file).catch(() => undefined))?.isFile();
  if (!exists) return settings;
  const project = await readProjectFile(file);
  return { ...settings, settingsFile: undefined, shotSettings: { ...project.shots, ...settings.shotSettings } };
}
