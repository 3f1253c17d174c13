import type { Colorizer } from '../infer/colorizer.js';
import { workingGeometry } from '../infer/geometry.js';
import { type ColorHint, rasterizeHints } from '../infer/hints.js';
import { resizeArea } from '../color/resample.js';
import { ChromaComposer } from '../color/compose.js';
import { clamp01, labToLinearRgb, linearToSrgb } from '../color/lab.js';
import { type AbStats, abStats, applyAbTransform, paletteTransfer } from '../color/palette.js';

export { srgb8ToLightness } from '../color/srgb8.js';

export interface ColorizeImageOptions {
  /** Working short side of the network input; default from model.json. */
  resolution?: number;
  /**
   * A reference image, as a film shot takes it: global features from its L* view and, with a
   * palette, the picture's a*b* moved towards the palette's statistics (those of the network's
   * output at the working size, as a shot's are estimated from its sampled frames).
   */
  reference?: { view: Float32Array; palette?: AbStats; strength?: number };
  /** Colour hints (models with a hint input only; see Colorizer.acceptsHints). */
  hints?: readonly ColorHint[];
}

/**
 * The product's inference path for one still picture: L* (0..100, width*height) in, planar a*b*
 * at full size (2*width*height, all a then all b) out. The same steps as a film frame: L* is
 * area-resized to the model's working size, the global features come from a `global.size`²
 * squashed view of the same picture (the film path pools such views over a shot), the local
 * network predicts a*b* on its grid, and the edge-aware composer upsamples it guided by the
 * full-resolution L* (chroma planes = picture size, as in 4:4:4).
 */
export async function colorizeImageLightness(
  colorizer: Colorizer,
  lightness: Float32Array,
  width: number,
  height: number,
  options: ColorizeImageOptions = {},
): Promise<Float32Array> {
  if (lightness.length !== width * height) throw new RangeError(`lightness has ${lightness.length} values, expected ${width}x${height}`);
  const { global, local } = colorizer.config;
  const working = workingGeometry(width, height, options.resolution ?? local.workingShortSide, local.multipleOf, local.outputStride);
  const workingL = resizeArea(lightness, width, height, working.width, working.height);
  const grid = resizeArea(workingL, working.width, working.height, working.gridWidth, working.gridHeight);
  const view = resizeArea(lightness, width, height, global.size, global.size);
  const features = await colorizer.globalFeatures([options.reference?.view ?? view]);
  const hints = options.hints?.length ? [rasterizeHints(options.hints, working.gridWidth, working.gridHeight)] : undefined;
  const [ab] = await colorizer.colorize([workingL], working.width, working.height, [features], hints);
  const palette = options.reference?.palette;
  if (palette) applyAbTransform(ab, paletteTransfer(abStats([ab], [grid]), palette, options.reference?.strength ?? 1), 1, grid);
  const composer = new ChromaComposer({
    chromaWidth: width,
    chromaHeight: height,
    gridWidth: working.gridWidth,
    gridHeight: working.gridHeight,
    // Matrix and range only matter for Y'CbCr output, which is not made here.
    matrix: 'bt709',
    range: 'full',
  });
  return composer.upsampleAb(lightness, grid, ab);
}

/**
 * L* (width*height) and planar a*b* (2*width*height, or undefined for gray: a* = b* = 0) to
 * interleaved 8-bit sRGB (RGBRGB…), clipped to the gamut and rounded.
 */
export function labToSrgb8(lightness: Float32Array, ab: Float32Array | undefined, width: number, height: number): Uint8Array {
  const n = width * height;
  if (lightness.length !== n) throw new RangeError(`lightness has ${lightness.length} values, expected ${n}`);
  if (ab && ab.length !== 2 * n) throw new RangeError(`a*b* has ${ab.length} values, expected ${2 * n}`);
  const out = new Uint8Array(3 * n);
  const rgb = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    labToLinearRgb(lightness[i], ab ? ab[i] : 0, ab ? ab[n + i] : 0, rgb);
    for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round(255 * clamp01(linearToSrgb(clamp01(rgb[c]))));
  }
  return out;
}
