import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { UserError } from '../decode/errors.js';
import { VIDEO_CODECS, type VideoCodec } from '../encode/container.js';
import { DEVICE_CHOICES, type DeviceRequest } from '../infer/device.js';
import { DEFAULT_TEMPORAL_STRENGTH } from '../temporal/smoother.js';
import { DEFAULT_CHUNK_SECONDS } from '../batch/run-batch.js';
import { DEFAULT_WARMUP_SECONDS } from '../batch/chunks.js';
import { FarmStore } from '../farm/registry.js';
import { submitFilms } from '../farm/submit.js';
import { runFarmWorker } from '../farm/worker.js';
import { cancelFilm, farmStatus, retryFilm } from '../farm/control.js';
import { formatDuration } from './progress.js';
import { integerIn, numberIn } from './parse.js';

const REDIS_HELP = 'Redis URL, redis://[user:password@]host:port[/db] or rediss:// for TLS (default: $COLORIZE_FARM_REDIS)';

interface SubmitFlags {
  redis?: string;
  outDir: string;
  pattern?: string;
  model?: string;
  batchSize?: number;
  resolution?: number;
  codec: VideoCodec;
  crf: number;
  preset: string;
  temporal: number | boolean;
  sideBySide?: boolean;
  overwrite?: boolean;
  chunkSeconds: number;
  warmupSeconds: number;
  json?: boolean;
  settings?: string;
  reference?: string;
  referenceStrength?: number;
}

