import { UserError } from './errors.js';

export type ChromaLayout = 'yuv420p' | 'yuv422p' | 'yuv444p';

/** What a source's samples are, as far as the pipeline cares. */
export interface SourceSamples {
  /** Y'CbCr (luma kept sample for sample), gray (luma only) or RGB (luma derived by ffmpeg). */
  kind: 'yuv' | 'gray' | 'rgb';
  /** Bits per sample of the source (8 to 16). */
  bits: number;
  /** Chroma layout frames are decoded to: the source's own for Y'CbCr, 4:2:0 for gray, 4:4:4 for high-depth RGB. */
  layout: ChromaLayout;
}

/** Sample depths ffmpeg has planar little-endian Y'CbCr formats for. */
const PLANAR_DEPTHS = [8, 9, 10, 12, 14, 16];

/**
 * Classifies an ffmpeg pixel format name. Formats whose luma the pipeline cannot carry (float,
 * Bayer, XYZ, palettes of unknown meaning) are refused with one line naming them.
 */
export function sourceSamples(pixelFormat: string): SourceSamples {
  const f = pixelFormat;
  if (/f(16|32)(le|be)?$/.test(f) || f.startsWith('bayer_') || f.startsWith('xyz')) {
    throw new UserError(`unsupported pixel format ${f}: colorize-video reads Y'CbCr, gray and RGB at 8 to 16 bits`);
  }
  const yuv = /^(?:yuvj?|yuva)(4[0-4][0-9])p(\d+)?(?:le|be)?$/.exec(f);
  if (yuv) return { kind: 'yuv', bits: depth(yuv[2]), layout: layoutOf(yuv[1]) };
  const semi = /^(?:nv12|nv21|nv16|p0(10|16)(?:le|be))$/.exec(f);
  if (semi) return { kind: 'yuv', bits: semi[1] ? Number(semi[1]) : 8, layout: f === 'nv16' ? 'yuv422p' : 'yuv420p' };
  const gray = /^(?:gray|ya)(\d+)?(?:le|be)?$/.exec(f);
  if (gray) return { kind: 'gray', bits: gray[1] === '8' ? 8 : depth(gray[1]), layout: 'yuv420p' };
  if (/^(rgb|bgr)(48|64)|^(rgba|bgra)64/.test(f)) return { kind: 'rgb', bits: 16, layout: 'yuv444p' };
  const gbr = /^gbra?p(\d+)?(?:le|be)?$/.exec(f);
  if (gbr) return { kind: 'rgb', bits: depth(gbr[1]), layout: gbr[1] ? 'yuv444p' : 'yuv420p' };
  // 8-bit packed RGB, palettes, monochrome bitmaps and the like: the 8-bit 4:2:0 path, as before.
  return { kind: /rgb|bgr|argb|abgr|0rgb|pal8/.test(f) ? 'rgb' : 'yuv', bits: 8, layout: 'yuv420p' };
}

function depth(text: string | undefined): number {
  if (!text) return 8;
  const bits = Number(text);
  if (bits < 8 || bits > 16) throw new UserError(`unsupported sample depth ${bits} bits`);
  return bits;
}

function layoutOf(subsampling: string): ChromaLayout {
  if (subsampling === '444') return 'yuv444p';
  if (subsampling === '422') return 'yuv422p';
  return 'yuv420p';
}

/** The planar little-endian ffmpeg pixel format for a layout at a depth (yuv420p10le, yuv444p16le, ...). */
export function planarFormat(layout: ChromaLayout, bits: number): string {
  if (bits <= 8) return layout;
  const supported = PLANAR_DEPTHS.find((d) => d >= bits) ?? 16;
  return `${layout}${supported}le`;
}
