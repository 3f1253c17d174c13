/**
 * How close a film rendered in chunks comes to a single run where a long shot is split (issue #14).
 * Run: npx tsx scripts/eval-seams.ts [--seconds N] [--chunk-seconds S] [--warmups 0,0.5,1,2] [--width PX] [--videos a,b]
 *
 * For each eval clip (../shared/datasets/eval/videos): a gray, lossless FFV1 copy of its first N
 * seconds (default 10), scaled to --width (default 320), is rendered once whole (colorizeVideo) and
 * once per warm-up length through the batch's chunk plan (renderFilm: long shots split into pieces of
 * about --chunk-seconds, default 2, each piece starting with that many seconds of warm-up), all
 * FFV1 with the shipped model. Reported: the largest a*b* distance (CIE Lab units) between the two
 * renders on the first frame of every piece that starts inside a shot (the seam), and over all frames.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ffmpegPath } from '../src/decode/binaries.js';
import { probeVideo } from '../src/decode/probe.js';
import { Colorizer } from '../src/infer/colorizer.js';
import { colorizeVideo } from '../src/pipeline/colorize-video.js';
import { defaultModelPath } from '../src/pipeline/model-path.js';
import { findShots } from '../src/pipeline/find-shots.js';
import { rangeFromTimes } from '../src/pipeline/frame-range.js';
import { planChunks } from '../src/batch/chunks.js';
import { renderFilm } from '../src/batch/film.js';
import { evalVideos } from './lib/eval-videos.js';
import { runMain } from './lib/paths.js';
import { abDifferencePerFrame } from './lib/ab-difference.js';

const run = promisify(execFile);

await runMain(async () => {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      'chunk-seconds': { type: 'string', default: '2' },
      warmups: { type: 'string', default: '0,0.5,1,2' },
      width: { type: 'string', default: '320' },
      videos: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const chunkSeconds = Number(values['chunk-seconds']);
  const warmups = values.warmups!.split(',').map(Number);
  const dir = await mkdtemp(join(tmpdir(), 'eval-seams-'));
  const colorizer = await Colorizer.load(defaultModelPath(), 'cpu');
  const rows: string[] = [];
  try {
    for (const video of await evalVideos(values.videos)) {
      const name = basename(video, extname(video));
      const gray = join(dir, `${name}.mkv`);
      await run(ffmpegPath(), ['-v', 'error', '-y', '-i', video, '-t', String(seconds), '-an', '-vf', `scale=${values.width}:-2,hue=s=0`, '-c:v', 'ffv1', '-pix_fmt', 'yuv420p', gray]);
      const info = await probeVideo(gray);
      const whole = join(dir, `${name}.whole.mkv`);
      await colorizeVideo({ input: gray, output: whole, codec: 'ffv1', colorizer, overwrite: true, audio: false });
      const shots = await findShots(info, rangeFromTimes(info.frameCount, info.fps));
      for (const warmup of warmups) {
        const chunks = planChunks(shots, info.fps, { chunkSeconds, warmupSeconds: warmup });
        const seams = chunks.filter((c) => c.startFrame > shots.find((s) => s.index === c.firstShot)!.startFrame).map((c) => c.startFrame);
        const out = join(dir, `out-${warmup}`);
        await mkdir(out, { recursive: true });
        const output = join(out, `${name}.mkv`);
        await renderFilm({ info, output, workDir: join(out, 'work'), settings: { codec: 'ffv1' }, colorizer: async () => colorizer, chunkSeconds, warmupSeconds: warmup });
        const diff = await abDifferencePerFrame(whole, output);
        const atSeams = Math.max(0, ...seams.map((f) => diff[f]));
        const overall = Math.max(0, ...diff);
        rows.push(`| ${name} | ${info.frameCount} | ${shots.length} | ${seams.length} | ${warmup} s (${Math.round(warmup * info.fps)} frames) | ${atSeams.toFixed(2)} | ${overall.toFixed(2)} |`);
        process.stderr.write(`${rows[rows.length - 1]}\n`);
      }
    }
  } finally {
    await colorizer.release();
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(['| clip | frames | shots | seams | warm-up | max Δa*b* at seams | max Δa*b* any frame |', '| --- | --- | --- | --- | --- | --- | --- |', ...rows].join('\n') + '\n');
});
