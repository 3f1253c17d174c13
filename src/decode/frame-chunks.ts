/**
 * Cuts a byte stream (ffmpeg's raw output, whose chunks need not align with frames) into frames
 * of `frameBytes`. With `reuse`, one buffer is yielded again and again (valid until the next
 * iteration); otherwise every frame gets its own, from `allocate` when given (a buffer pool:
 * every byte is written before the frame is yielded). `leftover()` tells whether the stream
 * ended in the middle of a frame.
 */
export function frameChunks(
  source: AsyncIterable<Buffer>,
  frameBytes: number,
  reuse = false,
  allocate: (bytes: number) => ArrayBuffer = (bytes) => new ArrayBuffer(bytes),
): AsyncGenerator<Uint8Array> & { leftover(): number } {
  let filled = 0;
  async function* frames(): AsyncGenerator<Uint8Array> {
    let buffer: Uint8Array | undefined;
    for await (const chunk of source) {
      let offset = 0;
      while (offset < chunk.length) {
        buffer ??= new Uint8Array(allocate(frameBytes));
        const take = Math.min(chunk.length - offset, frameBytes - filled);
        buffer.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          filled = 0;
          yield buffer;
          if (!reuse) buffer = undefined;
        }
      }
    }
  }
  return Object.assign(frames(), { leftover: () => filled });
}
