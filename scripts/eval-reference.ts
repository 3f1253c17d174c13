/**
 * How far a reference image moves the colors (issue #15).
 * Run: npx tsx scripts/eval-reference.ts [--set kodak24] [--limit N] [--offset K] [--strengths 0.5,1] [--model DIR]
 *
 * Each image i of the set is reduced to its L* and colorized through the product's inference path
 * (colorizeImageLightness) three ways: without a reference, with image i+K's picture as reference
 * the old way (its L* view feeds the global network, nothing else), and with the palette transfer
 * (global features as before, then the shot's a*b* mapped towards the reference's a*b* mean and
 * covariance) at each strength. Reported per variant, averaged over the images:
 * - d: distance (a*b* units) between the output's mean a*b* and the reference's mean a*b*;
 * - moved: how much of the no-reference distance d0 the variant removed, (d0 − d) / d0;
 * - the same distance within lightness bands (dark, middle, light: does dark go with dark?);
 * - W2: the 2-Wasserstein distance between the output's and the reference's a*b* Gaussians
 *   (mean and covariance: the palette, not just its centre);
 * - PSNR against the image's own truth (a reference from another picture is not expected to help it).
 * Writes .out/eval-reference.json.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { Colorizer } from '../src/infer/colorizer.js';
import { referenceLightnessView } from '../src/infer/reference.js';
import { type AbStats, abStats } from '../src/color/palette.js';
import { defaultModelPath } from '../src/pipeline/model-path.js';
import { colorizeImageLightness, labToSrgb8, srgb8ToLightness } from '../src/pipeline/colorize-image.js';
import { referencePalette } from '../src/pipeline/shot-plan.js';
import { mean, psnr8 } from './lib/image-metrics.js';
import { OUT_DIR, ScriptError, datasetDir, runMain } from './lib/paths.js';
import { fixed, markdownTable, percent, toJson } from './lib/table.js';

const IMAGE_EXTENSIONS = /\.(jpe?g|png|tiff?|bmp|webp)$/i;

interface Measure {
  distance: number;
  bandDistance: number;
  w2: number;
  psnr: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      set: { type: 'string', default: 'kodak24' },
      limit: { type: 'string' },
      offset: { type: 'string', default: '12' },
      strengths: { type: 'string', default: '0.5,1' },
      model: { type: 'string' },
    },
  });
  const dir = datasetDir('eval', 'images', values.set);
  const files = (await readdir(dir)).filter((f) => IMAGE_EXTENSIONS.test(f)).sort();
  const limit = values.limit ? Number(values.limit) : files.length;
  const offset = Number(values.offset);
  if (!Number.isInteger(offset) || offset <= 0 || offset >= files.length) throw new ScriptError(`--offset must be from 1 to ${files.length - 1}`);
  const strengths = values.strengths.split(',').map(Number);
  if (strengths.some((s) => !(s >= 0 && s <= 1))) throw new ScriptError('--strengths must be numbers from 0 to 1');
  const colorizer = await Colorizer.load(values.model ?? defaultModelPath(), 'cpu');
  const variants = [
    'no reference',
    'reference, global features only (before)',
    'reference + palette transfer without lightness bands, strength 1',
    ...strengths.map((s) => `reference + palette transfer, strength ${s}`),
  ];
  const results: Measure[][] = variants.map(() => []);
  try {
    for (let i = 0; i < Math.min(limit, files.length); i++) {
      const imagePath = join(dir, files[i]);
      const referencePath = join(dir, files[(i + offset) % files.length]);
      const { width, height, rgb } = await readSrgb(imagePath);
      const lightness = srgb8ToLightness(rgb, width, height, 3);
      const view = await referenceLightnessView(referencePath, colorizer.config.global.size);
      const palette = await referencePalette(referencePath);
      const outputs = [
        await colorizeImageLightness(colorizer, lightness, width, height),
        await colorizeImageLightness(colorizer, lightness, width, height, { reference: { view } }),
        await colorizeImageLightness(colorizer, lightness, width, height, { reference: { view, palette: { ...palette, bands: undefined }, strength: 1 } }),
        ...(await Promise.all(strengths.map((strength) => colorizeImageLightness(colorizer, lightness, width, height, { reference: { view, palette, strength } })))),
      ];
      outputs.forEach((ab, v) => results[v].push(measure(ab, lightness, width, height, rgb, palette)));
      process.stderr.write(`\r${values.set}: ${i + 1}/${Math.min(limit, files.length)}`);
    }
  } finally {
    await colorizer.release();
  }
  process.stderr.write('\n');
  const d0 = results[0].map((m) => m.distance);
  const rows = variants.map((name, v) => {
    const d = results[v].map((m) => m.distance);
    const moved = mean(d.map((dist, i) => (d0[i] - dist) / d0[i]));
    return { name, distance: mean(d), moved, bandDistance: mean(results[v].map((m) => m.bandDistance)), w2: mean(results[v].map((m) => m.w2)), psnr: mean(results[v].map((m) => m.psnr)) };
  });
  console.log(`${values.set}, ${results[0].length} images, reference = the image ${offset} places later (model ${colorizer.config.name})\n`);
  console.log(
    markdownTable(
      ['variant', 'mean a*b* distance to the reference', 'of it removed', 'same, per lightness band', 'W2 to the reference palette', 'PSNR vs own truth (dB)'],
      rows.map((r, v) => [r.name, fixed(r.distance, 2), v === 0 ? '–' : percent(r.moved), fixed(r.bandDistance, 2), fixed(r.w2, 2), fixed(r.psnr, 2)]),
    ),
  );
  await mkdir(OUT_DIR, { recursive: true });
  const json = join(OUT_DIR, 'eval-reference.json');
  await writeFile(json, toJson({ set: values.set, images: results[0].length, offset, strengths, rows }));
  console.log(`\nwrote ${json}`);
}

function measure(ab: Float32Array, lightness: Float32Array, width: number, height: number, truth: Uint8Array, palette: AbStats): Measure {
  const stats = abStats([ab], [lightness]);
  return {
    distance: Math.hypot(stats.meanA - palette.meanA, stats.meanB - palette.meanB),
    bandDistance: bandDistance(stats, palette),
    w2: gaussianW2(stats, palette),
    psnr: psnr8(labToSrgb8(lightness, ab, width, height), truth),
  };
}

/** Distance between the mean a*b* of the output and of the reference within each lightness band both have (≥ 5% of pixels), weighted by the output's share. */
function bandDistance(p: AbStats, q: AbStats): number {
  let sum = 0;
  let weight = 0;
  for (let k = 0; k < 3; k++) {
    if (p.bands!.share[k] < 0.05 || q.bands!.share[k] < 0.05) continue;
    sum += p.bands!.share[k] * Math.hypot(p.bands!.a[k] - q.bands!.a[k], p.bands!.b[k] - q.bands!.b[k]);
    weight += p.bands!.share[k];
  }
  return weight > 0 ? sum / weight : 0;
}

