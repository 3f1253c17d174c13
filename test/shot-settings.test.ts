import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abStats, applyAbTransform, paletteTransfer } from '../src/color/palette.js';
import { projectPathFor, readProjectFile, writeProjectFile } from '../src/project/project-file.js';
import { TemporalSmoother } from '../src/temporal/smoother.js';
import { ffmpeg, rawFrames, runCli } from './helpers/media.js';
import { writeTestModel } from './helpers/test-models.js';

const W = 96;
const H = 64;
const FRAME_BYTES = (W * H * 3) / 2;
/** Two shots: frames 0-14 and 15-29. */
const STARTS = [0, 15, 30];

let dir: string;
let film: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-settings-'));
  model = await writeTestModel(join(dir, 'model'), { a: 20, b: -15, globalGain: 10, workingShortSide: 32 });
  film = join(dir, 'reel.mkv');
  const graph = `[0:v]trim=end_frame=15,setpts=PTS-STARTPTS,format=yuv420p,setsar=1[s0];[1:v]trim=end_frame=15,setpts=PTS-STARTPTS,format=yuv420p,setsar=1[s1];[s0][s1]concat=n=2:v=1:a=0,hue=s=0[v]`;
  await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=s=${W}x${H}:r=25`, '-f', 'lavfi', '-i', `mandelbrot=s=${W}x${H}:r=25`, '-filter_complex', graph, '-map', '[v]', '-c:v', 'ffv1', film]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Mean |Cb − 128| + |Cr − 128| of a frame: 0 for gray. */
function chromaSpread(frames: Buffer, frame: number): number {
  const chroma = frames.subarray(frame * FRAME_BYTES + W * H, (frame + 1) * FRAME_BYTES);
  let sum = 0;
  for (const v of chroma) sum += Math.abs(v - 128);
  return sum / chroma.length;
}

describe('palette transfer', () => {
  it('strength 1 gives the target mean and covariance, strength 0 changes nothing', () => {
    const n = 500;
    const ab = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      ab[i] = 5 + 4 * Math.sin(i);
      ab[n + i] = -3 + 3 * Math.cos(1.7 * i) + 0.5 * Math.sin(i);
    }
    const target = { meanA: 30, meanB: 10, cov: [60, 10, 40] as [number, number, number] };
    const moved = applyAbTransform(ab.slice(), paletteTransfer(abStats([ab]), target, 1), 1);
    const stats = abStats([moved]);
    expect(stats.meanA).toBeCloseTo(30, 3);
    expect(stats.meanB).toBeCloseTo(10, 3);
    // Covariance: matched up to the floor added to the source's spread (so gray stays calm).
    expect(stats.cov[0]).toBeGreaterThan(30);
    expect(stats.cov[0]).toBeLessThan(60);
    const same = applyAbTransform(ab.slice(), paletteTransfer(abStats([ab]), target, 0), 1);
    expect(Array.from(same)).toEqual(Array.from(ab));
    const half = abStats([applyAbTransform(ab.slice(), paletteTransfer(abStats([ab]), target, 0.5), 1)]);
    expect(half.meanA).toBeCloseTo((abStats([ab]).meanA + 30) / 2, 3);
  });

  it('with lightness, dark goes with dark and light with light, and the mean stays the reference\'s', () => {
    const n = 400;
    const lightness = Float32Array.from({ length: n }, (_, i) => (i < n / 2 ? 15 : 85));
    const shot = new Float32Array(2 * n).map((_, i) => 5 + 3 * Math.sin(i)); // no link between colour and lightness
    const reference = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      reference[i] = i < n / 2 ? -20 : 20; // dark pixels green, light ones red
      reference[n + i] = 10;
    }
    const target = abStats([reference], [lightness]);
    const map = paletteTransfer(abStats([shot], [lightness]), target, 1);
    const moved = applyAbTransform(shot.slice(), map, 1, lightness);
    const stats = abStats([moved], [lightness]);
    expect(stats.bands!.a[0]).toBeLessThan(-10);
    expect(stats.bands!.a[2]).toBeGreaterThan(10);
    expect(stats.meanA).toBeCloseTo(target.meanA, 3);
    expect(stats.meanB).toBeCloseTo(target.meanB, 3);
    expect(() => applyAbTransform(shot.slice(), map, 1)).toThrow(/needs the lightness/);
  });

  it('intensity is a gain on a*b*', () => {
    const ab = Float32Array.from([10, -4, 6, 2]);
    expect(Array.from(applyAbTransform(ab, { m: [1, 0, 0, 1], t: [0, 0] }, 0.5))).toEqual([5, -2, 3, 1]);
  });
});

describe('per-shot temporal strength', () => {
  it('reset(strength) changes the smoothing from that shot on', () => {
    const w = 16;
    const h = 12;
    const luma = new Float32Array(w * h).fill(50);
    const first = new Float32Array(2 * w * h).fill(20);
    const second = new Float32Array(2 * w * h).fill(-20);
    const smoother = new TemporalSmoother(w, h, { strength: 1 });
    smoother.process(luma, first);
    expect(smoother.process(luma, second)[0]).toBeGreaterThan(-20); // history carried over
    smoother.reset(0);
    smoother.process(luma, first);
    expect(smoother.process(luma, second)[0]).toBe(-20); // no smoothing in this shot
    expect(() => smoother.reset(2)).toThrow(/strength must be in \[0, 1\]/);
  });
});

describe('settings file in the CLI and batch', () => {
  it('--settings applies intensity and a reference to their shots only', async () => {
    const plain = join(dir, 'plain.mkv');
    expect((await runCli([film, '--model', model, '--codec', 'ffv1', '-o', plain])).code).toBe(0);
    const blue = join(dir, 'blue.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 20, g: 40, b: 220 } } }).png().toFile(blue);
    const settings = join(dir, 'choices.colorize.json');
    await writeFile(settings, JSON.stringify({ version: 1, shots: { '0': { intensity: 0 }, '1': { reference: 'blue.png' } } }));
    const styled = join(dir, 'styled.mkv');
    const result = await runCli([film, '--model', model, '--codec', 'ffv1', '--settings', settings, '-o', styled]);
    expect(result.code, result.stderr).toBe(0);
    const a = await rawFrames(plain);
    const b = await rawFrames(styled);
    for (let f = 0; f < 30; f++) {
      if (f < STARTS[1]) {
        expect(chromaSpread(a, f)).toBeGreaterThan(3);
        expect(chromaSpread(b, f), `frame ${f} gray`).toBeLessThan(0.5);
      } else {
        // Blue reference: Cb (blue-difference) rises above the automatic colors'.
        const cb = (frames: Buffer) => frames.subarray(f * FRAME_BYTES + W * H, f * FRAME_BYTES + W * H + (W * H) / 4).reduce((s, v) => s + v, 0) / ((W * H) / 4);
        expect(cb(b) - cb(a), `frame ${f} bluer`).toBeGreaterThan(10);
      }
    }
  });

  it('settings are keyed by the film\'s shot numbers, also when rendering a piece with --start', async () => {
    const settings = join(dir, 'piece.colorize.json');
    await writeFile(settings, JSON.stringify({ version: 1, shots: { '1': { intensity: 0 } } }));
    const piece = join(dir, 'piece.mkv');
    const result = await runCli([film, '--model', model, '--codec', 'ffv1', '--settings', settings, '--start', '0.4', '--duration', '0.4', '-o', piece]);
    expect(result.code, result.stderr).toBe(0);
    const frames = await rawFrames(piece); // film frames 10-19: 10-14 in shot 0, 15-19 in shot 1
    expect(frames.length / FRAME_BYTES).toBe(10);
    expect(chromaSpread(frames, 2)).toBeGreaterThan(3);
    expect(chromaSpread(frames, 7)).toBeLessThan(0.5);
  });

  it('batch takes the project file beside each film', async () => {
    await writeProjectFile(projectPathFor(film), { version: 1, film: 'reel.mkv', shots: { '1': { intensity: 0 } } });
    expect(await readFile(join(dir, 'reel.colorize.json'), 'utf8')).toContain('"intensity": 0');
    const out = join(dir, 'out');
    const result = await runCli(['batch', film, '--out-dir', out, '--model', model, '--codec', 'ffv1']);
    expect(result.code, result.stderr).toBe(0);
    const frames = await rawFrames(join(out, 'reel.color.mkv'));
    expect(chromaSpread(frames, 5)).toBeGreaterThan(3);
    expect(chromaSpread(frames, 20)).toBeLessThan(0.5);
    const project = await readProjectFile(projectPathFor(film));
    expect(project.shots).toEqual({ '1': { intensity: 0 } });
  });

  it('batch rendering a film in chunks (one per shot) keys the settings by the film\'s shot numbers, and refuses a shot it does not have', async () => {
    await writeProjectFile(projectPathFor(film), { version: 1, film: 'reel.mkv', shots: { '1': { intensity: 0 } } });
    const out = join(dir, 'out-chunks');
    const result = await runCli(['batch', film, '--out-dir', out, '--model', model, '--codec', 'ffv1', '--chunk-seconds', '0.3']);
    expect(result.code, result.stderr).toBe(0);
    const frames = await rawFrames(join(out, 'reel.color.mkv'));
    expect(frames.length / FRAME_BYTES).toBe(30);
    expect(chromaSpread(frames, 5)).toBeGreaterThan(3);
    expect(chromaSpread(frames, 20)).toBeLessThan(0.5);
    await writeProjectFile(projectPathFor(film), { version: 1, film: 'reel.mkv', shots: { '4': { intensity: 0 } } });
    const wrong = await runCli(['batch', film, '--out-dir', join(dir, 'out-wrong'), '--model', model, '--codec', 'ffv1', '--chunk-seconds', '0.3']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/settings file names shot 4, but the film has 2 shots \(0-1\)/);
    await rm(projectPathFor(film));
  });
});

describe('color hints', () => {
  it('reach a model with a hint input on the frame they were given on, and nothing before it', async () => {
    const hinted = await writeTestModel(join(dir, 'hint-model'), { a: 5, b: 5, workingShortSide: 32, hints: true });
    const plain = join(dir, 'hint-plain.mkv');
    expect((await runCli([film, '--model', hinted, '--codec', 'ffv1', '--no-temporal', '-o', plain])).code).toBe(0);
    const settings = join(dir, 'hints.colorize.json');
    await writeFile(settings, JSON.stringify({ version: 1, shots: { '0': { hints: [{ frame: 5, x: 0.5, y: 0.5, a: 60, b: 0 }] } } }));
    const output = join(dir, 'hint-given.mkv');
    const result = await runCli([film, '--model', hinted, '--codec', 'ffv1', '--no-temporal', '--settings', settings, '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const a = await rawFrames(plain);
    const b = await rawFrames(output);
    const crAtCentre = (frames: Buffer, f: number) => frames[f * FRAME_BYTES + W * H + (W * H) / 4 + (H / 4) * (W / 2) + W / 4];
    expect(crAtCentre(b, 5) - crAtCentre(a, 5), 'Cr (red) rises where the hint is').toBeGreaterThan(10);
    for (const f of [0, 4, 6, 20]) expect(b.subarray(f * FRAME_BYTES, (f + 1) * FRAME_BYTES).equals(a.subarray(f * FRAME_BYTES, (f + 1) * FRAME_BYTES)), `frame ${f} unchanged`).toBe(true);
    // The shipped model has no hint input: the hints are kept but not used, and the user is told.
    const ignored = await runCli([film, '--model', model, '--codec', 'ffv1', '--settings', settings, '-o', join(dir, 'hint-ignored.mkv')]);
    expect(ignored.code).toBe(0);
    expect(ignored.stderr).toMatch(/color hints in the settings were not used: this model has no hint input/);
  });

  it('a hint given as an sRGB color is stored as its Lab a*, b*', async () => {
    const { parseProject } = await import('../src/project/project-file.js');
    const project = parseProject({ version: 1, shots: { '0': { hints: [{ frame: 2, x: 0.1, y: 0.2, color: '#ff0000' }] } } }, { source: 'x', baseDir: '/' });
    const [hint] = project.shots['0'].hints!;
    expect(hint.a).toBeCloseTo(80.1, 0);
    expect(hint.b).toBeCloseTo(67.2, 0);
  });
});
