/**
 * TemporalWorker: runs a TemporalSmoother on a worker thread so the pipeline can await it
 * while the main thread keeps feeding the decoder and the inference session.
 * One worker per stream: the smoother is sequential within a shot.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerRequest, WorkerResponse } from './protocol.js';
import type { TemporalSmootherOptions } from './smoother.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Pending {
  resolve: (response: WorkerResponse) => void;
  reject: (error: Error) => void;
}

export class TemporalWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight = new Set<Promise<WorkerResponse>>();
  private nextId = 0;
  private failure: Error | undefined;

  private constructor() {
    this.worker = new Worker(workerEntryUrl());
    this.worker.on('message', (response: WorkerResponse) => this.settle(response));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`temporal worker exited (code ${code})`)));
    this.worker.unref();
  }

  static async create(width: number, height: number, options: TemporalSmootherOptions): Promise<TemporalWorker> {
    const handle = new TemporalWorker();
    try {
      await handle.request({ kind: 'init', width, height, options }, []);
    } catch (error) {
      await handle.worker.terminate();
      throw error;
    }
    return handle;
  }

  /**
   * Same contract as TemporalSmoother.process. The buffers of `luma` and `ab` are transferred
   * (zero-copy) when the arrays span their whole buffer, leaving them detached (length 0) here;
   * views into larger buffers are copied instead.
   */
  async process(luma: Float32Array, ab: Float32Array): Promise<Float32Array> {
    const lumaOwned = ownBuffer(luma);
    const abOwned = ownBuffer(ab);
    const transfer = lumaOwned.buffer === abOwned.buffer ? [lumaOwned.buffer] : [lumaOwned.buffer, abOwned.buffer];
    const response = await this.request({ kind: 'process', luma: lumaOwned, ab: abOwned }, transfer as ArrayBuffer[]);
    if (!response.ok || !response.ab) throw new Error('temporal worker returned no a*b*');
    return response.ab;
  }

  /** Shot cut; `strength` changes the smoothing strength from this shot on. */
  async reset(strength?: number): Promise<void> {
    await this.request({ kind: 'reset', strength }, []);
  }

  /** Waits for requests already sent, then stops the thread. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    this.failure ??= new Error('temporal worker closed');
    await this.worker.terminate();
  }

  private request(message: DistributiveOmit<WorkerRequest, 'id'>, transfer: ArrayBuffer[]): Promise<WorkerResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const answer = new Promise<WorkerResponse>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (response) => (response.ok ? resolve(response) : reject(new Error(response.error))),
        reject,
      });
      // Keep the process alive only while an answer is awaited, so a forgotten close() can't hang it.
      this.worker.ref();
      this.worker.postMessage({ ...message, id } as WorkerRequest, transfer);
    });
    const forget = (): void => void this.inFlight.delete(answer);
    this.inFlight.add(answer);
    answer.then(forget, forget);
    return answer;
  }

  private settle(response: WorkerResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.worker.unref();
    pending.resolve(response);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(error);
  }
}

function ownBuffer(array: Float32Array): Float32Array {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength && array.buffer instanceof ArrayBuffer
    ? array
    : array.slice();
}

/**
 * Compiled (dist/…/pool.js), the worker is the sibling worker.js. From TypeScript sources
 * (tsx, vitest) a worker thread can't load worker.ts by itself on Node 20, neither via execArgv
 * `--import tsx` nor by inheriting tsx's hooks, so a small .mjs entry registers tsx and imports it.
 */
function workerEntryUrl(): URL {
  const runningFromSource = import.meta.url.endsWith('.ts');
  return new URL(runningFromSource ? './worker-from-source.mjs' : './worker.js', import.meta.url);
}
