import type { ChromaLayout } from './pixel-format.js';

/** Samples of one plane: bytes at 8 bits, 16-bit words (native little-endian) above. */
export type Samples = Uint8Array | Uint16Array;

/** One decoded picture: planar Y', Cb, Cr at the geometry's depth, with its position in the film. */
export interface Frame {
  /** 0-based index in the decoded sequence (relative to the start of the render). */
  index: number;
  /** Presentation time in seconds from the start of the film. */
  time: number;
  /**
   * The decoder's own timestamp, in ticks of the source stream's time base (counted from the start
   * of the decode); absent for frames filled in for ones the decoder dropped.
   */
  ticks?: number;
  y: Samples;
  cb: Samples;
  cr: Samples;
  /** Nothing but this frame holds `y`'s buffer: a consumer done with the frame may hand `y.buffer` to the reader's buffer pool. */
  recyclable?: boolean;
}

export interface FrameGeometry {
  width: number;
  height: number;
  layout: ChromaLayout;
  chromaWidth: number;
  chromaHeight: number;
  /** Bits per sample (8 to 16); above 8 every sample takes two bytes. */
  bits: number;
  /** The raw ffmpeg pixel format of these frames (yuv420p, yuv422p10le, ...). */
  pixelFormat: string;
  /** Bytes of one raw frame (Y + Cb + Cr). */
  frameBytes: number;
}

export function frameGeometry(width: number, height: number, layout: ChromaLayout, bits = 8): FrameGeometry {
  const chromaWidth = layout === 'yuv444p' ? width : Math.ceil(width / 2);
  const chromaHeight = layout === 'yuv420p' ? Math.ceil(height / 2) : height;
  const bytes = bits > 8 ? 2 : 1;
  const pixelFormat = bits > 8 ? `${layout}${bits}le` : layout;
  return { width, height, layout, chromaWidth, chromaHeight, bits, pixelFormat, frameBytes: bytes * (width * height + 2 * chromaWidth * chromaHeight) };
}

/** A new plane of `length` samples at the geometry's depth. */
export function newPlane(g: FrameGeometry, length: number): Samples {
  return g.bits > 8 ? new Uint16Array(length) : new Uint8Array(length);
}

/** The code of neutral chroma (no color) at a depth: 128 at 8 bits, 512 at 10, ... */
export function neutralChroma(bits: number): number {
  return 1 << (bits - 1);
}

/** Views onto one raw frame buffer (no copy). */
export function splitPlanes(buffer: Uint8Array, g: FrameGeometry): Pick<Frame, 'y' | 'cb' | 'cr'> {
  const ySize = g.width * g.height;
  const cSize = g.chromaWidth * g.chromaHeight;
  if (g.bits > 8) {
    const words = new Uint16Array(buffer.buffer, buffer.byteOffset, buffer.byteLength / 2);
    return { y: words.subarray(0, ySize), cb: words.subarray(ySize, ySize + cSize), cr: words.subarray(ySize + cSize, ySize + 2 * cSize) };
  }
  return {
    y: buffer.subarray(0, ySize),
    cb: buffer.subarray(ySize, ySize + cSize),
    cr: buffer.subarray(ySize + cSize, ySize + 2 * cSize),
  };
}

/** The bytes of a plane, as they go to ffmpeg (no copy). */
export function planeBytes(plane: Samples): Uint8Array {
  return new Uint8Array(plane.buffer, plane.byteOffset, plane.byteLength);
}
