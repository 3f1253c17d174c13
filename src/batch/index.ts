export * from './chunks.js';
export * from './discover.js';
export * from './film.js';
export * from './join.js';
export * from './report.js';
export * from './run-batch.js';
export * from './verify.js';
