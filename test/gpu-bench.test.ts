import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../bench/bench.js';

const run = promisify(execFile);

// The GPU host runs bench/gpu-bench.sh; this is its dry run on the CPU, checking what it writes (no timings are judged).
describe('GPU benchmark script, dry run on the CPU', () => {
  let out = '';
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('writes the bench table and JSON, the per-batch inference times and the fastest batch size', async () => {
    out = await mkdtemp(join(tmpdir(), 'gpu-bench-dry-'));
    const { stdout } = await run('bash', ['bench/gpu-bench.sh', '--device', 'cpu', '--sizes', '96x64,128x72', '--seconds', '0.4', '--batches', '1,2', '--out', out], { env: { ...process.env, OUT: '' } });
    expect(stdout).toMatch(/batch size for the bench: [12] \(fastest per frame at 128x72\)/);

    const batches = JSON.parse(await readFile(join(out, 'batches.json'), 'utf8')) as BenchReport;
    expect(batches.rows).toEqual([]);
    expect(batches.batches!.timings.map((t) => [t.size, t.batchSize])).toEqual([['96x64', 1], ['96x64', 2], ['128x72', 1], ['128x72', 2]]);
    for (const t of batches.batches!.timings) {
      expect(t.msPerBatch).toBeGreaterThan(0);
      expect(t.msPerFrame).toBeCloseTo(t.msPerBatch / t.batchSize, 0);
    }
    const fastest = batches.batches!.fastest['128x72'];
    const at128 = batches.batches!.timings.filter((t) => t.size === '128x72');
    expect(fastest.msPerFrame).toBe(Math.min(...at128.map((t) => t.msPerFrame)));

    const report = JSON.parse(await readFile(join(out, 'bench.json'), 'utf8')) as BenchReport;
    expect(report.settings).toMatchObject({ device: 'cpu', batchSize: fastest.batchSize });
    expect(report.rows.map((r) => [r.size, r.frames, r.device])).toEqual([['96x64', 10, 'cpu'], ['128x72', 10, 'cpu']]);
    for (const row of report.rows) {
      expect(row.ratioToTranscode).toBeGreaterThan(0);
      expect(Object.keys(row.stageMsPerFrame).sort()).toEqual(['compose', 'decode', 'encode', 'infer', 'shots', 'temporal']);
      expect(row.startupSeconds.modelLoad).toBeGreaterThan(0);
      expect(row.endToEnd!.ratioToTranscode).toBeGreaterThan(0);
      expect(row.coloredTranscode!.ratioToTranscode).toBeGreaterThan(0);
      if (process.platform === 'linux') expect(row.cpu!.colorizeSeconds).toBeGreaterThan(0);
    }
    const table = await readFile(join(out, 'bench.md'), 'utf8');
    expect(table).toContain('| clip | frames | device | colorize fps | plain transcode fps | speed vs transcode | CPU time vs transcode | ceiling: transcode of the colored film (wall / CPU) | whole command vs transcode | its CPU time vs transcode |');
    expect(table).toMatch(/\| 128x72 \| 10 \| cpu \|/);
    expect(await readFile(join(out, 'host.txt'), 'utf8')).toMatch(/device requested: cpu/);
  });
});
