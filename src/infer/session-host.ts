/**
 * SessionHost: the model's onnxruntime sessions on a worker thread of their own. onnxruntime-node
 * runs a session synchronously on the calling thread, so on the main thread every batch would stop
 * the pipeline's event loop for its whole run (about a quarter of a second for four frames on one
 * CPU core): no frames read from the decoder, none written to the encoder, no work handed to the
 * compose and temporal workers. Here the main thread keeps streaming while the network runs.
 */
import { Worker } from 'node:worker_threads';
import { UserError } from '../decode/errors.js';
import type { Device, DeviceRequest, SessionSettings } from './device.js';
import type { PlainTensor, SessionRequest, SessionResponse } from './session-protocol.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface OpenedHost {
  host: SessionHost;
  device: Device;
  selectSeconds: number;
  loadSeconds: number;
}

export class SessionHost {
  /** Input and output tensor names of each session, in the order of the files opened. */
  inputNames: string[][] = [];
  outputNames: string[][] = [];
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: SessionResponse & { ok: true }) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;

  private constructor() {
    this.worker = new Worker(workerEntryUrl());
    this.worker.on('message', (response: SessionResponse) => this.settle(response));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`inference worker exited (code ${code})`)));
    this.worker.unref();
  }

  /** Starts the worker and opens one session per file there (device choice as in openSessions). */
  static async open(files: string[], device: DeviceRequest, settings: SessionSettings): Promise<OpenedHost> {
    const host = new SessionHost();
    try {
      const { opened } = await host.request({ kind: 'open', files, device, settings }, []);
      if (!opened) throw new Error('inference worker opened no sessions');
      host.inputNames = opened.inputNames;
      host.outputNames = opened.outputNames;
      return { host, device: opened.device, selectSeconds: opened.selectSeconds, loadSeconds: opened.loadSeconds };
    } catch (error) {
      await host.worker.terminate();
      throw error;
    }
  }

  /**
   * Runs session `index` on float32 feeds. The feeds' buffers are transferred to the worker (the
   * arrays are left empty here), so pass arrays that own their buffers.
   */
  async run(index: number, feeds: Record<string, PlainTensor>): Promise<Record<string, PlainTensor | { type: string; dims: number[] }>> {
    const transfer = [...new Set(Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer))];
    const { outputs } = await this.request({ kind: 'run', session: index, feeds }, transfer);
    if (!outputs) throw new Error('inference worker returned no outputs');
    return outputs;
  }

  async release(): Promise<void> {
    this.failure ??= new Error('inference worker released');
    await this.worker.terminate();
  }

  private request(message: DistributiveOmit<SessionRequest, 'id'>, transfer: ArrayBuffer[]): Promise<SessionResponse & { ok: true }> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keep the process alive only while an answer is awaited, so a forgotten release() can't hang it.
      this.worker.ref();
      this.worker.postMessage({ ...message, id } as SessionRequest, transfer);
    });
  }

  private settle(response: SessionResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.worker.unref();
    if (response.ok) pending.resolve(response);
    else pending.reject(response.userError ? new UserError(response.error) : new Error(response.error));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(error);
  }
}

/** Compiled, the worker is the sibling session-worker.js; from TypeScript sources a small .mjs registers tsx first (see temporal/pool.ts). */
function workerEntryUrl(): URL {
  const runningFromSource = import.meta.url.endsWith('.ts');
  return new URL(runningFromSource ? './session-worker-from-source.mjs' : './session-worker.js', import.meta.url);
}
