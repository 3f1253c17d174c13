import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ChromaGeometry } from './compose.js';
import type { ComposeRequest, ComposeResponse } from './compose-worker.js';
import { ownBuffer, WorkerChannel, workerEntryUrl } from '../workers/channel.js';
import type { BufferPool } from '../workers/buffer-pool.js';

/** Chroma planes: bytes at 8 bits, 16-bit words at higher depths. */
export interface ChromaPlanes {
  cb: Uint8Array | Uint16Array;
  cr: Uint8Array | Uint16Array;
}

/**
 * Chroma composition on worker threads: every frame is independent, so frames are spread over
 * the workers (round robin) and several are composed at once while the main thread decodes and
 * feeds the model. Callers await results in frame order.
 */
export class ComposePool {
  private readonly channel: WorkerChannel<ComposeRequest, ComposeResponse>;
  private next = 0;
  /** Seconds the workers spent composing, summed over workers. */
  busySeconds = 0;

  private constructor(
    private readonly workers: Worker[],
    private readonly planeBytes: number,
    private readonly buffers?: BufferPool,
  ) {
    this.channel = new WorkerChannel(workers, 'compose worker');
  }

  /**
   * A pool of `size` workers (default: one per spare core, at most 6); `bits` above 8 composes
   * 16-bit words. With `buffers`, Cb/Cr planes are made in its buffers and each L* plane's buffer
   * goes back to it once composed: give a frame's Cb/Cr buffers back when they are written.
   */
  static async create(geometry: ChromaGeometry, size = defaultPoolSize(), bits = 8, buffers?: BufferPool): Promise<ComposePool> {
    const workers = Array.from({ length: Math.max(1, size) }, () => new Worker(workerEntryUrl(import.meta.url, 'compose-worker')));
    const pool = new ComposePool(workers, geometry.chromaWidth * geometry.chromaHeight * (bits > 8 ? 2 : 1), buffers);
    try {
      await Promise.all(workers.map((worker) => pool.channel.request(worker, { kind: 'init', geometry, bits })));
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
  async compose(lightness: Float32Array, gridLightness: Float32Array, ab: Float32Array): Promise<ChromaPlanes> {
    const worker = this.workers[this.next];
    this.next = (this.next + 1) % this.workers.length;
    const parts = [lightness, gridLightness, ab].map(ownBuffer);
    const transfer = parts.map((p) => p.buffer as ArrayBuffer);
    const spare = this.buffers && { cb: this.buffers.take(this.planeBytes), cr: this.buffers.take(this.planeBytes) };
    if (spare) transfer.push(spare.cb, spare.cr);
    const answer = await this.channel.request(worker, { kind: 'compose', lightness: parts[0], gridLightness: parts[1], ab: parts[2], spare }, transfer);
    this.busySeconds += answer.seconds ?? 0;
    if (answer.lightness) this.buffers?.give(answer.lightness);
    return { cb: answer.cb ?? new Uint8Array(0), cr: answer.cr ?? new Uint8Array(0) };
  }

  async close(): Promise<void> {
    await this.channel.close('compose pool closed');
  }
}

function defaultPoolSize(): number {
  return Math.min(6, Math.max(1, availableParallelism() - 1));
}
