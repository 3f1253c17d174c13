import type { FrameGeometry } from '../decode/frame.js';
import { frameGeometry } from '../decode/frame.js';

/** Output geometry for gray | color review renders: twice as wide. */
export function sideBySideGeometry(source: FrameGeometry): FrameGeometry {
  return frameGeometry(source.width * 2, source.height, source.layout);
}

/** Gray (neutral chroma) on the left, the colorized frame on the right. */
export function joinSideBySide(
  source: FrameGeometry,
  y: Uint8Array,
  cb: Uint8Array,
  cr: Uint8Array,
): { y: Uint8Array; cb: Uint8Array; cr: Uint8Array } {
  const out = sideBySideGeometry(source);
  const joinedY = new Uint8Array(out.width * out.height);
  for (let row = 0; row < source.height; row++) {
    const line = y.subarray(row * source.width, (row + 1) * source.width);
    joinedY.set(line, row * out.width);
    joinedY.set(line, row * out.width + source.width);
  }
  const joinChroma = (plane: Uint8Array) => {
    const joined = new Uint8Array(out.chromaWidth * out.chromaHeight).fill(128);
    for (let row = 0; row < source.chromaHeight; row++) {
      joined.set(plane.subarray(row * source.chromaWidth, (row + 1) * source.chromaWidth), row * out.chromaWidth + source.chromaWidth);
    }
    return joined;
  };
  return { y: joinedY, cb: joinChroma(cb), cr: joinChroma(cr) };
}
