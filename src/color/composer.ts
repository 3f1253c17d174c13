import { ChromaComposer, type ChromaGeometry, type ChromaSamples } from './compose.js';
import { DeepChromaComposer } from './compose-deep.js';
import { SimdChromaComposer, simdComposeAvailable } from './compose-simd.js';

/** Turns L* and a grid of a*b* into Cb/Cr planes (see ChromaComposer.compose). */
export interface Composer {
  compose(lightness: Float32Array, gridLightness: Float32Array, ab: Float32Array, cb: ChromaSamples, cr: ChromaSamples): void;
}

/**
 * The fastest composer this runtime has for the geometry's depth: the WebAssembly SIMD kernel
 * (about twice the TypeScript version's speed), else the TypeScript reference (8-bit or deep).
 * COLORIZE_VIDEO_COMPOSE=typescript picks the reference, for comparisons in one run (the bench).
 */
export function createChromaComposer(geometry: ChromaGeometry): Composer {
  const bits = geometry.bitDepth ?? 8;
  if (process.env.COLORIZE_VIDEO_COMPOSE !== 'typescript' && simdComposeAvailable()) return new SimdChromaComposer(geometry);
  if (bits <= 8) return new ChromaComposer(geometry);
  const deep = new DeepChromaComposer(geometry, bits);
  return { compose: (lightness, grid, ab, cb, cr) => deep.compose(lightness, grid, ab, cb as Uint16Array, cr as Uint16Array) };
}
