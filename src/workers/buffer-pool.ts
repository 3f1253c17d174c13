/**
 * Free ArrayBuffers kept by size for reuse. A film's frames come in a few fixed sizes, and each
 * frame otherwise allocates several megabytes that V8 counts as external memory: at 1080p that
 * churn set off a full garbage collection every few frames (node --trace-gc). Handing a
 * finished frame's buffers back here lets the next frame reuse them.
 *
 * Contents of a taken buffer are whatever was last written there: only callers that overwrite
 * every byte take from the pool. Memory stays bounded: at most `perSize` free buffers of each
 * size and `sizes` sizes are kept; the rest is left to the collector.
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Buffers handed out again instead of allocated (for tests and benchmarks). */
  reused = 0;

  constructor(
    private readonly perSize = 4,
    private readonly sizes = 8,
  ) {}

  /** A buffer of exactly `byteLength` bytes: a returned one when there is one, else a new one. */
  take(byteLength: number): ArrayBuffer {
    const buffer = this.free.get(byteLength)?.pop();
    if (buffer === undefined) return new ArrayBuffer(byteLength);
    this.reused++;
    return buffer;
  }

  /**
   * Returns a buffer nobody reads or writes any more. Detached (transferred) and empty buffers,
   * shared memory, and buffers beyond the limits are ignored.
   */
  give(buffer: ArrayBufferLike): void {
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return;
    let list = this.free.get(buffer.byteLength);
    if (list === undefined) {
      if (this.free.size >= this.sizes) return;
      list = [];
      this.free.set(buffer.byteLength, list);
    }
    if (list.length < this.perSize && !list.includes(buffer)) list.push(buffer);
  }

  /** Free buffers held, over all sizes. */
  get held(): number {
    let count = 0;
    for (const list of this.free.values()) count += list.length;
    return count;
  }
}
