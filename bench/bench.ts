/**
 * End-to-end speed: frames per second of `colorizeVideo` with a per-stage breakdown, against a
 * plain ffmpeg transcode of the same clip with the same encoder settings, measured in the same
 * run (the ratio is what to compare across machines; absolute figures move with load).
 *
 *   npm run bench -- [--device auto|cpu|webgpu|cuda] [--seconds 4] [--sizes 854x480,1920x1080] [--model DIR] [--batch-size 4]
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { ffmpegPath } from '../src/decode/binaries.js';
import { colorizeVideo, type ColorizeResult } from '../src/pipeline/colorize-video.js';
import type { DeviceRequest } from '../src/infer/device.js';

const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'auto' },
    seconds: { type: 'string', default: '4' },
    sizes: { type: 'string', default: '854x480,1920x1080' },
    model: { type: 'string' },
    'batch-size': { type: 'string', default: '4' },
    preset: { type: 'string', default: 'medium' },
    crf: { type: 'string', default: '18' },
  },
});

interface Row {
  size: string;
  frames: number;
  device: string;
  colorizeSeconds: number;
  colorizeFps: number;
  transcodeSeconds: number;
  transcodeFps: number;
  ratioToTranscode: number;
  stageMsPerFrame: Record<string, number>;
}

async function makeClip(path: string, size: string, seconds: number): Promise<void> {
  // A textured, moving, black-and-white source with sound: closer to film than a flat test card.
  await run(ffmpegPath(), [
    '-hide_banner', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `mandelbrot=size=${size}:rate=25,hue=s=0`,
    '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-pix_fmt', 'yuv420p', '-c:a', 'aac', path,
  ]);
}

async function timePlainTranscode(input: string, output: string): Promise<number> {
  const start = performance.now();
  await run(ffmpegPath(), [
    '-hide_banner', '-v', 'error', '-y', '-i', input, '-map', '0:v:0', '-map', '0:a?',
    '-c:v', 'libx264', '-preset', values.preset!, '-crf', values.crf!, '-pix_fmt', 'yuv420p', '-c:a', 'copy', '-movflags', '+faststart', output,
  ]);
  return (performance.now() - start) / 1000;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'colorize-bench-'));
  const rows: Row[] = [];
  try {
    for (const size of values.sizes!.split(',')) {
      const clip = join(dir, `clip-${size}.mp4`);
      await makeClip(clip, size, Number(values.seconds));
      const transcodeSeconds = await timePlainTranscode(clip, join(dir, `plain-${size}.mp4`));
      const result: ColorizeResult = await colorizeVideo({
        input: clip,
        output: join(dir, `color-${size}.mp4`),
        overwrite: true,
        model: values.model,
        device: values.device as DeviceRequest,
        batchSize: Number(values['batch-size']),
        preset: values.preset,
        crf: Number(values.crf),
      });
      const perFrame = (s: number) => Math.round((1000 * s) / result.frames * 10) / 10;
      rows.push({
        size,
        frames: result.frames,
        device: result.device,
        colorizeSeconds: result.seconds,
        colorizeFps: result.fps,
        transcodeSeconds,
        transcodeFps: result.frames / transcodeSeconds,
        ratioToTranscode: transcodeSeconds / result.seconds,
        stageMsPerFrame: Object.fromEntries(Object.entries(result.stageSeconds).map(([k, v]) => [k, perFrame(v)])),
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log('| clip | frames | device | colorize fps | plain transcode fps | speed vs transcode | decode | infer | temporal | compose | encode | shots (ms/frame) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const s = r.stageMsPerFrame;
    console.log(
      `| ${r.size} | ${r.frames} | ${r.device} | ${r.colorizeFps.toFixed(2)} | ${r.transcodeFps.toFixed(1)} | ${r.ratioToTranscode.toFixed(3)}x | ${s.decode} | ${s.infer} | ${s.temporal} | ${s.compose} | ${s.encode} | ${s.shots} |`,
    );
  }
  console.log('\nStage figures are wall time per frame spent inside each stage; stages overlap, so they do not add up to 1/fps.');
  await mkdir('.out', { recursive: true });
  await writeFile('.out/bench.json', JSON.stringify(rows, null, 2));
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).message}`);
  process.exit(1);
});
