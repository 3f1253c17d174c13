import { isAbsolute, relative, resolve, sep } from 'node:path';
import { UserError } from '../decode/errors.js';
import { VIDEO_CODECS, type VideoCodec } from '../encode/container.js';
import type { Chunk } from '../batch/chunks.js';
import type { Shot } from '../shots/index.js';
import { type ShotSettingsMap, parseShotSettings } from '../project/project-file.js';

export const JOB_DATA_VERSION = 1;

/** Render settings a film carries to the workers: a closed list, each checked. */
export interface FarmSettings {
  codec: VideoCodec;
  crf: number;
  preset: string;
  resolution: number | null;
  /** null: each worker picks its device's default. */
  batchSize: number | null;
  temporalStrength: number;
  sideBySide: boolean;
  samplesPerShot: number | null;
  /** Reference image for every shot, relative to the film's input root (workers read nothing outside it). */
  reference: string | null;
  referenceStrength: number | null;
  /** Per-shot settings (the film's project file), reference paths relative to the input root. */
  shotSettings: ShotSettingsMap | null;
}

/** Where a film lives: every path is a root plus a relative path that must stay inside it. */
export interface FilmPaths {
  /** Folder the input was found under (absolute). */
  inputRoot: string;
  /** The input, relative to inputRoot. */
  input: string;
  /** --out-dir (absolute). */
  outDir: string;
  /** The output, relative to outDir. */
  output: string;
  /** The film's chunk folder, relative to outDir. */
  workDir: string;
}

export interface ChunkJobData {
  v: number;
  filmId: string;
  generation: number;
  paths: FilmPaths;
  /** Chunk file name inside workDir. */
  file: string;
  chunk: Chunk;
  /** The shots the chunk's frames and warm-up touch (whole, for their global features). */
  shots: Shot[];
  settings: FarmSettings;
  /** Digest of the model files the film was planned with; a worker with another model refuses. */
  modelId: string;
}

export interface JoinJobData {
  v: number;
  filmId: string;
  generation: number;
  paths: FilmPaths;
  chunks: Array<{ file: string; frames: number }>;
  frames: number;
}

const SHA_LIKE = /^[0-9a-f]{16,64}$/;
const FILE_NAME = /^chunk-\d{4,}\.[a-z0-9]{2,5}$/;

/** Checks a chunk job's data from Redis: known fields only, sane values, paths inside their roots. */
export function parseChunkJob(data: unknown): ChunkJobData {
  const d = record(data, 'job data', ['v', 'filmId', 'generation', 'paths', 'file', 'chunk', 'shots', 'settings', 'modelId']);
  version(d.v);
  const chunk = record(d.chunk, 'chunk', ['index', 'firstShot', 'lastShot', 'startFrame', 'endFrame', 'warmupFrames']);
  const c: Chunk = {
    index: int(chunk.index, 'chunk.index'),
    firstShot: int(chunk.firstShot, 'chunk.firstShot'),
    lastShot: int(chunk.lastShot, 'chunk.lastShot'),
    startFrame: int(chunk.startFrame, 'chunk.startFrame'),
    endFrame: int(chunk.endFrame, 'chunk.endFrame'),
    warmupFrames: int(chunk.warmupFrames, 'chunk.warmupFrames'),
  };
  if (c.endFrame <= c.startFrame || c.warmupFrames > c.startFrame || c.lastShot < c.firstShot) bad('chunk frames');
  if (!Array.isArray(d.shots) || d.shots.length === 0 || d.shots.length > 100_000) bad('shots');
  const shots = (d.shots as unknown[]).map((s, i) => {
    const r = record(s, `shots[${i}]`, ['index', 'startFrame', 'endFrame', 'startTime', 'endTime']);
    const shot: Shot = {
      index: int(r.index, 'shot.index'),
      startFrame: int(r.startFrame, 'shot.startFrame'),
      endFrame: int(r.endFrame, 'shot.endFrame'),
      startTime: num(r.startTime, 'shot.startTime'),
      endTime: num(r.endTime, 'shot.endTime'),
    };
    if (shot.endFrame <= shot.startFrame) bad('shot frames');
    return shot;
  });
  return {
    v: JOB_DATA_VERSION,
    filmId: str(d.filmId, 'filmId', SHA_LIKE),
    generation: int(d.generation, 'generation'),
    paths: parsePaths(d.paths),
    file: str(d.file, 'file', FILE_NAME),
    chunk: c,
    shots,
    settings: parseSettings(d.settings),
    modelId: str(d.modelId, 'modelId', SHA_LIKE),
  };
}

export function parseJoinJob(data: unknown): JoinJobData {
  const d = record(data, 'job data', ['v', 'filmId', 'generation', 'paths', 'chunks', 'frames']);
  version(d.v);
  if (!Array.isArray(d.chunks) || d.chunks.length === 0 || d.chunks.length > 1_000_000) bad('chunks');
  return {
    v: JOB_DATA_VERSION,
    filmId: str(d.filmId, 'filmId', SHA_LIKE),
    generation: int(d.generation, 'generation'),
    paths: parsePaths(d.paths),
    chunks: (d.chunks as unknown[]).map((c, i) => {
      const r = record(c, `chunks[${i}]`, ['file', 'frames']);
      return { file: str(r.file, 'chunks.file', FILE_NAME), frames: int(r.frames, 'chunks.frames') };
    }),
    frames: int(d.frames, 'frames'),
  };
}

