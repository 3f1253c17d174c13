/**
 * A FIFO with a fixed capacity between a producer and a consumer. `push` waits while the queue
 * is full, which is how backpressure travels upstream; iteration waits while it is empty.
 */
export class BoundedQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private closed = false;
  private failure: unknown = undefined;
  private waitingConsumer: (() => void) | undefined;
  private waitingProducer: (() => void) | undefined;
  /** Highest number of items ever held at once; lets tests check the bound. */
  highWater = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error('queue capacity must be at least 1');
  }

  get size(): number {
    return this.items.length;
  }

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.closed) {
      await new Promise<void>((resolve) => (this.waitingProducer = resolve));
    }
    if (this.closed) throw this.failure ?? new Error('queue closed');
    this.items.push(item);
    this.highWater = Math.max(this.highWater, this.items.length);
    this.wake('consumer');
  }

  /** No more items will come; the consumer drains what is left. */
  end(): void {
    this.closed = true;
    this.wake('consumer');
    this.wake('producer');
  }

  /** Stops both sides: the consumer throws `error` once it reaches it, the producer at once. */
  fail(error: unknown): void {
    this.failure = error;
    this.items.length = 0;
    this.end();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const item = this.items.shift();
      if (item !== undefined) {
        this.wake('producer');
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.waitingConsumer = resolve));
    }
  }

  private wake(side: 'consumer' | 'producer'): void {
    const waiter = side === 'consumer' ? this.waitingConsumer : this.waitingProducer;
    if (side === 'consumer') this.waitingConsumer = undefined;
    else this.waitingProducer = undefined;
    waiter?.();
  }
}
