import { execFile } from 'node:child_process';
import { sequenceInputArgs } from '../decode/sequence.js';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import PQueue from 'p-queue';
import sharp from 'sharp';
import { ffmpegPath } from '../decode/binaries.js';
import { UserError } from '../decode/errors.js';
import type { VideoInfo } from '../decode/probe.js';
import { lightnessOfCodes, lumaToLightnessLut } from '../color/luts.js';
import type { Colorizer } from '../infer/colorizer.js';
import type { Shot } from '../shots/index.js';
import { colorizeImageLightness, labToSrgb8 } from './colorize-image.js';
import { removeStaleTemporaries, temporaryPathFor } from '../encode/temp-files.js';
import { plural } from '../plural.js';

export interface ContactSheetOptions {
  /** Thumbnail width in pixels. */
  thumbWidth?: number;
  /** Thumbnails (or gray|color pairs) per row. */
  columns?: number;
  /** Put the colorized thumbnail beside each gray one. */
  colorizer?: Colorizer;
  signal?: AbortSignal;
}

type Overlay = Parameters<ReturnType<typeof sharp>['composite']>[0][number];

const LABEL_HEIGHT = 22;
const GAP = 6;

/**
 * One image with a thumbnail of each shot's middle frame (and its colorized twin), labelled with the
 * shot number and start time, so a person can look at the shot list instead of reading it.
 */
export async function writeContactSheet(info: VideoInfo, shots: Shot[], outputPath: string, options: ContactSheetOptions = {}): Promise<void> {
  const thumbWidth = options.thumbWidth ?? 192;
  const displayWidth = info.width * sarRatio(info.sampleAspectRatio);
  const thumbHeight = Math.max(2, 2 * Math.round((thumbWidth * info.height) / displayWidth / 2));
  const perShot = options.colorizer ? 2 : 1;
  const columns = options.columns ?? (perShot === 2 ? 3 : 6);
  const lut = lumaToLightnessLut(info.colorRange);
  // Middle frames are fetched with one fast seek each, a few at a time.
  const queue = new PQueue({ concurrency: 3 });
  const tiles = await Promise.all(
    shots.map((shot) =>
      queue.add(async () => {
        const middle = Math.floor((shot.startFrame + shot.endFrame - 1) / 2);
        const luma = await grayFrameAt(info, middle, thumbWidth, thumbHeight, options.signal);
        const lightness = lightnessOfCodes(luma, lut);
        const images = [labToSrgb8(lightness, undefined, thumbWidth, thumbHeight)];
        if (options.colorizer) images.push(labToSrgb8(lightness, await colorizeImageLightness(options.colorizer, lightness, thumbWidth, thumbHeight), thumbWidth, thumbHeight));
        return { shot, images };
      }),
    ),
  );
  const tileWidth = perShot * thumbWidth + (perShot - 1) * 2;
  const rows = Math.ceil(shots.length / columns);
  const width = GAP + columns * (tileWidth + GAP);
  const height = GAP + rows * (thumbHeight + LABEL_HEIGHT + GAP);
  const composites: Overlay[] = [];
  tiles.forEach((tile, i) => {
    if (!tile) return;
    const left = GAP + (i % columns) * (tileWidth + GAP);
    const top = GAP + Math.floor(i / columns) * (thumbHeight + LABEL_HEIGHT + GAP);
    tile.images.forEach((pixels, k) => {
      composites.push({ input: Buffer.from(pixels), raw: { width: thumbWidth, height: thumbHeight, channels: 3 }, left: left + k * (thumbWidth + 2), top });
    });
    composites.push({ input: Buffer.from(label(tile.shot, tileWidth)), left, top: top + thumbHeight });
  });
  await removeStaleTemporaries(dirname(outputPath), basename(outputPath, extname(outputPath)));
  const temporary = temporaryPathFor(outputPath);
  try {
    await sharp({ create: { width, height, channels: 3, background: '#202020' } }).composite(composites).toFile(temporary);
    await rename(temporary, outputPath);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new UserError(`could not write contact sheet ${outputPath}: ${(error as Error).message.split('\n')[0]}`);
  }
}

function label(shot: Shot, width: number): string {
  const seconds = shot.startTime;
  const stamp = `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(2).padStart(5, '0')}`;
  const text = `#${shot.index}  ${stamp}  (${plural(shot.endFrame - shot.startFrame, 'frame')})`;
  return `<svg width="${width}" height="${LABEL_HEIGHT}" xmlns="http://www.w3.org/2000/svg"><text x="2" y="16" font-family="sans-serif" font-size="13" fill="#e0e0e0">${text}</text></svg>`;
}

function sarRatio(sar: string): number {
  const [num, den] = sar.split(':').map(Number);
  return num > 0 && den > 0 ? num / den : 1;
}

/** One frame's luma codes, scaled to width x height (fast seek, then exact). */
function grayFrameAt(info: VideoInfo, frame: number, width: number, height: number, signal?: AbortSignal): Promise<Uint8Array> {
  const seek = frame > 0 ? ((frame - 0.5) / info.fps).toFixed(6) : '0';
  const args = ['-v', 'error', '-ss', seek, ...sequenceInputArgs(info.path), '-i', info.path, '-map', '0:v:0', '-frames:v', '1', '-vf', `scale=${width}:${height}:flags=area`, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'];
  return new Promise((resolve, reject) => {
    execFile(ffmpegPath(), args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, signal }, (error, stdout) => {
      if (error || stdout.length < width * height) reject(new UserError(`could not decode frame ${frame} of ${info.path}`));
      else resolve(new Uint8Array(stdout.buffer, stdout.byteOffset, width * height));
    });
  });
}
