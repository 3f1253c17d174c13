import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../decode/errors.js';
import { type GraphFacts, graphFacts } from './model-integrity.js';

/** models/model.json: everything the pipeline needs to run a (re)trained model without code changes. */
export interface ModelConfig {
  name: string;
  version: number;
  /** Directory the ONNX files are resolved against. */
  dir: string;
  normalization: { center: number; scale: number };
  global: { file: string; input: string; output: string; size: number; features: number };
  local: {
    file: string;
    lightnessInput: string;
    globalInput: string;
    /** Optional colour-hint input [N, 3, H/outputStride, W/outputStride]: a*, b* (Lab units) and a 0/1 mask. */
    hintsInput?: string;
    output: string;
    multipleOf: number;
    outputStride: number;
    workingShortSide: number;
    /** A variant of the local network for the CPU provider (model.json `local.cpu.file`, e.g. int8), same inputs and output. */
    cpuFile?: string;
  };
  abScale: number;
  /** Each graph's recorded size and SHA-256 (models/model.json's global/local "bytes", "sha256"), checked on load. */
  integrity: { global: GraphFacts; local: GraphFacts; localCpu?: GraphFacts };
}

export async function loadModelConfig(modelPath: string): Promise<ModelConfig> {
  const file = modelPath.endsWith('.json') ? resolve(modelPath) : join(resolve(modelPath), 'model.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`model not found: ${file}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UserError(`model description is not valid JSON: ${file}`);
  }
  return parseModelConfig(raw, dirname(file), file);
}

export function parseModelConfig(raw: unknown, dir: string, source = 'model.json'): ModelConfig {
  const bad = (what: string) => new UserError(`model description ${source} is invalid: ${what}`);
  const root = asRecord(raw, bad('not an object'));
  const global = asRecord(root.global, bad('missing "global"'));
  const local = asRecord(root.local, bad('missing "local"'));
  const localInputs = asRecord(local.inputs, bad('missing "local.inputs"'));
  const localCpu = local.cpu === undefined ? undefined : asRecord(local.cpu, bad('"local.cpu" must be an object'));
  const input = asRecord(root.input ?? {}, bad('"input" must be an object'));
  const lightness = asRecord(input.L ?? { center: 50, scale: 100 }, bad('"input.L" must be an object'));
  const output = asRecord(root.output ?? {}, bad('"output" must be an object'));
  const ab = asRecord(output.ab ?? { scale: 1 }, bad('"output.ab" must be an object'));
  const config: ModelConfig = {
    name: str(root.name ?? 'unnamed', 'name'),
    version: num(root.version ?? 1, 'version'),
    dir,
    normalization: { center: num(lightness.center, 'input.L.center'), scale: num(lightness.scale, 'input.L.scale') },
    global: {
      file: str(global.file, 'global.file'),
      input: str(global.input, 'global.input'),
      output: str(global.output, 'global.output'),
      size: num(global.size, 'global.size'),
      features: num(global.features, 'global.features'),
    },
    local: {
      file: str(local.file, 'local.file'),
      lightnessInput: str(localInputs.L, 'local.inputs.L'),
      globalInput: str(localInputs.global, 'local.inputs.global'),
      hintsInput: localInputs.hints === undefined ? undefined : str(localInputs.hints, 'local.inputs.hints'),
      output: str(local.output, 'local.output'),
      multipleOf: num(local.multipleOf ?? 8, 'local.multipleOf'),
      outputStride: num(local.outputStride, 'local.outputStride'),
      workingShortSide: num(local.workingShortSide, 'local.workingShortSide'),
      cpuFile: localCpu && str(localCpu.file, 'local.cpu.file'),
    },
    abScale: num(ab.scale, 'output.ab.scale'),
    integrity: {
      global: graphFacts(global, 'global', bad),
      local: graphFacts(local, 'local', bad),
      localCpu: localCpu && graphFacts(localCpu, 'local.cpu', bad),
    },
  };
  if (config.normalization.scale === 0) throw bad('input.L.scale must not be 0');
  for (const [name, value] of [
    ['global.size', config.global.size],
    ['global.features', config.global.features],
    ['local.multipleOf', config.local.multipleOf],
    ['local.outputStride', config.local.outputStride],
    ['local.workingShortSide', config.local.workingShortSide],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0) throw bad(`${name} must be a positive integer`);
  }
  if (config.local.multipleOf % config.local.outputStride !== 0) throw bad('local.multipleOf must be a multiple of local.outputStride');
  return config;

  function str(value: unknown, name: string): string {
    if (typeof value !== 'string' || value === '') throw bad(`"${name}" must be a non-empty string`);
    return value;
  }
  function num(value: unknown, name: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(`"${name}" must be a number`);
    return value;
  }
}

function asRecord(value: unknown, error: Error): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw error;
  return value as Record<string, unknown>;
}
