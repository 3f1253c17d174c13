export * from './model-config.js';
export * from './device.js';
export * from './colorizer.js';
export * from './geometry.js';
export * from './hints.js';
