import * as ort from 'onnxruntime-node';
import { UserError } from '../decode/errors.js';

export type DeviceRequest = 'auto' | 'cpu' | 'webgpu' | 'cuda';
export type Device = Exclude<DeviceRequest, 'auto'>;

export const DEVICE_CHOICES: readonly DeviceRequest[] = ['auto', 'cpu', 'webgpu', 'cuda'];

export interface OpenedSessions {
  device: Device;
  sessions: ort.InferenceSession[];
}

/**
 * Opens one session per model file on the requested device. `auto` tries cuda, then webgpu,
 * then cpu, and keeps the first under which every model loads.
 */
export async function openSessions(files: string[], request: DeviceRequest): Promise<OpenedSessions> {
  const candidates: Device[] = request === 'auto' ? ['cuda', 'webgpu', 'cpu'] : [request];
  const failures: string[] = [];
  for (const device of candidates) {
    try {
      const sessions: ort.InferenceSession[] = [];
      for (const file of files) sessions.push(await ort.InferenceSession.create(file, sessionOptions(device)));
      return { device, sessions };
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      if (isModelFileProblem(reason)) throw new UserError(`model could not be loaded: ${shorten(reason)}`);
      failures.push(`${device}: ${shorten(reason)}`);
    }
  }
  throw new UserError(`device ${request} is unavailable (${failures.join('; ')})`);
}

function sessionOptions(device: Device): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [device],
    graphOptimizationLevel: 'all',
    // Quiet: a provider that fails to load in `auto` is expected, not an error for the user.
    logSeverityLevel: 3,
  };
}

function isModelFileProblem(reason: string): boolean {
  return /protobuf|INVALID_PROTOBUF|INVALID_GRAPH|NO_SUCHFILE|Load model|No such file|model_path|Unsupported model IR/i.test(reason);
}

function shorten(text: string): string {
  const cleaned = text.replace(/^.*?\] ?/, '').replace(/\s+/g, ' ').trim();
  return cleaned.length > 200 ? `${cleaned.slice(0, 197)}...` : cleaned;
}
