import type { TemporalSmootherOptions } from './smoother.js';

/** Messages between TemporalWorker (main thread) and worker.ts (worker thread). */
export type WorkerRequest =
  | { id: number; kind: 'init'; width: number; height: number; options: TemporalSmootherOptions }
  | { id: number; kind: 'process'; luma: Float32Array; ab: Float32Array }
  | { id: number; kind: 'propagate'; luma: Float32Array }
  | { id: number; kind: 'reset'; strength?: number };

export type WorkerResponse =
  | { id: number; ok: true; ab?: Float32Array }
  | { id: number; ok: false; error: string };
