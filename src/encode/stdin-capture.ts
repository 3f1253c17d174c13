import { Readable, type Writable } from 'node:stream';

/**
 * The input stream handed to fluent-ffmpeg for `pipe:0`. fluent-ffmpeg pipes its input stream
 * into the ffmpeg process's stdin once the process has started; this stand-in takes that stdin
 * instead (its `pipe`), so frames are written to the process directly and every write gets its
 * own completion callback: a frame's buffers can be reused exactly when the pipe has taken them
 * (a PassThrough in between would only tell when its own buffer had room).
 */
export class StdinCapture extends Readable {
  /** ffmpeg's stdin, once the process has started. */
  readonly stdin: Promise<Writable>;
  private resolveStdin!: (stdin: Writable) => void;

  constructor() {
    super();
    this.stdin = new Promise((resolve) => (this.resolveStdin = resolve));
  }

  override _read(): void {}

  override pipe<T extends NodeJS.WritableStream>(destination: T): T {
    const stdin = destination as unknown as Writable;
    stdin.setMaxListeners(0); // one 'drain' listener per write waiting on the pipe
    this.resolveStdin(stdin);
    return destination;
  }
}
