import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchReportFile } from '../src/batch/report.js';
import { makeClip, runCli } from './helpers/media.js';
import { writeTestModel } from './helpers/test-models.js';

let dir: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-batch-cleanup-'));
  model = await writeTestModel(join(dir, 'model'), { a: 10, b: 10, workingShortSide: 64 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a film that fails in a batch', () => {
  it('leaves neither its output folder nor a work folder behind', async () => {
    const input = join(dir, 'in');
    await mkdir(join(input, 'reel-2'), { recursive: true });
    // Readable header, but the frames stop a third of the way in: it fails while rendering.
    const whole = await makeClip(join(dir, 'whole.mp4'), { video: 'testsrc2=size=160x96:rate=25', seconds: 3, extraOutput: ['-movflags', '+faststart'] });
    const data = await readFile(whole);
    await writeFile(join(input, 'reel-2', 'cut.mp4'), data.subarray(0, Math.floor(data.length / 3)));
    const out = join(dir, 'out');
    const result = await runCli(['batch', input, '--out-dir', out, '--model', model]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/1 of 1 file failed/);
    const report = JSON.parse(await readFile(join(out, 'colorize-batch-report.json'), 'utf8')) as BatchReportFile;
    expect(report.files.map((f) => f.status)).toEqual(['failed']);
    expect(report.files[0].error).toMatch(/truncated or corrupt|decoding .* failed/);
    expect(await readdir(out)).toEqual(['colorize-batch-report.json']);
  });
});
