import { request as httpRequest } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheDir } from '../src/pipeline/find-shots.js';
import { type ReviewServer, startReviewServer } from '../src/review/server.js';
import { ffmpeg, rawFrames, runCli } from './helpers/media.js';
import { writeTestModel } from './helpers/test-models.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), '.out', 'review');
const W = 160;
const H = 96;
/** Three shots: frames 0-19, 20-44, 45-64. */
const SEGMENTS: Array<[string, number]> = [
  [`testsrc2=s=${W}x${H}:r=25`, 20],
  [`mandelbrot=s=${W}x${H}:r=25`, 25],
  [`smptebars=s=${W}x${H}:r=25`, 20],
];

let dir: string;
let film: string;
let model: string;
let server: ReviewServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-review-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  // Constant a*b* plus a global term, so every shot is clearly colored and a reference visibly moves it.
  model = await writeTestModel(join(dir, 'model'), { a: 18, b: 24, globalGain: 20, workingShortSide: 64 });
  film = join(dir, 'film.mp4');
  const inputs = SEGMENTS.flatMap(([source]) => ['-f', 'lavfi', '-i', source]);
  const graph = SEGMENTS.map(([, frames], i) => `[${i}:v]trim=end_frame=${frames},setpts=PTS-STARTPTS,format=yuv420p,setsar=1[s${i}]`).join(';');
  await ffmpeg([...inputs, '-filter_complex', `${graph};[s0][s1][s2]concat=n=3:v=1:a=0,hue=s=0[v]`, '-map', '[v]', '-c:v', 'libx264', '-crf', '12', '-pix_fmt', 'yuv420p', film]);
  server = await startReviewServer({ film, model, device: 'cpu', maxUploadBytes: 512 * 1024 });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Mean saturation (max − min of R, G, B, 0..255) of a loaded <img>, read back through a canvas. */
async function thumbSaturation(shot: number): Promise<number> {
  const selector = `.card[data-shot="${shot}"] img.color`;
  await page.waitForFunction((s) => {
    const img = document.querySelector<HTMLImageElement>(s);
    return Boolean(img && img.complete && img.naturalWidth > 0);
  }, selector);
  return page.evaluate((s) => {
    const img = document.querySelector<HTMLImageElement>(s)!;
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d')!;
    context.drawImage(img, 0, 0);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]);
    return sum / (data.length / 4);
  }, selector);
}

/** Mean R−B of a shot's color thumbnail as the page shows it (how red rather than blue). */
async function thumbWarmth(shot: number): Promise<number> {
  const selector = `.card[data-shot="${shot}"] img.color`;
  return page.evaluate((s) => {
    const img = document.querySelector<HTMLImageElement>(s)!;
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d')!;
    context.drawImage(img, 0, 0);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += data[i] - data[i + 2];
    return sum / (data.length / 4);
  }, selector);
}

async function thumbSrc(shot: number): Promise<string> {
  return page.locator(`.card[data-shot="${shot}"] img.color`).getAttribute('src') as Promise<string>;
}

async function setSlider(id: string, value: number): Promise<void> {
  await page.evaluate(
    ([selector, v]) => {
      const input = document.querySelector<HTMLInputElement>(selector as string)!;
      input.value = String(v);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    },
    [`#${id}`, value],
  );
}

async function waitForSaved(): Promise<void> {
  await page.waitForFunction(() => /saved to/.test(document.querySelector('#settings-status')?.textContent ?? ''));
}

