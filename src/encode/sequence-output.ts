import { mkdirSync, rmSync } from 'node:fs';
import { readdir, rename, rmdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FrameGeometry } from '../decode/frame.js';
import type { VideoInfo } from '../decode/probe.js';
import { UserError } from '../decode/errors.js';
import { timecodeAfter, writeDpxTimecode } from '../decode/timecode.js';

/**
 * Image-sequence outputs (`-o out/frame_%06d.tif`): RGB frames, 16 bits per sample for a deep
 * source (DPX keeps 10 or 12 where the source has them), 8 for an 8-bit one.
 */
export function sequenceCodecArgs(outputPath: string, geometry: FrameGeometry, info: VideoInfo, firstFrame = 0): string[] {
  const ext = extname(outputPath).toLowerCase();
  const deep = geometry.bits > 8;
  let codec: string;
  let pixelFormat: string;
  switch (ext) {
    case '.tif':
    case '.tiff':
      codec = 'tiff';
      pixelFormat = deep ? 'rgb48le' : 'rgb24';
      break;
    case '.png':
      codec = 'png';
      pixelFormat = deep ? 'rgb48be' : 'rgb24';
      break;
    case '.dpx':
      codec = 'dpx';
      pixelFormat = !deep ? 'rgb24' : geometry.bits === 10 ? 'gbrp10le' : geometry.bits === 12 ? 'gbrp12le' : 'rgb48le';
      break;
    default:
      throw new UserError(`unsupported image sequence type "${ext}": use .tif, .png or .dpx`, 2);
  }
  // Frames arrive as planar R'G'B' already (ycbcrToRgbConverter); ffmpeg only repacks them. A piece
  // of the film (--start, --shot) keeps the numbers its frames have in the source.
  return ['-c:v', codec, '-pix_fmt', pixelFormat, '-start_number', String((info.sequence?.start ?? 0) + firstFrame)];
}

const liveFolders = new Set<string>();
let hooked = false;

/** The raw input format of a sequence writer: planar R'G'B' at the frames' depth. */
export function sequenceInputFormat(geometry: FrameGeometry): string {
  return geometry.bits > 8 ? `gbrp${geometry.bits}le` : 'gbrp';
}

/** A hidden folder beside the output frames; they are written there and moved into place when complete. */
export function temporarySequenceFolder(outputPath: string): string {
  const stem = basename(outputPath).replace(/%0?\d*d.*$/, '') || 'frames';
  const folder = join(dirname(outputPath), `.${stem}.partial-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(folder);
  liveFolders.add(folder);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const f of liveFolders) rmSync(f, { recursive: true, force: true });
    });
  }
  return folder;
}

export function removeSequenceFolder(folder: string): void {
  liveFolders.delete(folder);
  rmSync(folder, { recursive: true, force: true });
}

/**
 * Moves the finished frames into the output folder (a rename each: same file system). DPX frames
 * first get the source's timecode, counted on from its start, in their television header.
 */
export async function publishSequence(folder: string, outputPath: string, info: VideoInfo, firstFrame = 0): Promise<void> {
  const target = dirname(outputPath);
  const names = (await readdir(folder)).sort();
  const rate = Math.round(info.fps);
  for (const [i, name] of names.entries()) {
    if (info.timecode && /\.dpx$/i.test(name)) await writeDpxTimecode(join(folder, name), timecodeAfter(info.timecode, rate, firstFrame + i));
    await rename(join(folder, name), join(target, name));
  }
  await rmdir(folder);
  liveFolders.delete(folder);
}
