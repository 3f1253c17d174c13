/**
 * Cost per frame of the temporal smoother at the a*b* grid sizes the pipeline produces:
 * 1080p with working short side 224 and output stride 4 → 56×100, and twice that → 112×200.
 * Run: npx tsx scripts/bench-temporal.ts [frames]
 */
import { TemporalSmoother, TemporalWorker } from '../src/temporal/index.js';
import { mulberry32 as seededRandom } from './lib/random.js';

const frames = Number(process.argv[2] ?? 60);
const warmup = 10;

/** A panning textured scene with per-frame noise in luma and in the predicted a*b*. */
function makeClip(width: number, height: number, count: number): { luma: Float32Array; ab: Float32Array }[] {
  const random = seededRandom(1);
  const waves = Array.from({ length: 20 }, (_, k) => {
    const frequency = 0.04 * 1.15 ** k;
    const angle = random() * 2 * Math.PI;
    return { fx: frequency * Math.cos(angle), fy: frequency * Math.sin(angle), phase: random() * 6.28, amplitude: 3 / Math.sqrt(frequency * 10) };
  });
  const size = width * height;
  return Array.from({ length: count }, (_, t) => {
    const luma = new Float32Array(size);
    const ab = new Float32Array(2 * size);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let value = 50;
        for (const w of waves) value += w.amplitude * Math.sin(w.fx * (x - 0.7 * t) + w.fy * (y - 0.3 * t) + w.phase);
        const i = y * width + x;
        luma[i] = value + (random() - 0.5);
        ab[i] = 0.5 * (value - 50) + 4 * (random() - 0.5);
        ab[size + i] = -0.3 * (value - 50) + 4 * (random() - 0.5);
      }
    }
    return { luma, ab };
  });
}

function summarize(label: string, times: number[]): void {
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const median = sorted[Math.floor(sorted.length / 2)];
  const p90 = sorted[Math.floor(sorted.length * 0.9)];
  console.log(`${label.padEnd(34)} mean ${mean.toFixed(2)} ms  median ${median.toFixed(2)} ms  p90 ${p90.toFixed(2)} ms`);
}

for (const [width, height] of [
  [100, 56],
  [200, 112],
]) {
  const clip = makeClip(width, height, frames + warmup);
  const smoother = new TemporalSmoother(width, height, { strength: 1 });
  const times: number[] = [];
  let cpuStart = process.cpuUsage();
  clip.forEach(({ luma, ab }, t) => {
    if (t === warmup) cpuStart = process.cpuUsage();
    const start = performance.now();
    smoother.process(luma, ab);
    if (t >= warmup) times.push(performance.now() - start);
  });
  const cpuMsPerFrame = process.cpuUsage(cpuStart).user / 1000 / frames;
  summarize(`${height}x${width} in-thread`, times);
  // Wall time suffers when other processes share the cores; CPU time of this thread doesn't.
  console.log(`${''.padEnd(34)} CPU ${cpuMsPerFrame.toFixed(2)} ms/frame`);

  const worker = await TemporalWorker.create(width, height, { strength: 1 });
  const workerTimes: number[] = [];
  for (const [t, { luma, ab }] of clip.entries()) {
    const start = performance.now();
    await worker.process(luma.slice(), ab.slice());
    if (t >= warmup) workerTimes.push(performance.now() - start);
  }
  await worker.close();
  summarize(`${height}x${width} worker round trip`, workerTimes);
}
