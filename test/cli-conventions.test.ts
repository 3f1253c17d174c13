import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgressBar } from '../src/cli/progress.js';
import { colorizeVideo, type Progress } from '../src/pipeline/colorize-video.js';
import { RateEstimator } from '../src/pipeline/rate.js';
import { makeClip, runCli } from './helpers/media.js';
import { writeTestModel } from './helpers/test-models.js';

let dir: string;
let model: string;
/** 1 s, one shot. */
let clip: string;
/** Three shots of 20, 30 and 25 frames. */
let threeShots: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-conventions-'));
  model = await writeTestModel(join(dir, 'model'), { a: 10, b: 10, workingShortSide: 64 });
  clip = await makeClip(join(dir, 'clip.mp4'), { video: 'testsrc2=size=160x96:rate=25', seconds: 1 });
  threeShots = join(dir, 'three.mp4');
  await makeClip(threeShots, {
    video: 'testsrc2=size=160x96:rate=25:duration=0.8[a];mandelbrot=size=160x96:rate=25,trim=end_frame=30[b];smptebars=size=160x96:rate=25:duration=1[c];[a][b][c]concat=n=3',
    seconds: 3,
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function oneErrorLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^colorize-video: error: \S/);
  return lines[0];
}

describe('version and help', () => {
  it('--version and -V print the package version', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await runCli([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe(version);
    }
  });

  it('help and help <command> show usage instead of taking "help" for a file', async () => {
    const main = await runCli(['help']);
    expect(main.code, main.stderr).toBe(0);
    expect(main.stdout).toMatch(/^Usage: colorize-video /);
    expect(main.stdout).toMatch(/Exit codes: 0 done, 1 failed, 2 usage error, 130 interrupted/);
    expect(main.stdout).toMatch(/Examples:\n\s+colorize-video old_film\.mp4/);
    expect(main.stdout).toMatch(/include their start and exclude their end/);
    const shots = await runCli(['help', 'shots']);
    expect(shots.code).toBe(0);
    expect(shots.stdout).toMatch(/^Usage: colorize-video shots \[options\] <input>/);
    const batch = await runCli(['help', 'batch']);
    expect(batch.stdout).toMatch(/^Usage: colorize-video batch/);
  });
});

describe('every error is one line with the colorize-video: prefix', () => {
  it("commander's own errors: unknown option (with its suggestion), bad value, missing input, unknown choice", async () => {
    const cases: Array<[string[], RegExp]> = [
      [[clip, '--bach-size', '3'], /unknown option '--bach-size' \(Did you mean --batch-size\?\) \(see colorize-video --help\)$/],
      [[clip, '--crf', '99'], /'99' is invalid\. expected an integer from 0 to 51/],
      [[], /missing required argument 'input'/],
      [[clip, '--device', 'tpu'], /argument 'tpu' is invalid\. Allowed choices are auto, cpu, webgpu, cuda/],
      [['batch', clip], /required option '--out-dir <dir>' not specified/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(oneErrorLine(result.stderr)).toMatch(message);
      expect(result.stdout).toBe('');
    }
  });

  it('--json: errors are one JSON object on stdout with a non-zero exit (usage and run-time errors)', async () => {
    const usage = await runCli([clip, '--crf', '99', '--json']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ error: expect.stringMatching(/expected an integer from 0 to 51/), exitCode: 2 });
    oneErrorLine(usage.stderr);

    const missing = await runCli([join(dir, 'nope.mp4'), '--model', model, '--json']);
    expect(missing.code).toBe(1);
    expect(missing.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(missing.stdout)).toEqual({ error: expect.stringMatching(/input not found/), exitCode: 1 });

    const shots = await runCli(['shots', join(dir, 'nope.mp4'), '--json']);
    expect(shots.code).toBe(1);
    expect(JSON.parse(shots.stdout)).toMatchObject({ exitCode: 1 });
  });

  it.skipIf(hasGpuDeviceNode())('an explicit GPU device on a machine without a GPU is one line', async () => {
    for (const device of ['webgpu', 'cuda']) {
      const result = await runCli([clip, '-o', join(dir, `gpu-${device}.mp4`), '--model', model, '--device', device]);
      expect(result.code).toBe(1);
      expect(oneErrorLine(result.stderr)).toMatch(new RegExp(`device ${device} is unavailable`));
    }
  });
});

