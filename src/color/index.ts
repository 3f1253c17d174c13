export * from './lab.js';
export * from './ycbcr.js';
export * from './luts.js';
export * from './resample.js';
export * from './compose.js';
export * from './srgb8.js';
