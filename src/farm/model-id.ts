import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig } from '../infer/model-config.js';

/** Digest of a model's ONNX files and settings: the same on every machine holding the same model. */
export async function modelId(config: ModelConfig): Promise<string> {
  const hash = createHash('sha256');
  const { dir, ...described } = config;
  void dir;
  hash.update(JSON.stringify(described));
  for (const file of [config.global.file, config.local.file]) hash.update(await readFile(join(config.dir, file)));
  return hash.digest('hex').slice(0, 32);
}
