/**
 * Per-frame features for cut detection and the distance between two frames.
 *
 * Everything is normalized by the frame's own mean and standard deviation, so a
 * global gain/offset change (flicker, exposure drift, most of a fade) leaves the
 * features unchanged. Comparisons happen on a coarse grid of block averages,
 * searched over small shifts, so gate weave, grain, dust and thin scratches
 * barely register.
 */

export interface FeatureOptions {
  /** Columns of the coarse comparison grid; rows follow the frame's aspect. */
  gridColumns: number;
  /** Largest shift, in grid cells, tried when comparing two grids (gate weave, camera shake). */
  maxShiftCells: number;
  /** Luma levels below which a frame's contrast counts as flat: keeps near-uniform frames (black, fog, noise) from being blown up into full-contrast patterns. */
  minContrast: number;
  /** Bins of the histogram of normalized luma (spanning ±2.5 standard deviations). */
  histogramBins: number;
  /** Weights of the pixel, histogram and mean-brightness terms in the combined score. */
  pixelWeight: number;
  histogramWeight: number;
  brightnessWeight: number;
}

export const defaultFeatureOptions: FeatureOptions = {
  gridColumns: 24,
  maxShiftCells: 1,
  minContrast: 16,
  histogramBins: 64,
  pixelWeight: 0.5,
  histogramWeight: 0.4,
  brightnessWeight: 0.1,
};

export interface FrameFeatures {
  /** Mean luma, 0..255. */
  mean: number;
  /** Block averages, mean/contrast-normalized, row-major gridWidth × gridHeight. */
  grid: Float32Array;
  /** Histogram of mean/contrast-normalized luma, sums to 1. */
  histogram: Float32Array;
}

/** Normalized values span ±HISTOGRAM_RANGE standard deviations; outliers land in the end bins. */
const HISTOGRAM_RANGE = 2.5;
/** Mean |a - b| of two uncorrelated unit-variance signals (2/√π): maps "unrelated" to a pixel score of ~1. */
const UNCORRELATED_MEAN_ABS_DIFF = 1.128;
/** Earth mover's distance, in standard deviations, that counts as completely different histograms. */
const DIFFERENT_HISTOGRAM_EMD = 0.5;

export class FeatureExtractor {
  readonly cell: number;
  readonly gridWidth: number;
  readonly gridHeight: number;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly options: FeatureOptions = defaultFeatureOptions,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new Error(`invalid frame size ${width}x${height}`);
    }
    this.cell = Math.max(1, Math.round(width / options.gridColumns));
    this.gridWidth = Math.max(1, Math.floor(width / this.cell));
    this.gridHeight = Math.max(1, Math.floor(height / this.cell));
  }

  extract(luma: Uint8Array): FrameFeatures {
    const { width, height } = this;
    const pixels = width * height;
    if (luma.length < pixels) {
      throw new Error(`frame has ${luma.length} bytes, expected ${pixels} (${width}x${height} gray)`);
    }
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < pixels; i++) {
      const v = luma[i];
      sum += v;
      sumSquares += v * v;
    }
    const mean = sum / pixels;
    const std = Math.sqrt(Math.max(0, sumSquares / pixels - mean * mean));
    return { mean, grid: this.normalizedGrid(luma), histogram: this.normalizedHistogram(luma, mean, std) };
  }

  private normalizedGrid(luma: Uint8Array): Float32Array {
    const { cell, gridWidth, gridHeight, width } = this;
    const grid = new Float32Array(gridWidth * gridHeight);
    const cellArea = cell * cell;
    for (let gy = 0; gy < gridHeight; gy++) {
      for (let gx = 0; gx < gridWidth; gx++) {
        let total = 0;
        for (let y = gy * cell; y < (gy + 1) * cell; y++) {
          const row = y * width;
          for (let x = gx * cell; x < (gx + 1) * cell; x++) total += luma[row + x];
        }
        grid[gy * gridWidth + gx] = total / cellArea;
      }
    }
    let sum = 0;
    let sumSquares = 0;
    for (const v of grid) {
      sum += v;
      sumSquares += v * v;
    }
    const mean = sum / grid.length;
    const std = Math.sqrt(Math.max(0, sumSquares / grid.length - mean * mean));
    const scale = 1 / Math.max(std, this.options.minContrast);
    for (let i = 0; i < grid.length; i++) grid[i] = (grid[i] - mean) * scale;
    return grid;
  }

  private normalizedHistogram(luma: Uint8Array, mean: number, std: number): Float32Array {
    const bins = this.options.histogramBins;
    const histogram = new Float32Array(bins);
    const pixels = this.width * this.height;
    const binsPerUnit = bins / (2 * HISTOGRAM_RANGE * Math.max(std, this.options.minContrast));
    for (let i = 0; i < pixels; i++) {
      const bin = Math.floor((luma[i] - mean) * binsPerUnit + bins / 2);
      histogram[bin < 0 ? 0 : bin >= bins ? bins - 1 : bin] += 1;
    }
    for (let b = 0; b < bins; b++) histogram[b] /= pixels;
    return histogram;
  }

  /** Dissimilarity of two frames, ~0 for the same picture, ~1 for unrelated pictures. */
  distance(a: FrameFeatures, b: FrameFeatures): number {
    const { pixelWeight, histogramWeight, brightnessWeight } = this.options;
    const pixel = Math.min(1, this.bestShiftMeanAbsDiff(a.grid, b.grid) / UNCORRELATED_MEAN_ABS_DIFF);
    const histogram = Math.min(1, this.histogramEmd(a.histogram, b.histogram) / DIFFERENT_HISTOGRAM_EMD);
    const brightness = Math.min(1, Math.abs(a.mean - b.mean) / 128);
    return pixelWeight * pixel + histogramWeight * histogram + brightnessWeight * brightness;
  }

  /**
   * Earth mover's distance between two histograms, in standard deviations. Unlike a
   * bin-by-bin difference it barely moves when a spiky histogram (flat areas, clipped
   * highlights) shifts by a bin under flicker.
   */
  private histogramEmd(a: Float32Array, b: Float32Array): number {
    let cumulativeA = 0;
    let cumulativeB = 0;
    let total = 0;
    for (let i = 0; i < a.length; i++) {
      cumulativeA += a[i];
      cumulativeB += b[i];
      total += Math.abs(cumulativeA - cumulativeB);
    }
    return (total * 2 * HISTOGRAM_RANGE) / a.length;
  }

  private bestShiftMeanAbsDiff(a: Float32Array, b: Float32Array): number {
    const { gridWidth, gridHeight } = this;
    const maxShift = Math.min(this.options.maxShiftCells, Math.floor((Math.min(gridWidth, gridHeight) - 1) / 2));
    let best = Infinity;
    for (let dy = -maxShift; dy <= maxShift; dy++) {
      for (let dx = -maxShift; dx <= maxShift; dx++) {
        let total = 0;
        let count = 0;
        for (let y = Math.max(0, -dy); y < Math.min(gridHeight, gridHeight - dy); y++) {
          const rowA = y * gridWidth;
          const rowB = (y + dy) * gridWidth + dx;
          for (let x = Math.max(0, -dx); x < Math.min(gridWidth, gridWidth - dx); x++) {
            total += Math.abs(a[rowA + x] - b[rowB + x]);
            count++;
          }
        }
        if (count > 0) best = Math.min(best, total / count);
      }
    }
    return best;
  }
}
