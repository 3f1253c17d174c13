import { describe, expect, it } from 'vitest';
import { labToSrgb, srgbToLab } from '../src/color/lab.js';
import { lumaToLightnessLut } from '../src/color/luts.js';
import { lumaCoefficients, rgbToChromaCodes, ycbcrCodesToRgb } from '../src/color/ycbcr.js';
import { ChromaComposer, type ChromaGeometry, roundHalfUp } from '../src/color/compose.js';
import { SimdChromaComposer } from '../src/color/compose-simd.js';
import { resizeArea } from '../src/color/resample.js';
import { ReferenceChromaComposer } from './helpers/compose-reference.js';
import { referenceResizeArea } from './helpers/resample-reference.js';
import { composeGeometries, seededRandom } from './helpers/compose-cases.js';

describe('CIE Lab (D65) against published reference values', () => {
  it.each([
    [[1, 1, 1], [100, 0, 0]],
    [[0, 0, 0], [0, 0, 0]],
    [[1, 0, 0], [53.24, 80.09, 67.2]],
    [[0, 1, 0], [87.73, -86.18, 83.18]],
    [[0, 0, 1], [32.3, 79.19, -107.86]],
    [[119 / 255, 119 / 255, 119 / 255], [50.03, 0, 0]],
  ])('sRGB %j -> Lab %j', (rgb, lab) => {
    const [l, a, b] = srgbToLab(rgb[0], rgb[1], rgb[2]);
    expect(l).toBeCloseTo(lab[0], 1);
    expect(a).toBeCloseTo(lab[1], 1);
    expect(b).toBeCloseTo(lab[2], 1);
  });

  it('round-trips in-gamut colors', () => {
    for (const rgb of [[0.2, 0.5, 0.8], [0.9, 0.1, 0.3], [0.5, 0.5, 0.5]]) {
      const back = labToSrgb(...srgbToLab(rgb[0], rgb[1], rgb[2]));
      back.forEach((v, i) => expect(v).toBeCloseTo(rgb[i], 4));
    }
  });
});

describe("Y' to L* for gray pixels", () => {
  it('maps the ends of limited range to 0 and 100 and #777777 to L* 50', () => {
    const limited = lumaToLightnessLut('limited');
    expect(limited[16]).toBeCloseTo(0, 5);
    expect(limited[235]).toBeCloseTo(100, 5);
    expect(limited[5]).toBe(0);
    const full = lumaToLightnessLut('full');
    expect(full[119]).toBeCloseTo(50.03, 1);
    expect(full[255]).toBeCloseTo(100, 5);
  });
});

describe("R'G'B' to Y'CbCr chroma", () => {
  it('gives the standard codes for primaries (BT.601 and BT.709, limited range)', () => {
    expect(rgbToChromaCodes(1, 0, 0, lumaCoefficients('bt601'), 'limited')).toEqual([90, 240]);
    expect(rgbToChromaCodes(0, 0, 1, lumaCoefficients('bt601'), 'limited')).toEqual([240, 110]);
    expect(rgbToChromaCodes(1, 0, 0, lumaCoefficients('bt709'), 'limited')).toEqual([102, 240]);
    expect(rgbToChromaCodes(0.5, 0.5, 0.5, lumaCoefficients('bt709'), 'full')).toEqual([128, 128]);
  });

  it('inverts back to the same R\'G\'B\'', () => {
    const k = lumaCoefficients('bt709');
    const [r, g, b] = ycbcrCodesToRgb(63, 102, 240, k, 'limited');
    expect(r).toBeCloseTo(1, 1);
    expect(g).toBeCloseTo(0, 1);
    expect(b).toBeCloseTo(0, 1);
  });
});

describe.each([
  ['TypeScript', (g: ChromaGeometry) => new ChromaComposer(g)],
  ['WebAssembly SIMD', (g: ChromaGeometry) => new SimdChromaComposer(g)],
] as const)('chroma composition (%s)', (_name, makeComposer) => {
  const gridW = 8;
  const gridH = 4;
  const chromaW = 32;
  const chromaH = 16;
  // Lightness and a* both step at the same place: dark/positive a* on the left, bright/negative on the right.
  const edgeAt = (width: number, x: number) => x < width / 2;
  const lightness = (w: number, h: number) => Float32Array.from({ length: w * h }, (_, i) => (edgeAt(w, i % w) ? 30 : 70));
  const ab = new Float32Array(2 * gridW * gridH);
  for (let i = 0; i < gridW * gridH; i++) ab[i] = edgeAt(gridW, i % gridW) ? 40 : -40;

  function compose(edgeSigma: number): Uint8Array {
    const composer = makeComposer({ chromaWidth: chromaW, chromaHeight: chromaH, gridWidth: gridW, gridHeight: gridH, matrix: 'bt601', range: 'limited', edgeSigma });
    const cb = new Uint8Array(chromaW * chromaH);
    const cr = new Uint8Array(chromaW * chromaH);
    composer.compose(lightness(chromaW, chromaH), lightness(gridW, gridH), ab, cb, cr);
    return cr;
  }

  it('gives neutral chroma for a*=b*=0', () => {
    const composer = makeComposer({ chromaWidth: 16, chromaHeight: 8, gridWidth: 4, gridHeight: 2, matrix: 'bt709', range: 'limited' });
    const cb = new Uint8Array(128);
    const cr = new Uint8Array(128);
    composer.compose(new Float32Array(128).fill(60), new Float32Array(8).fill(60), new Float32Array(16), cb, cr);
    expect(new Set(cb)).toEqual(new Set([128]));
    expect(new Set(cr)).toEqual(new Set([128]));
  });

  it('keeps chroma from bleeding across a luma edge (unlike plain upsampling)', () => {
    const edgeAware = compose(6);
    const plain = compose(0);
    const row = 8 * chromaW;
    const left = row + chromaW / 2 - 1;
    const right = row + chromaW / 2;
    // Reddish (a*>0 -> Cr>128) stays left of the edge, greenish right of it.
    expect(edgeAware[left]).toBeGreaterThan(150);
    expect(edgeAware[right]).toBeLessThan(110);
    // Plain upsampling mixes the two near the edge.
    expect(Math.abs(plain[left] - edgeAware[left]) + Math.abs(plain[right] - edgeAware[right])).toBeGreaterThan(20);
  });
});