/** `colorize-video farm submit|worker|status|retry|cancel`: a render farm over BullMQ on Redis (src/farm/). */
export function addFarmCommand(program: Command, controller: AbortController): void {
  const farm = program.command('farm').description('spread films over many machines: a Redis queue, any number of workers (see README, "Render farm")');

  farm
    .command('submit')
    .description('probe films, plan their chunks and enqueue them (one job per chunk, a join job per film); chunks already finished on disk are not enqueued again')
    .argument('<paths...>', 'video files and folders (every worker must see them at the same paths)')
    .option('--redis <url>', REDIS_HELP)
    .requiredOption('--out-dir <dir>', 'folder for the outputs, seen by every worker at the same path')
    .option('--pattern <glob>', 'files to take from folders (default: common video extensions)')
    .option('--model <dir>', 'model folder (workers must hold the same model files)')
    .option('--batch-size <n>', 'frames per inference batch (default: chosen by each worker from its device)', integerIn(1, 256))
    .option('--resolution <px>', 'working short side of the network input', integerIn(16, 4096))
    .addOption(new Option('--codec <codec>', 'output video codec').choices(VIDEO_CODECS).default('h264'))
    .option('--crf <n>', 'quality for h264/h265', integerIn(0, 51), 18)
    .option('--preset <name>', 'x264/x265 preset', 'medium')
    .option('--temporal <strength>', 'temporal smoothing strength, 0..1', numberIn(0, 1), DEFAULT_TEMPORAL_STRENGTH)
    .option('--no-temporal', 'turn temporal smoothing off')
    .option('--side-by-side', 'gray and color next to each other')
    .option('--settings <file>', 'per-shot settings for every film (default: the project file <film>.colorize.json beside each film); reference images must lie inside the film\'s folder')
    .option('--reference <image>', 'take the global colors from this image for every shot (inside the films\' folder)')
    .option('--reference-strength <s>', 'how far a reference moves its shot to the reference\'s palette, 0..1 (default 1)', numberIn(0, 1))
    .option('--overwrite', 'replace outputs that exist but are not a complete render of their input')
    .option('--chunk-seconds <s>', 'chunk length: whole shots grouped to at least this, longer shots split', numberIn(0.001, 1e6), DEFAULT_CHUNK_SECONDS)
    .option('--warmup-seconds <s>', 'warm-up before a piece that starts inside a shot', numberIn(0, 600), DEFAULT_WARMUP_SECONDS)
    .option('--json', 'print one JSON line per film on stdout')
    .action(async (paths: string[], flags: SubmitFlags) => {
      await withStore(flags.redis, async (store) => {
        const results = await submitFilms(store, {
          paths,
          outDir: flags.outDir,
          pattern: flags.pattern,
          model: flags.model,
          chunkSeconds: flags.chunkSeconds,
          warmupSeconds: flags.warmupSeconds,
          overwrite: flags.overwrite,
          choices: { settingsFile: flags.settings ? resolve(flags.settings) : undefined, reference: flags.reference ? resolve(flags.reference) : undefined },
          settings: {
            codec: flags.codec,
            crf: flags.crf,
            preset: flags.preset,
            resolution: flags.resolution ?? null,
            batchSize: flags.batchSize ?? null,
            temporalStrength: flags.temporal === false ? 0 : flags.temporal === true ? DEFAULT_TEMPORAL_STRENGTH : flags.temporal,
            sideBySide: Boolean(flags.sideBySide),
            samplesPerShot: null,
            reference: null,
            referenceStrength: flags.referenceStrength ?? null,
            shotSettings: null,
          },
        });
        for (const r of results) {
          if (flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
          else if (r.status === 'failed') process.stderr.write(`colorize-video: ${r.input}: ${r.error}\n`);
          else process.stderr.write(`colorize-video: ${r.input}: ${r.status}${r.id ? ` (film ${r.id}, ${r.chunks} chunks${r.reused ? `, ${r.reused} already finished` : ''})` : ''}\n`);
        }
        const failed = results.filter((r) => r.status === 'failed').length;
        if (failed > 0) throw new UserError(`${failed} of ${results.length} films could not be submitted`, 1);
      });
    });

  farm
    .command('worker')
    .description('render chunks and join films from the queue until stopped (SIGINT/SIGTERM); run any number, on any machines')
    .option('--redis <url>', REDIS_HELP)
    .option('--concurrency <n>', 'chunks rendered at once (one loaded model)', integerIn(1, 64), 1)
    .addOption(new Option('--device <device>', 'inference device').choices(DEVICE_CHOICES).default('auto'))
    .option('--model <dir>', 'model folder (must match the one films were submitted with)')
    .option('--allow-root <dir...>', 'only take films whose input and output folders lie inside these')
    .option('--no-int8', "on the CPU, run the model's float network instead of its int8 variant: in a room that mixes GPU and CPU workers, every chunk then runs the same network")
    .action(async (flags: { redis?: string; concurrency: number; device: DeviceRequest; model?: string; allowRoot?: string[]; int8: boolean }) => {
      await runFarmWorker({
        redis: redisUrl(flags.redis),
        concurrency: flags.concurrency,
        device: flags.device,
        model: flags.model,
        cpuVariant: flags.int8,
        allowRoots: flags.allowRoot,
        signal: controller.signal,
      });
      if (controller.signal.aborted) throw new UserError('interrupted');
    });

  farm
    .command('status')
    .description('per film: chunks done/total, active chunks, frames per second, ETA, failures')
    .option('--redis <url>', REDIS_HELP)
    .option('--json', 'print the status as JSON')
    .action(async (flags: { redis?: string; json?: boolean }) => {
      await withStore(flags.redis, async (store) => {
        const status = await farmStatus(store);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(status)}\n`);
          return;
        }
        const lines = [`workers: ${status.workers ?? 'unknown'}`];
        for (const f of status.films) {
          const rate = f.fps !== null ? `, ${f.fps.toFixed(1)} fps` : '';
          const eta = f.etaSeconds !== null && f.state !== 'done' ? `, ETA ${formatDuration(f.etaSeconds)}` : '';
          lines.push(`${f.id}  ${f.state.padEnd(9)} ${f.chunks.done}/${f.chunks.total} chunks (${f.chunks.active} active)${rate}${eta}  ${f.input}`);
          for (const failure of f.failures) lines.push(`    ${failure.chunk === 'join' ? 'join' : `chunk ${failure.chunk}`}: ${failure.error} (${failure.attempts} attempts)`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });

  farm
    .command('retry')
    .description('enqueue a failed or cancelled film again (finished chunks are kept)')
    .argument('<film>', 'film id (from farm status), or its input or output path')
    .option('--redis <url>', REDIS_HELP)
    .action(async (film: string, flags: { redis?: string }) => {
      await withStore(flags.redis, async (store) => {
        const record = await retryFilm(store, film);
        process.stderr.write(`colorize-video: ${record.input}: queued again (film ${record.id}, ${record.chunks - record.reused.length} chunks to render)\n`);
      });
    });

  farm
    .command('cancel')
    .description('stop a film: its waiting chunks are removed, running ones are aborted')
    .argument('<film>', 'film id (from farm status), or its input or output path')
    .option('--redis <url>', REDIS_HELP)
    .action(async (film: string, flags: { redis?: string }) => {
      await withStore(flags.redis, async (store) => {
        const record = await cancelFilm(store, film);
        process.stderr.write(`colorize-video: ${record.input}: cancelled (film ${record.id})\n`);
      });
    });
  for (const sub of farm.commands) sub.exitOverride();
  farm.exitOverride();
}

function redisUrl(flag: string | undefined): string {
  const url = flag ?? process.env.COLORIZE_FARM_REDIS;
  if (!url) throw new UserError('give --redis URL (or set COLORIZE_FARM_REDIS)', 2);
  return url;
}

async function withStore(flag: string | undefined, work: (store: FarmStore) => Promise<void>): Promise<void> {
  const store = await FarmStore.open(redisUrl(flag));
  try {
    await work(store);
  } finally {
    await store.close().catch(() => undefined);
  }
}
