/**
 * The request/answer plumbing shared by our worker-thread pools (compose, temporal, inference):
 * numbered requests, answers matched by number, a worker kept referenced only while an answer is
 * awaited (so a forgotten close can't hold the process open), and one failure (an error, a worker
 * that exits) rejecting everything still waiting.
 */
import type { Worker } from 'node:worker_threads';

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Every answer names its request and says whether it succeeded. */
export type Answer = { id: number; ok: true } | { id: number; ok: false; error: string };

export class WorkerChannel<Request extends { id: number }, Response extends Answer> {
  private readonly pending = new Map<number, { resolve: (answer: Extract<Response, { ok: true }>) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;

  /**
   * @param what names the workers in the error when one exits
   * @param toError turns a failed answer into the error its request is rejected with
   */
  constructor(
    readonly workers: Worker[],
    what: string,
    private readonly toError: (answer: Extract<Response, { ok: false }>) => Error = (answer) => new Error(answer.error),
  ) {
    for (const worker of workers) this.listen(worker, what);
  }

  /** Takes one more worker into the channel. */
  add(worker: Worker, what: string): void {
    this.workers.push(worker);
    this.listen(worker, what);
  }

  /** Sends one request to `worker` (transferring `transfer`) and resolves with its successful answer. */
  request(worker: Worker, message: DistributiveOmit<Request, 'id'>, transfer: ArrayBuffer[] = []): Promise<Extract<Response, { ok: true }>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...message, id } as unknown as Request, transfer);
    });
  }

  /** Refuses further requests and stops the workers. */
  async close(reason: string): Promise<void> {
    this.failure ??= new Error(reason);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private listen(worker: Worker, what: string): void {
    worker.on('message', (answer: Response) => this.settle(answer));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`${what} exited (code ${code})`)));
    worker.unref();
  }

  private settle(answer: Response): void {
    const pending = this.pending.get(answer.id);
    if (!pending) return;
    this.pending.delete(answer.id);
    if (this.pending.size === 0) for (const worker of this.workers) worker.unref();
    if (answer.ok) pending.resolve(answer as Extract<Response, { ok: true }>);
    else pending.reject(this.toError(answer as Extract<Response, { ok: false }>));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(error);
  }
}

/** The array alone in its own buffer (views into a larger buffer are copied), so that only our own bytes are transferred. */
export function ownBuffer<T extends Float32Array>(array: T): T {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength && array.buffer instanceof ArrayBuffer ? array : (array.slice() as T);
}

/**
 * A worker's entry beside the module at `moduleUrl`: compiled, `<name>.js`; from TypeScript
 * sources (tsx, vitest) `<name>-from-source.mjs`, which registers tsx first, because on Node 20 a
 * worker thread inherits neither execArgv `--import tsx` nor tsx's hooks.
 */
export function workerEntryUrl(moduleUrl: string, name: string): URL {
  return new URL(moduleUrl.endsWith('.ts') ? `./${name}-from-source.mjs` : `./${name}.js`, moduleUrl);
}
