import type { VideoInfo } from '../decode/probe.js';

/**
 * The conversion an RGB source (scans in TIFF, PNG, DPX) needs before it becomes Y'CbCr frames:
 * explicit matrix and range, so the luma ffmpeg derives is the one the output is tagged with, with
 * accurate rounding so it lands within one code value of the exact figure. Y'CbCr and gray sources
 * need none: their luma plane passes through untouched.
 */
export function decodeFilter(info: VideoInfo): string | undefined {
  // Deep RGB is turned into luma by the frame reader itself (rgbLuma), exactly; 8-bit RGB by ffmpeg here.
  if (info.samples.kind !== 'rgb' || info.samples.bits > 8) return undefined;
  return `scale=out_color_matrix=${info.colorMatrix}:out_range=${info.colorRange === 'full' ? 'pc' : 'tv'}:flags=accurate_rnd+full_chroma_int+bitexact`;
}
