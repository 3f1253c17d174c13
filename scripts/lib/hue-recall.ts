import { srgbToLab } from '../../src/color/lab.js';

/** Pixels whose true chroma √(a*²+b*²) is at least this are scored. */
export const TRUE_CHROMA_MIN = 15;
/** A hit needs at least this much output chroma… */
export const OUTPUT_CHROMA_MIN = 5;
/** …and a hue within this many degrees of the truth's. */
export const HUE_TOLERANCE_DEGREES = 45;
const SECTORS = 6;
/** Sectors holding less than this share of the scored pixels are left out of the mean. */
const SECTOR_MIN_SHARE = 0.01;

/**
 * Class-balanced hue recall, pooled over a whole set or clip: a pixel whose true chroma is ≥ 15 is
 * a hit when the output's chroma is ≥ 5 and its hue angle atan2(b*, a*) is within 45° of the true
 * hue. Pixels and hits are pooled per 60° sector of the true hue (0–60°, 60–120°, …); the recall is
 * the mean of hits/pixels over the sectors holding ≥ 1% of the scored pixels. A constant tint
 * scores about one sector's worth; perfect hues score 1. (training/metrics.py has the same measure.)
 */
export class HueRecall {
  private readonly pixels = new Float64Array(SECTORS);
  private readonly hits = new Float64Array(SECTORS);

  /** One pixel's output and true a*b*. */
  add(outA: number, outB: number, trueA: number, trueB: number): void {
    if (Math.hypot(trueA, trueB) < TRUE_CHROMA_MIN) return;
    const trueHue = Math.atan2(trueB, trueA);
    const sector = Math.min(SECTORS - 1, Math.floor(((trueHue + 2 * Math.PI) % (2 * Math.PI)) / ((2 * Math.PI) / SECTORS)));
    this.pixels[sector]++;
    if (Math.hypot(outA, outB) < OUTPUT_CHROMA_MIN) return;
    let difference = Math.abs(Math.atan2(outB, outA) - trueHue);
    if (difference > Math.PI) difference = 2 * Math.PI - difference;
    if (difference <= (HUE_TOLERANCE_DEGREES * Math.PI) / 180) this.hits[sector]++;
  }

  /** Interleaved 8-bit sRGB (RGBRGB…) of the output and the truth. */
  addRgb8(output: Uint8Array, truth: Uint8Array): void {
    if (output.length !== truth.length) throw new RangeError(`hue recall: ${output.length} vs ${truth.length} values`);
    for (let i = 0; i < output.length; i += 3) {
      const [, oa, ob] = srgbToLab(output[i] / 255, output[i + 1] / 255, output[i + 2] / 255);
      const [, ta, tb] = srgbToLab(truth[i] / 255, truth[i + 1] / 255, truth[i + 2] / 255);
      this.add(oa, ob, ta, tb);
    }
  }

  /** Planar R'G'B' in [0, 1] (all R, then G, then B) of the output and the truth. */
  addPlanarRgb(output: Float32Array, truth: Float32Array): void {
    if (output.length !== truth.length || output.length % 3 !== 0) throw new RangeError(`hue recall: ${output.length} vs ${truth.length} values`);
    const n = output.length / 3;
    for (let i = 0; i < n; i++) {
      const [, oa, ob] = srgbToLab(output[i], output[n + i], output[2 * n + i]);
      const [, ta, tb] = srgbToLab(truth[i], truth[n + i], truth[2 * n + i]);
      this.add(oa, ob, ta, tb);
    }
  }

  /**
   * Per 60° sector of the true hue (0–60°, 60–120°, …): its share of the scored pixels and its
   * recall (undefined for a sector under 1%, which the mean leaves out).
   */
  get sectors(): HueSector[] {
    const total = this.pixels.reduce((a, b) => a + b, 0);
    return Array.from(this.pixels, (n, s) => ({
      share: total > 0 ? n / total : 0,
      recall: total > 0 && n >= SECTOR_MIN_SHARE * total ? this.hits[s] / n : undefined,
    }));
  }

  /** The recall (0..1); NaN when no pixel had enough true chroma. */
  get value(): number {
    const ratios = this.sectors.flatMap((s) => (s.recall === undefined ? [] : [s.recall]));
    return ratios.reduce((a, b) => a + b, 0) / ratios.length;
  }
}

/** One 60° sector of the true hue: its share of the scored pixels and its recall (undefined under 1%). */
export interface HueSector {
  share: number;
  recall: number | undefined;
}

/** Column names of the per-sector tables. */
export const HUE_SECTOR_NAMES = ['0–60°', '60–120°', '120–180°', '180–240°', '240–300°', '300–360°'];

/** "0.85 (39%)", or "– (0.4%)" for a sector the mean leaves out. */
export function formatSector(sector: HueSector): string {
  const share = `${(100 * sector.share).toFixed(sector.share < 0.01 ? 1 : 0)}%`;
  return `${sector.recall === undefined ? '–' : sector.recall.toFixed(2)} (${share})`;
}
