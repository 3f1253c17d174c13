export * from './binaries.js';
export * from './errors.js';
export * from './probe.js';
export * from './frame.js';
export * from './bounded-queue.js';
export * from './frame-reader.js';
export * from './ffmpeg-command.js';