describe('area resize', () => {
  it('averages blocks exactly when the ratio is whole', () => {
    const src = Float32Array.from([1, 3, 5, 7, 1, 3, 5, 7]);
    expect(Array.from(resizeArea(src, 4, 2, 2, 1))).toEqual([2, 6]);
  });
});

describe('optimized chroma composition', () => {
  it.each(composeGeometries)('gives exactly the reference output on random data (%j)', (geometry) => {
    const next = seededRandom(geometry.chromaWidth * 31 + geometry.gridWidth);
    const n = geometry.chromaWidth * geometry.chromaHeight;
    const gridN = geometry.gridWidth * geometry.gridHeight;
    for (let trial = 0; trial < 3; trial++) {
      const lightness = Float32Array.from({ length: n }, () => 100 * next());
      const gridLightness = Float32Array.from({ length: gridN }, () => 100 * next());
      // a*b* well beyond the sRGB gamut too, so clipping paths are exercised.
      const ab = Float32Array.from({ length: 2 * gridN }, () => 260 * next() - 130);
      const expected = { cb: new Uint8Array(n), cr: new Uint8Array(n) };
      const actual = { cb: new Uint8Array(n), cr: new Uint8Array(n) };
      new ReferenceChromaComposer(geometry).compose(lightness, gridLightness, ab, expected.cb, expected.cr);
      const composer = new ChromaComposer(geometry);
      composer.compose(lightness, gridLightness, ab, actual.cb, actual.cr);
      expect(actual.cb).toEqual(expected.cb);
      expect(actual.cr).toEqual(expected.cr);
      expect(composer.upsampleAb(lightness, gridLightness, ab)).toEqual(new ReferenceChromaComposer(geometry).upsampleAb(lightness, gridLightness, ab));
    }
  });

  it('writes 10-bit codes into 16-bit planes that agree with the 8-bit ones', () => {
    const geometry = { chromaWidth: 40, chromaHeight: 20, gridWidth: 10, gridHeight: 5, matrix: 'bt709', range: 'limited' } as const;
    const next = seededRandom(7);
    const n = 800;
    const lightness = Float32Array.from({ length: n }, () => 100 * next());
    const gridLightness = Float32Array.from({ length: 50 }, () => 100 * next());
    const ab = Float32Array.from({ length: 100 }, () => 120 * next() - 60);
    const cb8 = new Uint8Array(n);
    const cr8 = new Uint8Array(n);
    const cb10 = new Uint16Array(n);
    const cr10 = new Uint16Array(n);
    new ChromaComposer(geometry).compose(lightness, gridLightness, ab, cb8, cr8);
    new ChromaComposer({ ...geometry, bitDepth: 10 }).compose(lightness, gridLightness, ab, cb10, cr10);
    for (let i = 0; i < n; i++) {
      expect(Math.abs(cb10[i] / 4 - cb8[i])).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(Math.abs(cr10[i] / 4 - cr8[i])).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(cb10[i]).toBeGreaterThanOrEqual(64);
      expect(cr10[i]).toBeLessThanOrEqual(960);
    }
  });
});

describe('roundHalfUp', () => {
  it('agrees with Math.round on code values, ties and the doubles next to them', () => {
    const values = [0, 0.5, 1.5, 2.5, 127.5, 254.5, 0.49999999999999994, 0.5000000000000001, 1.4999999999999998, 255.49999999999997, 1023.5, 65535.49999999999];
    let state = 12345;
    for (let i = 0; i < 100_000; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      values.push((state / 2 ** 32) * 70_000, Math.floor((state / 2 ** 32) * 70_000) + 0.5);
    }
    expect(values.filter((x) => roundHalfUp(x) !== Math.round(x))).toEqual([]);
    // Below 0 (under every code's lower bound, clamped afterwards) it may differ, but never above 0.
    expect(Math.max(0, roundHalfUp(-0.7))).toBe(Math.max(0, Math.round(-0.7)));
  });
});

describe('area resize, optimized', () => {
  it.each([
    [960, 540, 400, 224],
    [400, 224, 100, 56],
    [33, 17, 33, 17],
    [17, 9, 40, 23],
    [101, 57, 13, 7],
  ])('gives exactly the reference output on random data (%i x %i -> %i x %i)', (sw, sh, dw, dh) => {
    let state = sw * 7 + dh;
    const src = Float32Array.from({ length: sw * sh }, () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 100);
    expect(resizeArea(src, sw, sh, dw, dh)).toEqual(referenceResizeArea(src, sw, sh, dw, dh));
    expect(resizeArea(src, sw, sh, dw, dh)).toEqual(referenceResizeArea(src, sw, sh, dw, dh));
  });
});
