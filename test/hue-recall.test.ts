import { describe, expect, it } from 'vitest';
import { HueRecall } from '../scripts/lib/hue-recall.js';
import { labToSrgb } from '../src/color/lab.js';

/** One pixel per hue step around the circle at chroma `chroma`, L* 60, as interleaved 8-bit sRGB. */
function hueWheel(steps: number, chroma: number, rotateDegrees = 0): Uint8Array {
  const rgb = new Uint8Array(3 * steps);
  for (let i = 0; i < steps; i++) {
    const hue = ((i + 0.5) / steps) * 2 * Math.PI + (rotateDegrees * Math.PI) / 180;
    const [r, g, b] = labToSrgb(60, chroma * Math.cos(hue), chroma * Math.sin(hue));
    rgb.set([r, g, b].map((v) => Math.round(255 * Math.min(1, Math.max(0, v)))), 3 * i);
  }
  return rgb;
}

describe('class-balanced hue recall', () => {
  it('perfect hues score 1, gray output scores 0', () => {
    const perfect = new HueRecall();
    for (let i = 0; i < 360; i++) perfect.add(30 * Math.cos((i * Math.PI) / 180), 30 * Math.sin((i * Math.PI) / 180), 40 * Math.cos((i * Math.PI) / 180), 40 * Math.sin((i * Math.PI) / 180));
    expect(perfect.value).toBe(1);
    const gray = new HueRecall();
    for (let i = 0; i < 360; i++) gray.add(0, 0, 40 * Math.cos((i * Math.PI) / 180), 40 * Math.sin((i * Math.PI) / 180));
    expect(gray.value).toBe(0);
  });

  it('a constant tint scores about one sector of six, however the pixels are spread', () => {
    const tint = new HueRecall();
    // Twice as many truth pixels in the first sector as elsewhere: class balancing ignores that.
    for (let i = 0; i < 720; i++) {
      const degrees = i < 360 ? (i / 360) * 60 : ((i - 360) / 360) * 360;
      const hue = (degrees * Math.PI) / 180;
      tint.add(20 * Math.cos(Math.PI / 6), 20 * Math.sin(Math.PI / 6), 40 * Math.cos(hue), 40 * Math.sin(hue));
    }
    // The tint at 30° hits hues within 45° of it: -15°..75°. Sector 0 (0–60°) fully, 300–360° a quarter,
    // 60–120° a quarter: (1 + 0.25 + 0.25) / 6.
    expect(tint.value).toBeCloseTo(1.5 / 6, 1);
    const sectors = tint.sectors;
    [420, 60, 60, 60, 60, 60].forEach((n, k) => expect(sectors[k].share, `sector ${k}`).toBeCloseTo(n / 720, 2));
    [1, 0.25, 0, 0, 0, 0.25].forEach((r, k) => expect(sectors[k].recall, `sector ${k}`).toBeCloseTo(r, 1));
    const few = new HueRecall();
    for (let i = 0; i < 200; i++) few.add(20, 0, 40, 0); // all at 0°
    few.add(0, 0, -40, 0); // one pixel at 180°: under 1%, left out
    expect(few.sectors[3]).toEqual({ share: 1 / 201, recall: undefined });
    expect(few.value).toBe(1);
  });

  it('hues off by more than 45 degrees miss, within 45 hit; weak truth chroma is not scored', () => {
    const near = new HueRecall();
    const far = new HueRecall();
    for (let i = 0; i < 360; i++) {
      const h = (i * Math.PI) / 180;
      near.add(30 * Math.cos(h + 0.7), 30 * Math.sin(h + 0.7), 40 * Math.cos(h), 40 * Math.sin(h)); // 40°
      far.add(30 * Math.cos(h + 0.9), 30 * Math.sin(h + 0.9), 40 * Math.cos(h), 40 * Math.sin(h)); // 52°
    }
    expect(near.value).toBe(1);
    expect(far.value).toBe(0);
    const weak = new HueRecall();
    weak.add(0, 0, 10, 10); // chroma 14.1 < 15
    expect(weak.value).toBeNaN();
  });

  it('sectors with under 1% of the scored pixels are left out', () => {
    const recall = new HueRecall();
    for (let i = 0; i < 200; i++) recall.add(30, 1, 40, 1); // hue ~0°: all hits
    recall.add(0, 30, -40, 1); // one pixel at ~180°, a miss, 0.5% of the pixels
    expect(recall.value).toBe(1);
  });

  it('works on 8-bit sRGB: the truth against itself is 1, against a hue rotated by 90 degrees is 0', () => {
    const truth = hueWheel(600, 40);
    const same = new HueRecall();
    same.addRgb8(truth, truth);
    expect(same.value).toBeCloseTo(1, 5);
    const rotated = new HueRecall();
    rotated.addRgb8(hueWheel(600, 40, 90), truth);
    expect(rotated.value).toBeLessThan(0.05);
    const planar = new HueRecall();
    const toPlanar = (rgb: Uint8Array) => {
      const n = rgb.length / 3;
      const out = new Float32Array(rgb.length);
      for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c * n + i] = rgb[3 * i + c] / 255;
      return out;
    };
    planar.addPlanarRgb(toPlanar(truth), toPlanar(truth));
    expect(planar.value).toBeCloseTo(1, 5);
  });
});
