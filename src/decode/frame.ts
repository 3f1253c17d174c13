import type { ChromaLayout } from './probe.js';

/** One decoded picture: planar 8-bit Y', Cb, Cr, with its position in the film. */
export interface Frame {
  /** 0-based index in the decoded sequence (relative to the start of the render). */
  index: number;
  /** Presentation time in seconds from the start of the film. */
  time: number;
  y: Uint8Array;
  cb: Uint8Array;
  cr: Uint8Array;
}

export interface FrameGeometry {
  width: number;
  height: number;
  layout: ChromaLayout;
  chromaWidth: number;
  chromaHeight: number;
  /** Bytes of one raw frame (Y + Cb + Cr). */
  frameBytes: number;
}

export function frameGeometry(width: number, height: number, layout: ChromaLayout): FrameGeometry {
  const chromaWidth = layout === 'yuv444p' ? width : Math.ceil(width / 2);
  const chromaHeight = layout === 'yuv420p' ? Math.ceil(height / 2) : height;
  return { width, height, layout, chromaWidth, chromaHeight, frameBytes: width * height + 2 * chromaWidth * chromaHeight };
}

/** Views onto one raw frame buffer (no copy). */
export function splitPlanes(buffer: Uint8Array, g: FrameGeometry): Pick<Frame, 'y' | 'cb' | 'cr'> {
  const ySize = g.width * g.height;
  const cSize = g.chromaWidth * g.chromaHeight;
  return {
    y: buffer.subarray(0, ySize),
    cb: buffer.subarray(ySize, ySize + cSize),
    cr: buffer.subarray(ySize + cSize, ySize + 2 * cSize),
  };
}
