import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { UserError } from '../decode/errors.js';

export type DeviceRequest = 'auto' | 'cpu' | 'webgpu' | 'cuda';
export type Device = Exclude<DeviceRequest, 'auto'>;

export const DEVICE_CHOICES: readonly DeviceRequest[] = ['auto', 'cpu', 'webgpu', 'cuda'];

export interface OpenedSessions {
  device: Device;
  sessions: ort.InferenceSession[];
  /** Seconds spent deciding on the device (checks and failed tries before the one that loaded). */
  selectSeconds: number;
  /** Seconds spent creating the sessions on the chosen device (model load). */
  loadSeconds: number;
}

/** The graphs to open, one session each: `files` on any device, `cpuFiles` instead on the CPU when given (e.g. an int8 variant). */
export interface ModelFiles {
  files: string[];
  cpuFiles?: string[];
}

export interface SessionSettings {
  /** onnxruntime intra-op threads on the CPU device; default from the core count (cpuInferenceThreads). */
  intraOpThreads?: number;
  /** Copies of the sessions on the CPU device, each on its own worker thread (default 1; colorizeVideo chooses with cpuInferenceWorkers). */
  workers?: number;
  /** false: the float graphs on the CPU too, even where the model has a CPU variant (`cpuFiles`). */
  cpuVariant?: boolean;
}

/**
 * Intra-op threads for CPU inference. Measured on 2 shared cores (README, Performance): a second
 * thread gained no wall time and cost ~20% more CPU, which the other stages (decode, compose,
 * temporal, the encoder) need; on larger machines half the cores go to inference.
 */
export function cpuInferenceThreads(cores = availableParallelism()): number {
  return cores <= 2 ? 1 : Math.floor(cores / 2);
}

/**
 * Session copies for CPU inference for a render that runs the network on every `inferEvery`th
 * frame. Measured on 2 cores (README, Performance): with the network on every frame, two
 * single-threaded copies running batches side by side took 7% less wall time at 480p; on every
 * other frame (the default), a second copy only competes with the other stages, and one copy took
 * 5–6% less wall time and 8–10% less CPU. Above 2 cores, one copy with cpuInferenceThreads threads.
 */
export function cpuInferenceWorkers(inferEvery: number, cores = availableParallelism()): number {
  return cores <= 2 && inferEvery === 1 ? 2 : 1;
}

/** The graphs a device runs: the CPU variant on the CPU when the model has one and the settings allow it, else `files`. */
export function sessionFiles(device: Device, model: ModelFiles, settings: SessionSettings = {}): string[] {
  return device === 'cpu' && model.cpuFiles && settings.cpuVariant !== false ? model.cpuFiles : model.files;
}

/**
 * Opens one session per model file on the requested device. `auto` tries cuda, then webgpu,
 * then cpu, and keeps the first under which every model loads.
 */
export async function openSessions(model: ModelFiles, request: DeviceRequest, settings: SessionSettings = {}): Promise<OpenedSessions> {
  const started = performance.now();
  const candidates: Device[] = request === 'auto' ? ['cuda', 'webgpu', 'cpu'] : [request];
  const failures: string[] = [];
  // Failures are reported in our own words; onnxruntime's native log would only repeat them.
  ort.env.logLevel = 'fatal';
  for (const device of candidates) {
    const missing = missingRuntime(device) ?? missingGpu(device);
    if (missing) {
      failures.push(`${device}: ${missing}`);
      continue;
    }
    const tryStarted = performance.now();
    try {
      const sessions: ort.InferenceSession[] = [];
      for (const file of sessionFiles(device, model, settings)) sessions.push(await ort.InferenceSession.create(file, sessionOptions(device, settings)));
      const loaded = performance.now();
      return { device, sessions, selectSeconds: (tryStarted - started) / 1000, loadSeconds: (loaded - tryStarted) / 1000 };
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      if (isModelFileProblem(reason)) throw new UserError(`model could not be loaded: ${shorten(reason)}`);
      failures.push(`${device}: ${shorten(reason)}`);
    }
  }
  throw new UserError(`device ${request} is unavailable (${failures.join('; ')})`);
}

/**
 * Cheap checks before trying providers that cannot load here (a failed try costs time and prints
 * native warnings): CUDA needs onnxruntime's CUDA provider library beside the binding, WebGPU
 * needs a Vulkan loader.
 */
function missingRuntime(device: Device): string | undefined {
  if (process.platform !== 'linux') return undefined;
  if (device === 'cuda') {
    const binding = createRequire(import.meta.url).resolve('onnxruntime-node');
    const libDir = join(dirname(binding), '..', 'bin', 'napi-v6', process.platform, process.arch);
    if (!existsSync(join(libDir, 'libonnxruntime_providers_cuda.so'))) {
      return "onnxruntime-node's CUDA provider is not installed (it is downloaded at install time, which package.json's allowScripts skips; see README)";
    }
  }
  if (device === 'webgpu') {
    const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/usr/local/lib'];
    if (!dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')))) return 'no Vulkan loader (libvulkan.so.1) found';
  }
  return undefined;
}

/**
 * A GPU provider is only tried when the machine shows a GPU device node: with a Vulkan loader but
 * no GPU (a software rasteriser, or drivers for absent hardware) Dawn prints several lines of
 * native adapter warnings before failing, which would bury the one-line error.
 */
function missingGpu(device: Device): string | undefined {
  if (process.platform !== 'linux' || device === 'cpu') return undefined;
  const nodes = (dir: string, pattern: RegExp) => {
    try {
      return readdirSync(dir).some((name) => pattern.test(name));
    } catch {
      return false;
    }
  };
  if (nodes('/dev', /^(nvidia\d+|dxg)$/) || nodes('/dev/dri', /^renderD\d+$/)) return undefined;
  return 'no GPU device found (/dev/nvidia*, /dev/dri/renderD*)';
}

/**
 * Frames per inference batch when the caller names none. On the CPU (with the int8 variant) one
 * frame at a time costs less per frame than four (the activations stay in cache; README,
 * Performance); on a GPU a batch amortises each dispatch.
 */
export function defaultBatchSize(device: Device): number {
  return device === 'cpu' ? 1 : 4;
}

function sessionOptions(device: Device, settings: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [device],
    ...(device === 'cpu' ? { intraOpNumThreads: Math.max(1, settings.intraOpThreads ?? cpuInferenceThreads()) } : {}),
    graphOptimizationLevel: 'all',
    // Quiet: a provider that fails to load in `auto` is expected, not an error for the user.
    logSeverityLevel: 3,
  };
}

function isModelFileProblem(reason: string): boolean {
  return /protobuf|INVALID_PROTOBUF|INVALID_GRAPH|NO_SUCHFILE|Load model|No such file|model_path|Unsupported model IR/i.test(reason);
}

function shorten(text: string): string {
  let cleaned = text.replace(/^.*?\] ?/, '').replace(/\s+/g, ' ').trim();
  // onnxruntime's failed checks read "/onnxruntime_src/…cc:136 <function> <condition> was false. <message>"
  const check = /^\/\S+:\d+ .* was false\. (.+)$/.exec(cleaned);
  if (check) cleaned = check[1];
  return cleaned.length > 200 ? `${cleaned.slice(0, 197)}...` : cleaned;
}
