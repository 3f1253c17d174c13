export * from './colorize-video.js';
export * from './find-shots.js';
export * from './frame-range.js';
export * from './model-path.js';
