/**
 * TemporalWorker: runs a TemporalSmoother on a worker thread so the pipeline can await it
 * while the main thread keeps feeding the decoder and the inference session.
 * One worker per stream: the smoother is sequential within a shot.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerRequest, WorkerResponse } from './protocol.js';
import type { TemporalSmootherOptions } from './smoother.js';
import { type DistributiveOmit, ownBuffer, WorkerChannel, workerEntryUrl } from '../workers/channel.js';

export class TemporalWorker {
  private readonly worker: Worker;
  private readonly channel: WorkerChannel<WorkerRequest, WorkerResponse>;
  private readonly inFlight = new Set<Promise<unknown>>();

  private constructor() {
    this.worker = new Worker(workerEntryUrl(import.meta.url, 'worker'));
    this.channel = new WorkerChannel([this.worker], 'temporal worker');
  }

  static async create(width: number, height: number, options: TemporalSmootherOptions): Promise<TemporalWorker> {
    const handle = new TemporalWorker();
    try {
      await handle.request({ kind: 'init', width, height, options }, []);
    } catch (error) {
      await handle.channel.close('temporal worker failed to start');
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
    if (!response.ab) throw new Error('temporal worker returned no a*b*');
    return response.ab;
  }

  /** Same contract as TemporalSmoother.propagate; `luma` is transferred like in `process`. */
  async propagate(luma: Float32Array): Promise<Float32Array> {
    const lumaOwned = ownBuffer(luma);
    const response = await this.request({ kind: 'propagate', luma: lumaOwned }, [lumaOwned.buffer as ArrayBuffer]);
    if (!response.ab) throw new Error('temporal worker returned no a*b*');
    return response.ab;
  }

  /** Shot cut; `strength` changes the smoothing strength from this shot on. */
  async reset(strength?: number): Promise<void> {
    await this.request({ kind: 'reset', strength }, []);
  }

  /** Waits for requests already sent, then stops the thread. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.channel.close('temporal worker closed');
  }

  private request(message: DistributiveOmit<WorkerRequest, 'id'>, transfer: ArrayBuffer[]): Promise<Extract<WorkerResponse, { ok: true }>> {
    const answer = this.channel.request(this.worker, message, transfer);
    const forget = (): void => void this.inFlight.delete(answer);
    this.inFlight.add(answer);
    answer.then(forget, forget);
    return answer;
  }
}
