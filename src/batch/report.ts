import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DamagedRange } from '../decode/decode-monitor.js';

export type BatchStatus = 'done' | 'skipped' | 'failed' | 'interrupted' | 'pending';

export interface BatchEntry {
  input: string;
  status: BatchStatus;
  output: string | null;
  frames: number | null;
  shots: number | null;
  /** Wall-clock seconds spent on this file in this run. */
  seconds: number | null;
  fps: number | null;
  error: string | null;
  /** Chunks the film was rendered as (1 = rendered in one piece), and how many were kept from an earlier run. */
  chunks: number | null;
  chunksReused: number | null;
  /** Damaged stretches rendered with concealment (`--conceal`); [] when none, null before rendering. */
  damagedFrames?: DamagedRange[] | null;
}

export interface BatchReportFile {
  version: 1;
  outDir: string;
  startedAt: string;
  updatedAt: string;
  /** False while the batch runs (or after a crash); true once it ended, interrupted or not. */
  finished: boolean;
  files: BatchEntry[];
}

export function newEntry(input: string, output: string | null): BatchEntry {
  return { input, status: 'pending', output, frames: null, shots: null, seconds: null, fps: null, error: null, chunks: null, chunksReused: null };
}

/** The batch report, rewritten atomically (temporary file + rename) on every save. */
export class BatchReport {
  readonly data: BatchReportFile;

  constructor(readonly path: string | undefined, outDir: string, files: BatchEntry[]) {
    const now = new Date().toISOString();
    this.data = { version: 1, outDir, startedAt: now, updatedAt: now, finished: false, files };
  }

  async save(): Promise<void> {
    if (!this.path) return;
    this.data.updatedAt = new Date().toISOString();
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, `${JSON.stringify(this.data, null, 2)}\n`);
      await rename(temporary, this.path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}
