/**
 * SessionHost: the model's onnxruntime sessions on a worker thread of their own. onnxruntime-node
 * runs a session synchronously on the calling thread, so on the main thread every batch would stop
 * the pipeline's event loop for its whole run (about a quarter of a second for four frames on one
 * CPU core): no frames read from the decoder, none written to the encoder, no work handed to the
 * compose and temporal workers. Here the main thread keeps streaming while the network runs.
 */
import { Worker } from 'node:worker_threads';
import { UserError } from '../decode/errors.js';
import { type Device, type DeviceRequest, type ModelFiles, type SessionSettings } from './device.js';
import type { PlainTensor, SessionRequest, SessionResponse } from './session-protocol.js';
import { WorkerChannel, workerEntryUrl } from '../workers/channel.js';

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
  private readonly channel: WorkerChannel<SessionRequest, SessionResponse>;
  /** Requests awaited from each worker (infinite until its sessions are open): a run goes to the least busy. */
  private readonly busy: number[];

  private constructor(private readonly workers: Worker[]) {
    // The channel holds this same array: workers it takes in later are ours too.
    this.channel = new WorkerChannel(workers, 'inference worker', (answer) => (answer.userError ? new UserError(answer.error) : new Error(answer.error)));
    this.busy = workers.map(() => 0);
  }

  /** How many runs can go at once (one per worker). */
  get parallelRuns(): number {
    return this.workers.length;
  }

  /**
   * Starts a worker and opens one session per file there (device choice as in openSessions). On
   * the CPU device, up to `settings.workers` workers in all (default 1) each
   * open their own copy, so that independent batches run side by side.
   */
  static async open(files: ModelFiles, device: DeviceRequest, settings: SessionSettings): Promise<OpenedHost> {
    const host = new SessionHost([newWorker()]);
    try {
      const { opened } = await host.channel.request(host.workers[0], { kind: 'open', files, device, settings });
      if (!opened) throw new Error('inference worker opened no sessions');
      const count = opened.device === 'cpu' ? Math.max(1, settings.workers ?? 1) : 1;
      // The copies load while the first already runs batches: a copy takes work once it is open.
      for (let k = 1; k < count; k++) {
        const worker = newWorker();
        host.channel.add(worker, 'inference worker');
        host.busy.push(Number.POSITIVE_INFINITY);
        host.channel.request(worker, { kind: 'open', files, device: 'cpu', settings }).then(
          () => (host.busy[k] = 0),
          () => undefined, // a copy that cannot open is never used; the first one carries on
        );
      }
      host.inputNames = opened.inputNames;
      host.outputNames = opened.outputNames;
      return { host, device: opened.device, selectSeconds: opened.selectSeconds, loadSeconds: opened.loadSeconds };
    } catch (error) {
      await host.channel.close('inference worker failed to open');
      throw error;
    }
  }

  /**
   * Runs session `index` on float32 feeds, on the least busy worker. The feeds' buffers are
   * transferred to the worker (the arrays are left empty here), so pass arrays that own their buffers.
   */
  async run(index: number, feeds: Record<string, PlainTensor>): Promise<Record<string, PlainTensor | { type: string; dims: number[] }>> {
    const transfer = [...new Set(Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer))];
    const w = this.busy.indexOf(Math.min(...this.busy));
    this.busy[w]++;
    try {
      const { outputs } = await this.channel.request(this.workers[w], { kind: 'run', session: index, feeds }, transfer);
      if (!outputs) throw new Error('inference worker returned no outputs');
      return outputs;
    } finally {
      this.busy[w]--;
    }
  }

  /**
   * Releases the sessions on their own threads, then stops the workers. Terminating a worker that
   * still holds onnxruntime sessions lets their native finalizers run during the thread's teardown,
   * which aborted the process now and then under load ("terminate called after throwing an
   * instance of 'Napi::Error'").
   */
  async release(): Promise<void> {
    const released = Promise.allSettled(this.workers.map((worker) => this.channel.request(worker, { kind: 'release' })));
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise((resolve) => (timer = setTimeout(resolve, RELEASE_PATIENCE_MS).unref()));
    await Promise.race([released, patience]);
    clearTimeout(timer);
    await this.channel.close('inference worker released');
  }
}

/** How long release() waits for the workers to free their sessions before stopping them anyway. */
const RELEASE_PATIENCE_MS = 5000;

function newWorker(): Worker {
  return new Worker(workerEntryUrl(import.meta.url, 'session-worker'));
}
