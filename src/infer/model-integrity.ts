import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../decode/errors.js';
import type { ModelConfig } from './model-config.js';

/** Set to 1 to load graphs whose size or SHA-256 differs from model.json (models edited on purpose). */
export const SKIP_MODEL_CHECK_ENV = 'COLORIZE_VIDEO_SKIP_MODEL_CHECK';

/** What model.json records about one ONNX file (both optional: hand-made models may leave them out). */
export interface GraphFacts {
  bytes?: number;
  sha256?: string;
}

export function modelCheckSkipped(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[SKIP_MODEL_CHECK_ENV];
  return value !== undefined && value !== '' && value !== '0';
}

/**
 * Refuses graph files that differ from what model.json records (a damaged download or disk, a
 * half-copied folder): a damaged weight still loads in onnxruntime and quietly gives gray output.
 */
export async function verifyModelFiles(config: ModelConfig): Promise<void> {
  if (modelCheckSkipped()) return;
  const graphs: [string, GraphFacts][] = [
    [config.global.file, config.integrity.global],
    [config.local.file, config.integrity.local],
  ];
  if (config.local.cpuFile) graphs.push([config.local.cpuFile, config.integrity.localCpu ?? {}]);
  for (const [file, facts] of graphs) {
    const path = join(config.dir, file);
    const hint = `(model.json records its size and SHA-256; restore the file, or set ${SKIP_MODEL_CHECK_ENV}=1 if you changed it on purpose)`;
    if (facts.bytes !== undefined) {
      const { size } = await stat(path);
      if (size !== facts.bytes) throw new UserError(`model file ${path} is damaged or not the one described: ${size} bytes instead of ${facts.bytes} ${hint}`);
    }
    if (facts.sha256 !== undefined) {
      const digest = await sha256Of(path);
      if (digest !== facts.sha256.toLowerCase()) throw new UserError(`model file ${path} is damaged or not the one described: its SHA-256 differs ${hint}`);
    }
  }
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Parses a graph section's optional "bytes" and "sha256". */
export function graphFacts(section: Record<string, unknown>, name: string, bad: (what: string) => Error): GraphFacts {
  const facts: GraphFacts = {};
  if (section.bytes !== undefined) {
    if (typeof section.bytes !== 'number' || !Number.isInteger(section.bytes) || section.bytes < 0) throw bad(`"${name}.bytes" must be a whole number of bytes`);
    facts.bytes = section.bytes;
  }
  if (section.sha256 !== undefined) {
    if (typeof section.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(section.sha256)) throw bad(`"${name}.sha256" must be 64 hexadecimal digits`);
    facts.sha256 = section.sha256;
  }
  return facts;
}
