import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ChromaGeometry } from './compose.js';
import type { ComposeRequest, ComposeResponse } from './compose-worker.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Chroma planes: bytes at 8 bits, 16-bit words at higher depths. */
export interface ChromaPlanes {
  cb: Uint8Array | Uint16Array;
  cr: Uint8Array | Uint16Array;
}

interface Pending {
  resolve: (planes: ChromaPlanes) => void;
  reject: (error: Error) => void;
}

/**
 * Chroma composition on worker threads: every frame is independent, so frames are spread over
 * the workers (round robin) and several are composed at once while the main thread decodes and
 * feeds the model. Callers await results in frame order.
 */
export class ComposePool {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private next = 0;
  /** Seconds the workers spent composing, summed over workers. */
  busySeconds = 0;
  private failure: Error | undefined;

  private constructor(private readonly workers: Worker[]) {
    for (const worker of workers) {
      worker.on('message', (response: ComposeResponse) => this.settle(response));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => this.fail(new Error(`compose worker exited (code ${code})`)));
      worker.unref();
    }
  }

  /** A pool of `size` workers (default: one per spare core, at most 6); `bits` above 8 composes 16-bit words. */
  static async create(geometry: ChromaGeometry, size = defaultPoolSize(), bits = 8): Promise<ComposePool> {
    const workers = Array.from({ length: Math.max(1, size) }, () => new Worker(workerEntryUrl()));
    const pool = new ComposePool(workers);
    try {
      await Promise.all(workers.map((worker) => pool.request(worker, { kind: 'init', geometry, bits }, [])));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Cb/Cr planes for one frame. The arrays passed in are handed to the worker (left empty here). */
  compose(lightness: Float32Array, gridLightness: Float32Array, ab: Float32Array): Promise<ChromaPlanes> {
    const worker = this.workers[this.next];
    this.next = (this.next + 1) % this.workers.length;
    const parts = [lightness, gridLightness, ab].map(ownBuffer);
    return this.request(worker, { kind: 'compose', lightness: parts[0], gridLightness: parts[1], ab: parts[2] }, parts.map((p) => p.buffer as ArrayBuffer));
  }

  async close(): Promise<void> {
    this.failure ??= new Error('compose pool closed');
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private request(worker: Worker, message: DistributiveOmit<ComposeRequest, 'id'>, transfer: ArrayBuffer[]): Promise<ChromaPlanes> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...message, id } as ComposeRequest, transfer);
    });
  }

  private settle(response: ComposeResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) for (const worker of this.workers) worker.unref();
    if (response.ok) this.busySeconds += response.seconds ?? 0;
    if (response.ok) pending.resolve({ cb: response.cb ?? new Uint8Array(0), cr: response.cr ?? new Uint8Array(0) });
    else pending.reject(new Error(response.error));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(error);
  }
}

function defaultPoolSize(): number {
  return Math.min(6, Math.max(1, availableParallelism() - 1));
}

/** Views into a larger buffer are copied so that only our own bytes are transferred. */
function ownBuffer(array: Float32Array): Float32Array {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength && array.buffer instanceof ArrayBuffer ? array : array.slice();
}

/** Compiled, the worker is the sibling compose-worker.js; from TypeScript sources a small .mjs registers tsx first. */
function workerEntryUrl(): URL {
  const runningFromSource = import.meta.url.endsWith('.ts');
  return new URL(runningFromSource ? './compose-worker-from-source.mjs' : './compose-worker.js', import.meta.url);
}
