/**
 * Still-image quality of the colorizer on held-out color photographs (issues #4, #12).
 * Run: npx tsx scripts/eval-images.ts [--model DIR] [--sets kodak24,cbsd68,mcmaster,bsds-test] [--limit N]
 *      (a set may also be NAME=FOLDER: any folder of color photographs, e.g. a held-out slice)
 *      [--resolution PX] [--contact-sheet [--previous DIR]]
 *
 * Every image is turned into what a black-and-white film holds — its L* alone (a* = b* = 0) —
 * colorized through the product's own inference path (colorizeImageLightness) and compared to
 * the original. Per set: mean PSNR (8-bit RGB, peak 255) of ours and of the do-nothing gray
 * image, mean colorfulness (Hasler & Süsstrunk 2003) of ours, gray and truth, the class-balanced
 * hue recall pooled over the set (scripts/lib/hue-recall.ts), and the checks
 * PSNR_ours ≥ PSNR_gray + 0.5 dB, colorfulness_ours ≥ 0.7 × colorfulness_truth, hue recall ≥ 0.65.
 * Writes .out/eval-images.json and, with --contact-sheet, .out/contact-<set>.jpg
 * (gray | ours | truth, or gray | previous model | ours | truth with --previous DIR).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type OutputInfo } from 'sharp';
import { Colorizer } from '../src/infer/colorizer.js';
import { defaultModelPath } from '../src/pipeline/model-path.js';
import { colorizeImageLightness, labToSrgb8, srgb8ToLightness } from '../src/pipeline/colorize-image.js';
import { colorfulness, mean, psnr8 } from './lib/image-metrics.js';
import { formatSector, HUE_SECTOR_NAMES, HueRecall, type HueSector } from './lib/hue-recall.js';
import { OUT_DIR, ScriptError, datasetDir, runMain } from './lib/paths.js';
import { fixed, markdownTable, toJson, verdict } from './lib/table.js';

const ALL_SETS = ['kodak24', 'cbsd68', 'mcmaster', 'bsds-test'];
const IMAGE_EXTENSIONS = /\.(jpe?g|png|tiff?|bmp|webp)$/i;
const PSNR_MARGIN = 0.5;
const COLORFULNESS_RATIO = 0.7;
const HUE_RECALL_MIN = 0.65;
const THUMB_WIDTH = 192;
const THUMB_HEIGHT = 128;

interface ImageResult {
  file: string;
  width: number;
  height: number;
  psnrOurs: number;
  psnrGray: number;
  colorfulnessOurs: number;
  colorfulnessGray: number;
  colorfulnessTruth: number;
  seconds: number;
}

interface SetResult {
  set: string;
  images: number;
  psnrOurs: number;
  psnrGray: number;
  colorfulnessOurs: number;
  colorfulnessGray: number;
  colorfulnessTruth: number;
  hueRecall: number;
  hueSectors: HueSector[];
  checks: { psnrAtLeastGrayPlusHalfDb: boolean; colorfulnessAtLeast70PercentOfTruth: boolean; hueRecallAtLeast065: boolean };
  pass: boolean;
  perImage: ImageResult[];
}

interface Thumbs {
  gray: Buffer;
  previous?: Buffer;
  ours: Buffer;
  truth: Buffer;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      sets: { type: 'string', default: ALL_SETS.join(',') },
      limit: { type: 'string' },
      resolution: { type: 'string' },
      'contact-sheet': { type: 'boolean', default: false },
      previous: { type: 'string' },
    },
  });
  const named = values.sets.split(',').map((s) => s.trim()).filter(Boolean).map((set) => {
    const equals = set.indexOf('=');
    return equals < 0 ? { name: set, dir: datasetDir('eval', 'images', set) } : { name: set.slice(0, equals), dir: set.slice(equals + 1) };
  });
  const sets = named.map((set) => set.name);
  const setDirs = named.map((set) => set.dir);
  const limit = values.limit === undefined ? Infinity : positiveInt(values.limit, '--limit');
  const resolution = values.resolution === undefined ? undefined : positiveInt(values.resolution, '--resolution');
  const modelPath = values.model ?? defaultModelPath();
  const colorizer = await Colorizer.load(modelPath, 'cpu');
  const previous = values.previous && values['contact-sheet'] ? await Colorizer.load(values.previous, 'cpu') : undefined;
  await mkdir(OUT_DIR, { recursive: true });
  console.log(`model ${colorizer.config.name} (${colorizer.config.dir}), working short side ${resolution ?? colorizer.config.local.workingShortSide}`);
  const results: SetResult[] = [];
  const started = performance.now();
  try {
    for (const [k, set] of sets.entries()) {
      const files = (await readdir(setDirs[k])).filter((f) => IMAGE_EXTENSIONS.test(f)).sort(naturalOrder).slice(0, limit);
      if (files.length === 0) throw new ScriptError(`no images in ${setDirs[k]}`);
      const perImage: ImageResult[] = [];
      const thumbs: Thumbs[] = [];
      const hue = new HueRecall();
      for (const file of files) {
        const { result, thumb } = await evaluateImage(colorizer, join(setDirs[k], file), file, resolution, values['contact-sheet'], hue, previous);
        perImage.push(result);
        if (thumb) thumbs.push(thumb);
        progress(`${set}: ${perImage.length}/${files.length}`, perImage.length === files.length);
      }
      const summary = summarize(set, perImage, hue.value, hue.sectors);
      results.push(summary);
      if (values['contact-sheet']) await writeContactSheet(join(OUT_DIR, `contact-${set}.jpg`), thumbs);
    }
  } finally {
    await colorizer.release();
    await previous?.release();
  }
  const seconds = (performance.now() - started) / 1000;
  const rows = results.map((r) => [
    r.set,
    String(r.images),
    fixed(r.psnrOurs, 2),
    fixed(r.psnrGray, 2),
    fixed(r.psnrOurs - r.psnrGray, 2),
    fixed(r.colorfulnessOurs, 1),
    fixed(r.colorfulnessGray, 1),
    fixed(r.colorfulnessTruth, 1),
    fixed(r.colorfulnessOurs / r.colorfulnessTruth, 2),
    fixed(r.hueRecall, 2),
    verdict(r.checks.psnrAtLeastGrayPlusHalfDb),
    verdict(r.checks.colorfulnessAtLeast70PercentOfTruth),
    verdict(r.checks.hueRecallAtLeast065),
  ]);
  console.log();
  console.log(
    markdownTable(
      ['set', 'images', 'PSNR ours', 'PSNR gray', 'ΔPSNR', 'CF ours', 'CF gray', 'CF truth', 'CF ours/truth', 'hue recall', 'PSNR ≥ gray+0.5', 'CF ≥ 0.7×truth', 'hue ≥ 0.65'],
      rows,
    ),
  );
  const pass = results.every((r) => r.pass);
  console.log('\nhue recall per sector of the true hue (share of the scored pixels in brackets):');
  console.log(markdownTable(['set', ...HUE_SECTOR_NAMES], results.map((r) => [r.set, ...r.hueSectors.map(formatSector)])));
  console.log(`\nacceptance (#12): ${verdict(pass)} (${results.filter((r) => r.pass).length}/${results.length} sets pass all three checks); ${seconds.toFixed(1)} s`);
  const json = join(OUT_DIR, 'eval-images.json');
  await writeFile(
    json,
    toJson({
      model: { name: colorizer.config.name, dir: colorizer.config.dir },
      resolution: resolution ?? colorizer.config.local.workingShortSide,
      limit: Number.isFinite(limit) ? limit : null,
      seconds,
      pass,
      sets: results,
    }),
  );
  console.log(`wrote ${json}`);
}

async function evaluateImage(
  colorizer: Colorizer,
  path: string,
  file: string,
  resolution: number | undefined,
  keepThumbs: boolean,
  hue: HueRecall,
  previous?: Colorizer,
): Promise<{ result: ImageResult; thumb?: Thumbs }> {
  const started = performance.now();
  const { width, height, truth } = await readSrgb(path);
  const lightness = srgb8ToLightness(truth, width, height, 3);
  const ab = await colorizeImageLightness(colorizer, lightness, width, height, { resolution });
  const ours = labToSrgb8(lightness, ab, width, height);
  const gray = labToSrgb8(lightness, undefined, width, height);
  hue.addRgb8(ours, truth);
  const result: ImageResult = {
    file,
    width,
    height,
    psnrOurs: psnr8(ours, truth),
    psnrGray: psnr8(gray, truth),
    colorfulnessOurs: colorfulness(ours),
    colorfulnessGray: colorfulness(gray),
    colorfulnessTruth: colorfulness(truth),
    seconds: (performance.now() - started) / 1000,
  };
  if (!keepThumbs) return { result };
  const thumb = async (rgb: Uint8Array) =>
    sharp(rgb, { raw: { width, height, channels: 3 } })
      .resize(THUMB_WIDTH, THUMB_HEIGHT, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
      .png()
      .toBuffer();
  const before = previous && labToSrgb8(lightness, await colorizeImageLightness(previous, lightness, width, height, { resolution }), width, height);
  return { result, thumb: { gray: await thumb(gray), previous: before && (await thumb(before)), ours: await thumb(ours), truth: await thumb(truth) } };
}

/** 8-bit interleaved sRGB, 3 channels, whatever the file holds (gray, alpha, ICC profile). */
async function readSrgb(path: string): Promise<{ width: number; height: number; truth: Uint8Array }> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new ScriptError(`cannot read ${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  const { data, info } = decoded;
  const n = info.width * info.height;
  const truth = new Uint8Array(3 * n);
  if (info.channels >= 3) {
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) truth[3 * i + c] = data[info.channels * i + c];
  } else {
    for (let i = 0; i < n; i++) truth[3 * i] = truth[3 * i + 1] = truth[3 * i + 2] = data[info.channels * i];
  }
  return { width: info.width, height: info.height, truth };
}

function summarize(set: string, perImage: ImageResult[], hueRecall: number, hueSectors: SetResult['hueSectors']): SetResult {
  const avg = (key: keyof ImageResult) => mean(perImage.map((r) => r[key] as number));
  const psnrOurs = avg('psnrOurs');
  const psnrGray = avg('psnrGray');
  const colorfulnessOurs = avg('colorfulnessOurs');
  const colorfulnessTruth = avg('colorfulnessTruth');
  const checks = {
    psnrAtLeastGrayPlusHalfDb: psnrOurs >= psnrGray + PSNR_MARGIN,
    colorfulnessAtLeast70PercentOfTruth: colorfulnessOurs >= COLORFULNESS_RATIO * colorfulnessTruth,
    hueRecallAtLeast065: hueRecall >= HUE_RECALL_MIN,
  };
  return {
    set,
    images: perImage.length,
    psnrOurs,
    psnrGray,
    colorfulnessOurs,
    colorfulnessGray: avg('colorfulnessGray'),
    colorfulnessTruth,
    hueRecall,
    hueSectors,
    checks,
    pass: checks.psnrAtLeastGrayPlusHalfDb && checks.colorfulnessAtLeast70PercentOfTruth && checks.hueRecallAtLeast065,
    perImage,
  };
}

/** Rows of gray | (previous model |) ours | truth thumbnails. */
async function writeContactSheet(path: string, thumbs: Thumbs[]): Promise<void> {
  const gap = 4;
  const columns = (t: Thumbs) => (t.previous ? [t.gray, t.previous, t.ours, t.truth] : [t.gray, t.ours, t.truth]);
  const count = columns(thumbs[0]).length;
  const width = count * THUMB_WIDTH + (count + 1) * gap;
  const height = thumbs.length * (THUMB_HEIGHT + gap) + gap;
  const composites = thumbs.flatMap((t, row) =>
    columns(t).map((input, col) => ({ input, left: gap + col * (THUMB_WIDTH + gap), top: gap + row * (THUMB_HEIGHT + gap) })),
  );
  await sharp({ create: { width, height, channels: 3, background: { r: 24, g: 24, b: 24 } } })
    .composite(composites)
    .jpeg({ quality: 88 })
    .toFile(path);
  console.log(`wrote ${path}`);
}

/** A progress line that rewrites itself on a terminal; only the last state when stderr is a file or pipe. */
function progress(text: string, last: boolean): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${text}${last ? '\n' : ''}`);
  else if (last) process.stderr.write(`${text}\n`);
}

function positiveInt(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new ScriptError(`${name} must be a positive integer, got "${text}"`);
  return value;
}

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

runMain(main);
