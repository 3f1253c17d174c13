import { describe, expect, it } from 'vitest';
import { frameGeometry } from '../src/decode/frame.js';
import { workingGeometry } from '../src/infer/geometry.js';
import { lumaToLightnessLut } from '../src/color/luts.js';
import { resizeArea } from '../src/color/resample.js';
import { FramePreparer } from '../src/pipeline/frame-prep.js';

/** The plain definition: L* of every luma sample, then the mean over each chroma sample's footprint. */
function referenceChromaLightness(y: Uint8Array, width: number, height: number, chromaWidth: number, chromaHeight: number, lut: Float32Array): Float32Array {
  const full = Float32Array.from(y, (code) => lut[code]);
  if (chromaWidth === width && chromaHeight === height) return full;
  if (width % 2 !== 0 || (chromaHeight !== height && height % 2 !== 0)) return resizeArea(full, width, height, chromaWidth, chromaHeight);
  const rows = chromaHeight === height ? 1 : 2;
  const out = new Float32Array(chromaWidth * chromaHeight);
  for (let cy = 0; cy < chromaHeight; cy++) {
    for (let cx = 0; cx < chromaWidth; cx++) {
      const top = cy * rows * width + 2 * cx;
      const bottom = top + (rows - 1) * width;
      out[cy * chromaWidth + cx] = (full[top] + full[top + 1] + (rows === 2 ? full[bottom] + full[bottom + 1] : 0)) / (2 * rows);
    }
  }
  return out;
}

describe('frame preparation', () => {
  it.each([
    [64, 36, 'yuv420p'],
    [64, 36, 'yuv422p'],
    [32, 18, 'yuv444p'],
    [33, 19, 'yuv420p'],
  ] as const)('gives the reference L* planes for a random %ix%i %s frame', (width, height, layout) => {
    const geometry = frameGeometry(width, height, layout);
    const working = workingGeometry(width, height, 16, 8, 4);
    const lut = lumaToLightnessLut('limited');
    let state = width * height;
    const y = Uint8Array.from({ length: width * height }, () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24);
    const planes = new FramePreparer(geometry, working, lut).lightnessPlanes(y);
    const chroma = referenceChromaLightness(y, width, height, geometry.chromaWidth, geometry.chromaHeight, lut);
    expect(planes.chroma).toEqual(chroma);
    const workingPlane = resizeArea(chroma, geometry.chromaWidth, geometry.chromaHeight, working.width, working.height);
    expect(planes.working).toEqual(workingPlane);
    expect(planes.grid).toEqual(resizeArea(workingPlane, working.width, working.height, working.gridWidth, working.gridHeight));
  });
});
