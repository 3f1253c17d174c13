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
  private readonly worker: Worker;
  private readonly channel: WorkerChannel<SessionRequest, SessionResponse>;

  private constructor() {
    this.worker = new Worker(workerEntryUrl(import.meta.url, 'session-worker'));
    this.channel = new WorkerChannel([this.worker], 'inference worker', (answer) => (answer.userError ? new UserError(answer.error) : new Error(answer.error)));
  }

  /** Starts the worker and opens one session per file there (device choice as in openSessions). */
  static async open(files: string[], device: DeviceRequest, settings: SessionSettings): Promise<OpenedHost> {
    const host = new SessionHost();
    try {
      const { opened } = await host.channel.request(host.worker, { kind: 'open', files, device, settings });
      if (!opened) throw new Error('inference worker opened no sessions');
      host.inputNames = opened.inputNames;
      host.outputNames = opened.outputNames;
      return { host, device: opened.device, selectSeconds: opened.selectSeconds, loadSeconds: opened.loadSeconds };
    } catch (error) {
      await host.channel.close('inference worker failed to open');
      throw error;
    }
  }

  /**
   * Runs session `index` on float32 feeds. The feeds' buffers are transferred to the worker (the
   * arrays are left empty here), so pass arrays that own their buffers.
   */
  async run(index: number, feeds: Record<string, PlainTensor>): Promise<Record<string, PlainTensor | { type: string; dims: number[] }>> {
    const transfer = [...new Set(Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer))];
    const { outputs } = await this.channel.request(this.worker, { kind: 'run', session: index, feeds }, transfer);
    if (!outputs) throw new Error('inference worker returned no outputs');
    return outputs;
  }

  async release(): Promise<void> {
    await this.channel.close('inference worker released');
  }
}