function rawGet(path: string, headers: Record<string, string> = {}): Promise<number> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('review room in a real browser', () => {
  it('shows one card per shot with gray and color thumbnails, usable at 1280×720', async () => {
    await expect.poll(() => page.locator('.card').count()).toBe(3);
    await expect.poll(() => page.locator('#film-facts').textContent()).toMatch(/160×96, 25 fps, 3 shots/);
    for (const shot of [0, 1, 2]) expect(await thumbSaturation(shot)).toBeGreaterThan(10);
    await expect.poll(() => page.locator('.card[data-shot="1"] .meta').textContent()).toMatch(/#1\s*frames \[20, 45\)\s*0:00\.80/);
    await page.screenshot({ path: join(SCREENSHOTS, 'overview.png') });
  });

  it('clicking a shot plays its preview (the video time advances), and the keyboard steps shots and frames', async () => {
    await page.locator('.card[data-shot="1"]').click();
    await page.waitForFunction(() => {
      const video = document.querySelector<HTMLVideoElement>('#video')!;
      return video.dataset.shot === '1' && video.currentTime > 0.2;
    });
    expect(await page.locator('.card[data-shot="1"]').getAttribute('aria-selected')).toBe('true');
    await page.screenshot({ path: join(SCREENSHOTS, 'preview-wipe.png') });
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('#video')!.dataset.shot === '2');
    await page.keyboard.press('ArrowUp');
    await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('#video')!.dataset.shot === '1');
    await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('#video')!.readyState >= 2);
    await page.keyboard.press('ArrowLeft'); // pauses and steps
    const before = await page.evaluate(() => document.querySelector<HTMLVideoElement>('#video')!.currentTime);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((t) => Math.abs(document.querySelector<HTMLVideoElement>('#video')!.currentTime - (t + 2 / 25)) < 0.01, before);
    await expect.poll(() => page.locator('#frame-label').textContent()).toMatch(/^frame \d+ of \[20, 45\)$/);
    await page.locator('input[name=mode][value=side]').check();
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('#canvas')!.width === 320);
    await page.screenshot({ path: join(SCREENSHOTS, 'preview-side-by-side.png') });
    await page.locator('input[name=mode][value=wipe]').check();
  });

  it('intensity on one shot changes that shot thumbnail only, and the project file holds exactly that', async () => {
    const before = await Promise.all([0, 1, 2].map(thumbSaturation));
    const sources = await Promise.all([0, 2].map(thumbSrc));
    await page.locator('.card[data-shot="1"]').click();
    await setSlider('intensity', 0);
    await waitForSaved();
    await page.waitForFunction(() => /v=1/.test(document.querySelector<HTMLImageElement>('.card[data-shot="1"] img.color')!.src));
    await expect.poll(() => thumbSaturation(1), { timeout: 60_000 }).toBeLessThan(3);
    expect(before[1]).toBeGreaterThan(10);
    expect(await Promise.all([0, 2].map(thumbSrc))).toEqual(sources);
    expect(await thumbSaturation(0)).toBeCloseTo(before[0], 5);
    expect(await thumbSaturation(2)).toBeCloseTo(before[2], 5);
    const project = JSON.parse(await readFile(join(dir, 'film.colorize.json'), 'utf8'));
    expect(project).toEqual({ version: 1, film: 'film.mp4', shots: { '1': { intensity: 0 } } });
  });

  it('an uploaded reference on one shot moves that shot towards its colors only', async () => {
    const red = join(dir, 'red-barn.png');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 20 } } }).png().toFile(red);
    const warmthBefore = await Promise.all([0, 1, 2].map(thumbWarmth));
    await page.locator('.card[data-shot="2"]').click();
    await page.locator('#upload').setInputFiles(red);
    await waitForSaved();
    await page.waitForFunction(() => /v=1/.test(document.querySelector<HTMLImageElement>('.card[data-shot="2"] img.color')!.src));
    await expect.poll(() => thumbWarmth(2), { timeout: 60_000 }).toBeGreaterThan(warmthBefore[2] + 20);
    expect(await thumbWarmth(0)).toBeCloseTo(warmthBefore[0], 5);
    expect(await thumbWarmth(1)).toBeCloseTo(warmthBefore[1], 5);
    expect(await page.locator('#reference').inputValue()).toBe('red-barn.png');
    const project = JSON.parse(await readFile(join(dir, 'film.colorize.json'), 'utf8'));
    expect(project).toEqual({ version: 1, film: 'film.mp4', shots: { '1': { intensity: 0 }, '2': { reference: 'film.references/red-barn.png' } } });
    await page.screenshot({ path: join(SCREENSHOTS, 'reference-set.png') });
  });

  it('colorize-video --settings with the project file renders the colors the page previewed', async () => {
    const output = join(dir, 'film.settings.mp4');
    const result = await runCli([film, '--model', model, '--device', 'cpu', '--settings', join(dir, 'film.colorize.json'), '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const rendered = await rawFrames(output, 'rgb24');
    const frameBytes = W * H * 3;
    const starts = [0, 20, 45, 65];
    for (const shot of [0, 1, 2]) {
      const response = await fetch(new URL(`/api/shots/${shot}/preview`, server.url), { method: 'POST' });
      const { key } = (await response.json()) as { key: string };
      const preview = await rawFrames(join(cacheDir(), 'review', `${key}.mp4`), 'rgb24');
      const previewFrames = preview.length / (2 * frameBytes);
      expect(previewFrames).toBe(starts[shot + 1] - starts[shot]);
      let worst = 0;
      for (let f = 0; f < previewFrames; f++) {
        // Right half of the side-by-side preview is the colorized picture.
        let diff = 0;
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W * 3; x++) {
            diff += Math.abs(preview[(f * H + y) * 2 * W * 3 + W * 3 + x] - rendered[(starts[shot] + f) * frameBytes + y * W * 3 + x]);
          }
        }
        worst = Math.max(worst, diff / frameBytes);
      }
      expect(worst, `shot ${shot}: mean |RGB difference| of the worst frame`).toBeLessThan(4);
    }
    // And the settings did something: shot 1 (intensity 0) is gray, shot 0 is not.
    const saturation = (frame: number) => {
      let sum = 0;
      for (let i = frame * frameBytes; i < (frame + 1) * frameBytes; i += 3) sum += Math.max(rendered[i], rendered[i + 1], rendered[i + 2]) - Math.min(rendered[i], rendered[i + 1], rendered[i + 2]);
      return sum / (W * H);
    };
    expect(saturation(30)).toBeLessThan(4);
    expect(saturation(10)).toBeGreaterThan(10);
  });

  it('refuses path traversal, foreign hosts, oversized uploads and non-images', async () => {
    for (const path of ['/../../etc/passwd', '/media/previews/..%2F..%2F..%2Fetc%2Fpasswd', '/media/references/..%2Ffilm.mp4', '/media/references/%2Fetc%2Fpasswd', '/web/review/app.ts']) {
      expect(await rawGet(path), path).toBe(404);
    }
    expect(await rawGet('/api/state', { host: 'attacker.example' })).toBe(403);
    expect(await rawGet('/api/state')).toBe(200);
    const big = Buffer.alloc(1024 * 1024, 1);
    const oversized = await fetch(new URL('/api/references?name=big.png', server.url), { method: 'POST', body: big, headers: { 'content-type': 'image/png' } });
    expect(oversized.status).toBe(413);
    const notImage = await fetch(new URL('/api/references?name=evil.png', server.url), { method: 'POST', body: Buffer.from('#!/bin/sh\necho hi\n'), headers: { 'content-type': 'image/png' } });
    expect(notImage.status).toBe(415);
    const badReference = await fetch(new URL('/api/shots/0/settings', server.url), {
      method: 'PUT',
      body: JSON.stringify({ reference: '../film.mp4' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(badReference.status).toBe(400);
    const badIntensity = await fetch(new URL('/api/shots/0/settings', server.url), { method: 'PUT', body: JSON.stringify({ intensity: 9 }), headers: { 'content-type': 'application/json' } });
    expect(badIntensity.status).toBe(400);
    expect(((await badIntensity.json()) as { error: string }).error).toMatch(/intensity" must be a number from 0 to 3/);
  });

  it('a token is required when one is set (as on a non-loopback host), and a new server reloads the project file', async () => {
    const guarded = await startReviewServer({ film, model, device: 'cpu', token: 'abc123' });
    try {
      const url = new URL(guarded.url);
      expect(url.searchParams.get('token')).toBe('abc123');
      expect((await fetch(new URL('/api/state', url.origin))).status).toBe(403);
      expect((await fetch(new URL('/api/state?token=wrong1', url.origin))).status).toBe(403);
      const reloaded = await fetch(new URL('/api/state?token=abc123', url.origin));
      expect(reloaded.status).toBe(200);
      // A server started later reloads the choices from the project file.
      expect(((await reloaded.json()) as { project: { shots: unknown } }).project.shots).toEqual({ '1': { intensity: 0 }, '2': { reference: 'red-barn.png' } });
      // The page itself works from the printed URL (its script and style come with the cookie the token set).
      expect((await fetch(new URL('/app.js', url.origin))).status).toBe(403);
      const guest = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      try {
        await guest.goto(guarded.url);
        await expect.poll(() => guest.locator('.card').count()).toBe(3);
        await expect.poll(() => guest.locator('.card[data-shot="1"] .changed').textContent()).toBe('×0');
      } finally {
        await guest.close();
      }
    } finally {
      await guarded.close();
    }
  });

  it('renders the film with live progress, and a page opened later sees the render', async () => {
    await page.locator('#render-button').click();
    const later = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    try {
      await later.goto(server.url);
      await later.waitForFunction(() => {
        const status = document.querySelector('#render-status')?.textContent ?? '';
        return /frames|finding shots|rendered/.test(status);
      });
      await page.waitForFunction(() => !document.querySelector<HTMLAnchorElement>('#render-link')!.hidden, undefined, { timeout: 90_000 });
      await later.waitForFunction(() => /rendered film\.color\.mp4/.test(document.querySelector('#render-status')?.textContent ?? ''));
      await page.screenshot({ path: join(SCREENSHOTS, 'rendered.png') });
      const href = await page.locator('#render-link').getAttribute('href');
      const download = await fetch(new URL(href!, server.url));
      expect(download.status).toBe(200);
      const bytes = Buffer.from(await download.arrayBuffer());
      expect(bytes.equals(await readFile(join(dir, 'film.color.mp4')))).toBe(true);
    } finally {
      await later.close();
    }
  });
});

describe('colorize-video review (the command)', () => {
  it('prints the URL of a server on 127.0.0.1 and stops cleanly on SIGINT', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['bin/colorize-video.js', 'review', film, '--model', model, '--device', 'cpu'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const match = /^(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(stdout);
        if (match) resolve(match[1]);
      });
      child.on('exit', () => reject(new Error(`review exited early: ${stderr}`)));
    });
    const state = (await (await fetch(new URL('/api/state', url))).json()) as { shots: unknown[] };
    expect(state.shots).toHaveLength(3);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const missing = await runCli(['review', join(dir, 'no-such-film.mp4')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('preview cancellation', () => {
  it('a preview nobody waits for any more is cancelled; one still awaited by another page is not', async () => {
    const { Colorizer } = await import('../src/infer/colorizer.js');
    const { probeVideo } = await import('../src/decode/probe.js');
    const { PreviewStore } = await import('../src/review/previews.js');
    const { existsSync } = await import('node:fs');
    const info = await probeVideo(film);
    const colorizer = await Colorizer.load(model, 'cpu');
    try {
      const store = new PreviewStore({ info, shots: [{ index: 0, startFrame: 0, endFrame: 20, startTime: 0, endTime: 0.8 }], colorizer, dir: join(dir, 'previews') });
      const settings = { intensity: 0.37 };
      const alone = new AbortController();
      const cancelled = store.preview(0, settings, alone.signal);
      alone.abort();
      await expect(cancelled).rejects.toThrow();
      expect(existsSync(store.videoPath(await store.key(0, settings)))).toBe(false);
      const first = new AbortController();
      const second = new AbortController();
      const a = store.preview(0, settings, first.signal);
      const b = store.preview(0, settings, second.signal);
      first.abort();
      await expect(a).rejects.toThrow(/preview cancelled/); // its waiting ends, the shared render goes on
      const { path } = await b;
      expect(existsSync(path)).toBe(true);
    } finally {
      await colorizer.release();
    }
  });
});

describe('project file validation', () => {
  it('rejects bad settings files with one-line errors', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ version: 2, shots: {} }, /"version" must be 1 \(found 2\)/],
      [{ version: 1, shots: { one: {} } }, /shot "one" is not a shot number/],
      [{ version: 1, shots: { '0': { intensity: -1 } } }, /"shots\.0\.intensity" must be a number from 0 to 3/],
      [{ version: 1, shots: { '0': { saturation: 1 } } }, /unknown setting "shots\.0\.saturation"/],
      [{ version: 1, shots: { '0': { hints: [{ frame: 3, x: 2, y: 0, color: '#ff0000' }] } } }, /"shots\.0\.hints\[0\]\.x" must be a number from 0 to 1/],
      [{ version: 1, shots: { '7': { intensity: 1 } } }, /settings file names shot 7, but the film has 3 shots \(0-2\)/],
    ];
    for (const [content, message] of cases) {
      const path = join(dir, 'bad.colorize.json');
      await writeFile(path, JSON.stringify(content));
      const result = await runCli([film, '--model', model, '--settings', path, '-o', join(dir, 'never.mp4')]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    }
    await writeFile(join(dir, 'broken.json'), '{ "version": 1, ');
    const broken = await runCli([film, '--model', model, '--settings', join(dir, 'broken.json'), '-o', join(dir, 'never.mp4')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/settings file .*broken\.json is not valid JSON/);
  });
});