describe('--reference-map', () => {
  it('takes a JSON file (paths relative to it) or inline JSON (paths relative to the current folder)', async () => {
    const mapFile = join(dir, 'refs.json');
    await writeFile(mapFile, JSON.stringify({ 0: 'no-such-image.jpg' }));
    const fromFile = await runCli([clip, '-o', join(dir, 'ref1.mp4'), '--model', model, '--reference-map', mapFile]);
    expect(fromFile.code).toBe(1);
    // The image path was resolved against the map file's folder.
    expect(oneErrorLine(fromFile.stderr)).toMatch(new RegExp(`reference image ${join(dir, 'no-such-image.jpg')} could not be read`));

    const inline = await runCli([clip, '-o', join(dir, 'ref2.mp4'), '--model', model, '--reference-map', '{"0": "elsewhere.jpg"}']);
    expect(inline.code).toBe(1);
    expect(oneErrorLine(inline.stderr)).toMatch(new RegExp(`reference image ${join(process.cwd(), 'elsewhere.jpg')} could not be read`));

    const bad = await runCli([clip, '--model', model, '--reference-map', '{"0": 3}']);
    expect(bad.code).toBe(2);
    expect(oneErrorLine(bad.stderr)).toMatch(/inline reference map: shot 0 must map to an image path/);

    const outOfRange = await runCli([clip, '--model', model, '--reference-map', '{"4": "a.jpg"}']);
    expect(outOfRange.code).toBe(2);
    expect(oneErrorLine(outOfRange.stderr)).toMatch(/names shot 4, but the film has 1 shot \(0\)$/);
  });
});

describe('words and ranges', () => {
  it('says "1 shot" and "25 frames" in the summary', async () => {
    const result = await runCli([clip, '-o', join(dir, 'one.mp4'), '--model', model]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/: 25 frames, 1 shot in /);
  });

  it('shot ranges are start-inclusive, end-exclusive in text and JSON alike', async () => {
    const json = await runCli(['shots', threeShots, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const shots = JSON.parse(json.stdout) as Array<{ index: number; startFrame: number; endFrame: number }>;
    expect(shots.map((s) => [s.startFrame, s.endFrame])).toEqual([
      [0, 20],
      [20, 50],
      [50, 75],
    ]);
    const text = await runCli(['shots', threeShots]);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^shot +0 {2}frames \[0, 20\) {2}20 frames {2}\[00:00:00\.000, 00:00:00\.800\)$/);
    expect(lines[1]).toMatch(/frames \[20, 50\) {2}30 frames {2}\[00:00:00\.800, 00:00:02\.000\)$/);
  });
});

describe('progress', () => {
  it('reports from the start: probing, loading the model, scanning shots, then colorizing', async () => {
    const phases: Array<{ phase: Progress['phase']; at: number }> = [];
    const started = performance.now();
    await colorizeVideo({
      input: clip,
      output: join(dir, 'progress.mp4'),
      model,
      onProgress: (p) => phases.push({ phase: p.phase, at: performance.now() - started }),
    });
    const order = [...new Set(phases.map((p) => p.phase))];
    expect(order).toEqual(['probe', 'model', 'shots', 'colorize']);
    // The first report comes before any work is done, not after the first frames.
    expect(phases[0].at).toBeLessThan(50);
  });

  it('draws a status line on a terminal at once, and shows no rate until one is known', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 100 }) as unknown as NodeJS.WriteStream & PassThrough;
    let written = '';
    stream.on('data', (d: Buffer) => (written += d.toString()));
    const bar = new ProgressBar(stream);
    bar.update({ phase: 'probe', done: 0, total: 0, fps: NaN, etaSeconds: NaN });
    expect(written).toMatch(/reading the input/);
    bar.update({ phase: 'model', done: 0, total: 0, fps: NaN, etaSeconds: NaN });
    expect(written).toMatch(/loading the model/);
    bar.update({ phase: 'colorize', done: 1, total: 100, fps: NaN, etaSeconds: NaN });
    expect(written).toMatch(/colorizing \[\.+\] 1\/100 frames {2}-- fps {2}ETA --/);
  });

  it('estimates the rate from the first finished frame on, so a slow start does not inflate the ETA', () => {
    // 3 s of start-up before the first frame, then a steady 10 frames per second.
    const rate = new RateEstimator();
    rate.add(3.0, 1);
    expect(rate.etaSeconds(301)).toBeNaN();
    rate.add(3.5, 6);
    expect(rate.etaSeconds(301)).toBeNaN(); // half a second of data: not yet
    for (let t = 4; t <= 8; t += 0.5) rate.add(t, 1 + Math.round((t - 3) * 10));
    expect(rate.fps()).toBeCloseTo(10, 6);
    // 51 frames done at t=8: 250 to go at 10 fps.
    expect(rate.etaSeconds(301)).toBeCloseTo(25, 6);
    // A slowdown shows within the window instead of being averaged away over the whole run.
    for (let t = 8.5; t <= 30; t += 0.5) rate.add(t, 51 + Math.round((t - 8) * 5));
    expect(rate.fps()).toBeCloseTo(5, 6);
  });
});

function hasGpuDeviceNode(): boolean {
  const has = (folder: string, pattern: RegExp) => {
    try {
      return readdirSync(folder).some((name) => pattern.test(name));
    } catch {
      return false;
    }
  };
  return has('/dev', /^(nvidia\d+|dxg)$/) || has('/dev/dri', /^renderD\d+$/);
}
