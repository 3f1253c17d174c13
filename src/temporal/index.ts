export type { FlowField, ImagePlane } from './types.js';
export {
  buildFlowPyramid,
  computeBidirectionalFlow,
  computeFlow,
  DEFAULT_FLOW_OPTIONS,
  flowBetweenPyramids,
  type FlowOptions,
  type FlowPyramid,
} from './flow.js';
export {
  DEFAULT_MOTION_BOUNDARY,
  DEFAULT_OCCLUSION,
  lumaMismatchMask,
  motionBoundaryMask,
  occlusionMask,
  sampleBilinear,
  warpedLumaError,
  warpImage,
  type MotionBoundaryThresholds,
  type OcclusionThresholds,
} from './warp.js';
export { DEFAULT_TEMPORAL_STRENGTH, TemporalSmoother, type TemporalSmootherOptions } from './smoother.js';
export { TemporalWorker } from './pool.js';
export {
  CdcAccumulator,
  jensenShannonDivergence,
  meanSquaredError,
  psnr,
  PsnrAccumulator,
  rgbHistograms,
  WarpErrorAccumulator,
  type CdcOptions,
  type FrameFormat,
  type RgbLayout,
  type WarpErrorOptions,
} from './metrics.js';
