import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelConfig } from '../src/infer/model-config.js';
import { makeClip, runCli } from './helpers/media.js';

const SHIPPED = 'models';

let dir: string;
let clip: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-integrity-'));
  clip = await makeClip(join(dir, 'clip.mp4'), { video: 'testsrc2=size=96x64:rate=25', seconds: 0.2 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A copy of the shipped model folder. */
async function copyOfShipped(name: string): Promise<string> {
  const target = join(dir, name);
  await mkdir(target, { recursive: true });
  for (const file of await readdir(SHIPPED)) await copyFile(join(SHIPPED, file), join(target, file));
  return target;
}

describe('model integrity', () => {
  it('the shipped model.json records the size and SHA-256 of every graph (the int8 CPU variant too), and they match', async () => {
    const config = await loadModelConfig(SHIPPED);
    expect(config.local.cpuFile).toBe('colorizer-int8.onnx');
    for (const [file, facts] of [
      [config.global.file, config.integrity.global],
      [config.local.file, config.integrity.local],
      [config.local.cpuFile ?? '', config.integrity.localCpu ?? {}],
    ] as const) {
      const data = await readFile(join(SHIPPED, file));
      expect(facts.bytes).toBe(data.length);
      expect(facts.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('a graph damaged in the middle (64 KiB overwritten) is refused in one line naming the file; the opt-out loads it', async () => {
    const model = await copyOfShipped('damaged');
    const target = join(model, 'global.onnx');
    const { size } = await stat(target);
    const handle = await open(target, 'r+');
    await handle.write(Buffer.alloc(64 * 1024, 0x5a), 0, 64 * 1024, Math.floor(size / 2));
    await handle.close();
    expect((await stat(target)).size).toBe(size);

    const output = join(dir, 'damaged.mp4');
    const refused = await runCli([clip, '-o', output, '--model', model]);
    expect(refused.code).toBe(1);
    const lines = refused.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^colorize-video: error: model file ${target} is damaged or not the one described: its SHA-256 differs`));
    expect(lines[0]).toMatch(/COLORIZE_VIDEO_SKIP_MODEL_CHECK=1/);
    expect(existsSync(output)).toBe(false);
    expect((await readdir(dir)).filter((n) => n.includes('.partial-'))).toEqual([]);

    // Someone who edits models on purpose can turn the check off.
    const forced = await runCli([clip, '-o', output, '--model', model], { env: { COLORIZE_VIDEO_SKIP_MODEL_CHECK: '1' } });
    expect(forced.stderr).not.toMatch(/is damaged/);
    expect(forced.code, forced.stderr).toBe(0);
  });

  it('a graph of another size is refused before it is read, and batch and shots refuse it too', async () => {
    const model = await copyOfShipped('short');
    const target = join(model, 'colorizer.onnx');
    const data = await readFile(target);
    await writeFile(target, data.subarray(0, data.length - 1000));
    const single = await runCli([clip, '-o', join(dir, 'short.mp4'), '--model', model]);
    expect(single.code).toBe(1);
    expect(single.stderr.trim()).toMatch(new RegExp(`model file ${target} is damaged or not the one described: ${data.length - 1000} bytes instead of ${data.length}`));

    const sheet = await runCli(['shots', clip, '--contact-sheet', join(dir, 'sheet.png'), '--colorize', '--model', model]);
    expect(sheet.code).toBe(1);
    expect(sheet.stderr.trim().split('\n')).toHaveLength(1);
    expect(sheet.stderr).toMatch(/is damaged/);

    const batch = await runCli(['batch', clip, '--out-dir', join(dir, 'batch-out'), '--model', model]);
    expect(batch.code).toBe(1);
    expect(batch.stderr).toMatch(/is damaged/);
  });

  it('model.json with a malformed sha256 is itself reported as invalid', async () => {
    const model = await copyOfShipped('malformed');
    const json = JSON.parse(await readFile(join(model, 'model.json'), 'utf8')) as { global: { sha256: string } };
    json.global.sha256 = 'abc';
    await writeFile(join(model, 'model.json'), JSON.stringify(json));
    await expect(loadModelConfig(model)).rejects.toThrow(/"global\.sha256" must be 64 hexadecimal digits/);
  });
});
