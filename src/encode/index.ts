export * from './container.js';
export * from './encoder-args.js';
export * from './frame-writer.js';
export * from './temp-files.js';