/** 2-Wasserstein distance between two Gaussians on a*b*: |μ1−μ2|² + tr(Σ1 + Σ2 − 2 (Σ2^½ Σ1 Σ2^½)^½), square-rooted. */
function gaussianW2(p: AbStats, q: AbStats): number {
  const sq = sqrt2(q.cov);
  const inner = sqrt2(sandwich(sq, p.cov));
  const trace = p.cov[0] + p.cov[2] + q.cov[0] + q.cov[2] - 2 * (inner[0] + inner[2]);
  return Math.sqrt((p.meanA - q.meanA) ** 2 + (p.meanB - q.meanB) ** 2 + Math.max(0, trace));
}

function sqrt2([xx, xy, yy]: [number, number, number]): [number, number, number] {
  const s = Math.sqrt(Math.max(0, xx * yy - xy * xy));
  const t = Math.sqrt(Math.max(1e-12, xx + yy + 2 * s));
  return [(xx + s) / t, xy / t, (yy + s) / t];
}

function sandwich(p: [number, number, number], q: [number, number, number]): [number, number, number] {
  const r00 = p[0] * q[0] + p[1] * q[1];
  const r01 = p[0] * q[1] + p[1] * q[2];
  const r10 = p[1] * q[0] + p[2] * q[1];
  const r11 = p[1] * q[1] + p[2] * q[2];
  return [r00 * p[0] + r01 * p[1], 0.5 * (r00 * p[1] + r01 * p[2] + r10 * p[0] + r11 * p[1]), r10 * p[1] + r11 * p[2]];
}

async function readSrgb(path: string): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const rgb = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = data[info.channels * i + (info.channels >= 3 ? c : 0)];
  return { width: info.width, height: info.height, rgb };
}

runMain(main);
