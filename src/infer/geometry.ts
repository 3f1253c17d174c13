/** Sizes the model works at for a given frame size. */
export interface WorkingGeometry {
  /** Network input size (multiple of `multipleOf`). */
  width: number;
  height: number;
  /** a*b* grid the network outputs (width / outputStride). */
  gridWidth: number;
  gridHeight: number;
}

export function workingGeometry(frameWidth: number, frameHeight: number, shortSide: number, multipleOf: number, outputStride: number): WorkingGeometry {
  const frameShort = Math.min(frameWidth, frameHeight);
  // Never upscale beyond the source: a tiny clip is colorized at (about) its own size.
  const scale = Math.min(1, shortSide / frameShort);
  const snap = (v: number) => Math.max(multipleOf, Math.round((v * scale) / multipleOf) * multipleOf);
  const width = snap(frameWidth);
  const height = snap(frameHeight);
  return { width, height, gridWidth: width / outputStride, gridHeight: height / outputStride };
}
