/**
 * Render-farm coordination cost and scaling (issue #14), against a redis-server started here
 * (/usr/bin/redis-server, loopback, no persistence).
 *
 *   npx tsx bench/farm.ts [--jobs 300] [--seconds 8] [--width 320] [--chunk-seconds 1] [--workers 1,2] [--model DIR]
 *
 * 1. Coordination overhead: a flow of --jobs no-op chunk jobs under one parent, processed by one
 *    BullMQ worker on the farm's queues with the farm's job options: wall milliseconds per chunk and
 *    Redis commands per chunk (INFO commandstats before/after), i.e. everything a chunk costs
 *    except rendering it.
 * 2. Throughput: one synthetic film (several shots and a long one) rendered by the farm with
 *    1 and 2 worker processes (`colorize-video farm worker`, each loading the model), against the
 *    same film rendered by `colorize-video batch` on this machine, all in one run.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { FlowProducer, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ffmpegPath } from '../src/decode/binaries.js';
import { redisConnection } from '../src/farm/connection.js';
import { CHUNK_QUEUE, FarmStore, JOIN_QUEUE } from '../src/farm/registry.js';
import { farmStatus } from '../src/farm/control.js';
import { jobOptions } from '../src/farm/submit.js';
import { TestRedis } from '../test/helpers/redis-server.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'colorize-video.js');

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '8' },
    width: { type: 'string', default: '320' },
    'chunk-seconds': { type: 'string', default: '1' },
    workers: { type: 'string', default: '1,2' },
    model: { type: 'string' },
  },
});

const redis = await TestRedis.start();
const dir = await mkdtemp(join(tmpdir(), 'bench-farm-'));
try {
  const overhead = await coordinationOverhead(Number(values.jobs));
  process.stdout.write(`coordination: ${overhead.jobs} chunk jobs in ${overhead.seconds.toFixed(2)} s: ${overhead.msPerChunk.toFixed(2)} ms and ${overhead.commandsPerChunk.toFixed(1)} Redis commands per chunk (one worker, no rendering)\n`);
  await throughput();
} finally {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
}

async function commandCount(client: Redis): Promise<number> {
  const text = await client.info('commandstats');
  let total = 0;
  for (const match of text.matchAll(/calls=(\d+)/g)) total += Number(match[1]);
  return total;
}

async function coordinationOverhead(jobs: number) {
  const connection = redisConnection(redis.url);
  const client = new Redis(connection as object);
  const prefix = 'bench-overhead';
  const flows = new FlowProducer({ connection, prefix });
  const children = Array.from({ length: jobs }, (_, i) => ({ name: `chunk ${i}`, queueName: CHUNK_QUEUE, data: { i }, opts: { ...jobOptions(), failParentOnFailure: true } }));
  const before = await commandCount(client);
  const started = performance.now();
  await flows.add({ name: 'join', queueName: JOIN_QUEUE, data: {}, opts: jobOptions(), children });
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const worker = new Worker(CHUNK_QUEUE, async () => ({ frames: 0 }), { connection, prefix });
  const joiner = new Worker(JOIN_QUEUE, async () => finish(), { connection, prefix });
  worker.on('completed', () => done++);
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const commands = (await commandCount(client)) - before;
  await Promise.all([worker.close(), joiner.close(), flows.close()]);
  client.disconnect();
  return { jobs: done, seconds, msPerChunk: (seconds * 1000) / jobs, commandsPerChunk: commands / jobs };
}

async function throughput(): Promise<void> {
  const seconds = Number(values.seconds);
  const film = join(dir, 'film.mp4');
  const third = Math.max(1, Math.round(seconds / 4));
  await run(ffmpegPath(), [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=s=${values.width}x${Math.round((Number(values.width) * 9) / 32) * 2}:r=25:d=${third}`,
    '-f', 'lavfi', '-i', `mandelbrot=s=${values.width}x${Math.round((Number(values.width) * 9) / 32) * 2}:r=25`,
    '-filter_complex', `[1]trim=duration=${seconds - third},setpts=PTS-STARTPTS[m];[0][m]concat=n=2:v=1:a=0,format=yuv420p,hue=s=0[v]`,
    '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', film,
  ]);
  const model = values.model ? ['--model', resolve(values.model)] : [];
  const plan = ['--codec', 'ffv1', '--chunk-seconds', values['chunk-seconds']!];
  const env = { ...process.env, COLORIZE_FARM_REDIS: redis.url, COLORIZE_VIDEO_CACHE: join(dir, 'cache') };

  const batchStart = performance.now();
  await run(process.execPath, [CLI, 'batch', film, '--out-dir', join(dir, 'batch'), '--device', 'cpu', ...model, ...plan], { env });
  const batchSeconds = (performance.now() - batchStart) / 1000;
  const frames = Math.round(seconds * 25);
  process.stdout.write(`batch (one process): ${frames} frames in ${batchSeconds.toFixed(1)} s = ${(frames / batchSeconds).toFixed(2)} fps\n`);

  for (const count of values.workers!.split(',').map(Number)) {
    const prefix = `bench-${count}`;
    const out = join(dir, `farm-${count}`);
    const started = performance.now();
    await run(process.execPath, [CLI, 'farm', 'submit', film, '--out-dir', out, ...model, ...plan], { env: { ...env, COLORIZE_FARM_PREFIX: prefix } });
    const workers: ChildProcess[] = [];
    for (let i = 0; i < count; i++) {
      workers.push(spawn(process.execPath, [CLI, 'farm', 'worker', '--device', 'cpu', ...model], { env: { ...env, COLORIZE_FARM_PREFIX: prefix }, stdio: 'ignore' }));
    }
    // Polled in this process (a status command per poll would take CPU from the workers).
    process.env.COLORIZE_FARM_PREFIX = prefix;
    const store = await FarmStore.open(redis.url);
    try {
      for (;;) {
        const status = await farmStatus(store);
        const state = status.films[0]?.state;
        if (state === 'done' || state === 'failed') {
          if (state === 'failed') throw new Error(`farm run with ${count} workers failed: ${JSON.stringify(status.films[0].failures)}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await store.close();
    }
    const wall = (performance.now() - started) / 1000;
    process.stdout.write(
      `farm, ${count} worker${count > 1 ? 's' : ''}: ${frames} frames in ${wall.toFixed(1)} s (submit to joined output, model loads included) = ${(frames / wall).toFixed(2)} fps, ${(batchSeconds / wall).toFixed(2)}x batch\n`,
    );
  }
}
