import { probeVideo } from '../../src/decode/probe.js';
import { srgbToLab } from '../../src/color/lab.js';
import { analysisSize, readAnalysisFrames } from './video-frames.js';

/**
 * Per frame, the largest a*b* distance (sqrt(Δa*² + Δb*²), CIE Lab units) between two renders of
 * the same film, both read the same way (full size, 4:4:4, their own matrix and range).
 */
export async function abDifferencePerFrame(first: string, second: string): Promise<number[]> {
  const info = await probeVideo(first);
  const size = analysisSize(info.width, info.height, info.width);
  const a = readAnalysisFrames(first, size, info.frameCount);
  const b = readAnalysisFrames(second, size, info.frameCount);
  const pixels = size.width * size.height;
  const result: number[] = [];
  for (;;) {
    const [x, y] = await Promise.all([a.next(), b.next()]);
    if (x.done || y.done) break;
    let max = 0;
    for (let i = 0; i < pixels; i++) {
      const p = srgbToLab(x.value.rgb[i], x.value.rgb[pixels + i], x.value.rgb[2 * pixels + i]);
      const q = srgbToLab(y.value.rgb[i], y.value.rgb[pixels + i], y.value.rgb[2 * pixels + i]);
      max = Math.max(max, Math.hypot(p[1] - q[1], p[2] - q[2]));
    }
    result.push(max);
  }
  return result;
}