function parsePaths(value: unknown): FilmPaths {
  const p = record(value, 'paths', ['inputRoot', 'input', 'outDir', 'output', 'workDir']);
  const paths: FilmPaths = {
    inputRoot: str(p.inputRoot, 'paths.inputRoot'),
    input: str(p.input, 'paths.input'),
    outDir: str(p.outDir, 'paths.outDir'),
    output: str(p.output, 'paths.output'),
    workDir: str(p.workDir, 'paths.workDir'),
  };
  if (!isAbsolute(paths.inputRoot) || !isAbsolute(paths.outDir)) bad('roots must be absolute paths');
  inside(paths.inputRoot, paths.input, 'input');
  inside(paths.outDir, paths.output, 'output');
  inside(paths.outDir, paths.workDir, 'work folder');
  return paths;
}

export function parseSettings(value: unknown): FarmSettings {
  const s = record(value, 'settings', [
    'codec', 'crf', 'preset', 'resolution', 'batchSize', 'temporalStrength', 'sideBySide', 'samplesPerShot', 'reference', 'referenceStrength', 'shotSettings',
  ]);
  const codec = str(s.codec, 'settings.codec');
  if (!(VIDEO_CODECS as readonly string[]).includes(codec)) bad('settings.codec');
  const crf = int(s.crf, 'settings.crf');
  if (crf > 51) bad('settings.crf');
  const resolution = s.resolution === null ? null : int(s.resolution, 'settings.resolution');
  if (resolution !== null && (resolution < 16 || resolution > 4096)) bad('settings.resolution');
  const batchSize = s.batchSize === null ? null : int(s.batchSize, 'settings.batchSize');
  if (batchSize !== null && (batchSize < 1 || batchSize > 256)) bad('settings.batchSize');
  const temporalStrength = num(s.temporalStrength, 'settings.temporalStrength');
  if (temporalStrength < 0 || temporalStrength > 1) bad('settings.temporalStrength');
  if (typeof s.sideBySide !== 'boolean') bad('settings.sideBySide');
  const samplesPerShot = s.samplesPerShot === null ? null : int(s.samplesPerShot, 'settings.samplesPerShot');
  if (samplesPerShot !== null && (samplesPerShot < 1 || samplesPerShot > 64)) bad('settings.samplesPerShot');
  const reference = s.reference === null ? null : relativeReference(s.reference, 'settings.reference');
  const referenceStrength = s.referenceStrength === null ? null : num(s.referenceStrength, 'settings.referenceStrength');
  if (referenceStrength !== null && (referenceStrength < 0 || referenceStrength > 1)) bad('settings.referenceStrength');
  return {
    codec: codec as VideoCodec,
    crf,
    preset: str(s.preset, 'settings.preset', /^[a-z]{1,16}$/),
    resolution,
    batchSize,
    temporalStrength,
    sideBySide: s.sideBySide as boolean,
    samplesPerShot,
    reference,
    referenceStrength,
    shotSettings: s.shotSettings === null ? null : parseFarmShotSettings(s.shotSettings),
  };
}

/** Per-shot settings as the project file holds them (same checks), with reference paths kept relative to the input root. */
function parseFarmShotSettings(value: unknown): ShotSettingsMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('settings.shotSettings must be an object');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 100_000) bad('settings.shotSettings');
  const shots: ShotSettingsMap = {};
  for (const [key, raw] of entries) {
    if (!/^(0|[1-9]\d{0,8})$/.test(key)) bad(`settings.shotSettings: shot "${key}" is not a shot number`);
    const where = `settings.shotSettings.${key}`;
    const parsed = parseShotSettings(raw, where, REFERENCE_ROOT, (what) => new UserError(`invalid farm job: ${what}`));
    if (parsed.reference !== undefined) parsed.reference = relativeReference((raw as { reference: unknown }).reference, `${where}.reference`);
    shots[key] = parsed;
  }
  return shots;
}

/** Stand-in root for the lexical check of a reference path (the real root is the film's input root). */
const REFERENCE_ROOT = '/input-root';

function relativeReference(value: unknown, what: string): string {
  const path = str(value, what);
  inside(REFERENCE_ROOT, path, what);
  return path;
}

/** The absolute path of `rel` under `root`, or an error when it would leave the root. */
export function resolveInside(root: string, rel: string): string {
  inside(root, rel, 'path');
  return resolve(root, rel);
}

function inside(root: string, rel: string, what: string): void {
  if (rel === '' || isAbsolute(rel) || rel.includes('\0')) bad(`${what} must be a relative path`);
  if (!isStrictlyInside(root, resolve(root, rel))) bad(`${what} leaves its root folder`);
}

/** Whether `path` lies below `root` (the root itself does not). */
export function isStrictlyInside(root: string, path: string): boolean {
  const back = relative(root, path);
  return !(back === '' || back === '..' || back.startsWith(`..${sep}`) || isAbsolute(back));
}

function record(value: unknown, what: string, keys: string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(`${what} must be an object`);
  const extra = Object.keys(value as object).filter((k) => !keys.includes(k));
  if (extra.length > 0) bad(`${what} has unknown fields: ${extra.join(', ')}`);
  const missing = keys.filter((k) => !(k in (value as object)));
  if (missing.length > 0) bad(`${what} lacks ${missing.join(', ')}`);
  return value as Record<string, unknown>;
}

function version(v: unknown): void {
  if (v !== JOB_DATA_VERSION) bad(`version ${String(v)} (this worker reads ${JOB_DATA_VERSION})`);
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(what);
  return v as number;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(what);
  return v as number;
}

function str(v: unknown, what: string, pattern?: RegExp): string {
  if (typeof v !== 'string' || v.length > 4096 || (pattern && !pattern.test(v))) bad(what);
  return v as string;
}

function bad(what: string): never {
  throw new UserError(`invalid farm job: ${what}`);
}
