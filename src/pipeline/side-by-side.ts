import type { FrameGeometry, Samples } from '../decode/frame.js';
import { frameGeometry, neutralChroma, newPlane } from '../decode/frame.js';

/** Output geometry for gray | color review renders: twice as wide. */
export function sideBySideGeometry(source: FrameGeometry): FrameGeometry {
  return frameGeometry(source.width * 2, source.height, source.layout, source.bits);
}

/** Gray (neutral chroma) on the left, the colorized frame on the right. */
export function joinSideBySide(source: FrameGeometry, y: Samples, cb: Samples, cr: Samples): { y: Samples; cb: Samples; cr: Samples } {
  const out = sideBySideGeometry(source);
  const joinedY = newPlane(out, out.width * out.height);
  for (let row = 0; row < source.height; row++) {
    const line = y.subarray(row * source.width, (row + 1) * source.width);
    joinedY.set(line, row * out.width);
    joinedY.set(line, row * out.width + source.width);
  }
  const joinChroma = (plane: Samples) => {
    const joined = newPlane(out, out.chromaWidth * out.chromaHeight).fill(neutralChroma(source.bits));
    for (let row = 0; row < source.chromaHeight; row++) {
      joined.set(plane.subarray(row * source.chromaWidth, (row + 1) * source.chromaWidth), row * out.chromaWidth + source.chromaWidth);
    }
    return joined;
  };
  return { y: joinedY, cb: joinChroma(cb), cr: joinChroma(cr) };
}
