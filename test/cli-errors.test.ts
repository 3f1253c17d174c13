import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpeg, makeClip, runCli } from './helpers/media.js';
import { writeTestModel } from './helpers/test-models.js';

let dir: string;
let model: string;
let clip: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-errors-'));
  model = await writeTestModel(join(dir, 'model'), { a: 10, b: 10, workingShortSide: 64 });
  clip = await makeClip(join(dir, 'good.mp4'), { video: 'testsrc2=size=160x96:rate=25', seconds: 1, audioHz: 440 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function digest(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** Runs the CLI in a fresh folder and checks: exit code, one-line message, nothing left behind, input untouched. */
async function expectFailure(name: string, args: (work: string) => Promise<string[]>, exitCode: number, message: RegExp, input?: string) {
  const work = join(dir, name);
  await mkdir(work, { recursive: true });
  const before = input ? await digest(input) : undefined;
  const argv = await args(work);
  const listing = await readdir(work);
  const result = await runCli(argv);
  expect(result.code, result.stderr).toBe(exitCode);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^colorize-video: error: /);
  expect(lines[0]).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(await readdir(work)).toEqual(listing);
  if (input) expect(await digest(input)).toBe(before);
}

describe('bad input gets one clear line, a non-zero exit and no output', () => {
  it('missing file', () => expectFailure('missing', async (w) => [join(w, 'nope.mp4'), '--model', model], 1, /input not found/));

  it('directory', () => expectFailure('directory', async (w) => [w, '--model', model], 1, /is a directory/));

  it('not a video', () =>
    expectFailure(
      'text',
      async (w) => {
        await writeFile(join(w, 'notes.mp4'), 'this is not a video\n'.repeat(100));
        return [join(w, 'notes.mp4'), '--model', model];
      },
      1,
      /not a readable video/,
    ));

  it('no video stream', () =>
    expectFailure(
      'audio-only',
      async (w) => {
        await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=300:duration=1', '-c:a', 'aac', join(w, 'sound.m4a')]);
        return [join(w, 'sound.m4a'), '--model', model];
      },
      1,
      /no video stream/,
    ));

  it('truncated file', () =>
    expectFailure(
      'truncated',
      async (w) => {
        const path = join(w, 'cut.mp4');
        await makeClip(path, { video: 'testsrc2=size=160x96:rate=25', seconds: 2, extraOutput: ['-movflags', '+faststart'] });
        const { size } = await import('node:fs/promises').then((fs) => fs.stat(path));
        await truncate(path, Math.floor(size * 0.6));
        return [path, '--model', model];
      },
      1,
      /truncated or corrupt|decoding .* failed|not a readable video|is truncated: \d+ frames promised, the last readable one is frame \d+/,
    ));

  it('output equal to input', async () => {
    const work = join(dir, 'same');
    await mkdir(work, { recursive: true });
    const input = join(work, 'film.mp4');
    await copyFile(clip, input);
    await expectFailure('same', async () => [input, '-o', input, '--model', model, '--overwrite'], 2, /overwrite the input/, input);
  });

  it('unwritable output folder', () => expectFailure('unwritable', async () => [clip, '-o', '/proc/colorized.mp4', '--model', model], 1, /not writable/, clip));

  it('existing output without --overwrite', async () => {
    const work = join(dir, 'exists');
    await mkdir(work, { recursive: true });
    await writeFile(join(work, 'out.mp4'), 'keep me');
    await expectFailure('exists', async (w) => [clip, '-o', join(w, 'out.mp4'), '--model', model], 1, /output exists/, clip);
    expect(await readFile(join(work, 'out.mp4'), 'utf8')).toBe('keep me');
  });

  it('missing model', () => expectFailure('no-model', async (w) => [clip, '-o', join(w, 'o.mp4'), '--model', join(w, 'none')], 1, /model not found/, clip));

  it('corrupt model', async () => {
    const broken = join(dir, 'broken-model');
    await writeTestModel(broken, { a: 0, b: 0 });
    await writeFile(join(broken, 'colorizer.onnx'), 'garbage, not a protobuf');
    await expectFailure('corrupt-model', async (w) => [clip, '-o', join(w, 'o.mp4'), '--model', broken], 1, /model could not be loaded/, clip);
  });

  it('unavailable device', () =>
    expectFailure('device', async (w) => [clip, '-o', join(w, 'o.mp4'), '--model', model, '--device', 'cuda'], 1, /device cuda is unavailable/, clip));

  it('usage errors exit with 2', async () => {
    for (const args of [[clip, '--crf', '99'], [clip, '--bogus'], [], [clip, '--codec', 'vp9']]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/error/);
    }
  });

  it('a codec the container cannot hold is a usage error', () =>
    expectFailure('codec-container', async (w) => [clip, '-o', join(w, 'o.mp4'), '--codec', 'ffv1', '--model', model], 2, /cannot be stored in \.mp4/, clip));
});

describe('interruption', () => {
  it('SIGINT stops ffmpeg, removes temporary files and leaves no output', async () => {
    const work = join(dir, 'interrupt');
    await mkdir(work, { recursive: true });
    const long = await makeClip(join(work, 'long.mp4'), { video: 'testsrc2=size=320x192:rate=25', seconds: 20, audioHz: 220 });
    const output = join(work, 'long.color.mp4');
    let pid = 0;
    const running = runCli([long, '--model', model], { onSpawn: (p) => (pid = p) });
    // Wait until the render is under way (its temporary file exists), then interrupt.
    for (let i = 0; i < 200 && !(await readdir(work)).some((f) => f.includes('.partial-')); i++) await new Promise((r) => setTimeout(r, 50));
    expect((await readdir(work)).some((f) => f.includes('.partial-'))).toBe(true);
    process.kill(pid, 'SIGINT');
    const result = await running;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/interrupted/);
    expect((await readdir(work)).sort()).toEqual(['long.mp4']);
    expect(output).not.toBe('');
  });
});
