import { Command, Option } from 'commander';
import { DEVICE_CHOICES, type DeviceRequest } from '../infer/device.js';
import { isLoopback, startReviewServer } from '../review/server.js';
import { integerIn } from './parse.js';
import { ProgressBar } from './progress.js';

interface ReviewFlags {
  port: number;
  host: string;
  model?: string;
  device: DeviceRequest;
  resolution?: number;
  references?: string;
  maxUploadMb: number;
}

/** `colorize-video review <film>`: the review room, a local web page over the same core. Runs until interrupted. */
export function addReviewCommand(program: Command, controller: AbortController): void {
  program
    .command('review')
    .description(
      'open a review page for a film: every shot before and after, a reference image, intensity and smoothing per shot ' +
        '(saved to <film>.colorize.json beside it), previews and the whole-film render. Listens on 127.0.0.1 unless --host says otherwise; ' +
        'on any other address the printed URL carries a random token that every request must give.',
    )
    .argument('<film>', 'video file')
    .option('--port <n>', 'port (default: any free port)', integerIn(0, 65535), 0)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--model <dir>', 'model folder holding model.json (default: the shipped models/)')
    .addOption(new Option('--device <device>', 'inference device').choices(DEVICE_CHOICES).default('auto'))
    .option('--resolution <px>', 'working short side of the network input (default from model.json)', integerIn(16, 4096))
    .option('--references <dir>', 'folder of reference images to choose from; uploads go here (default: <film>.references beside the film)')
    .option('--max-upload-mb <n>', 'largest reference image upload', integerIn(1, 1024), 25)
    .action(async (film: string, flags: ReviewFlags) => {
      const bar = new ProgressBar();
      const server = await startReviewServer({
        film,
        host: flags.host,
        port: flags.port,
        model: flags.model,
        device: flags.device,
        resolution: flags.resolution,
        references: flags.references,
        maxUploadBytes: flags.maxUploadMb * 1024 * 1024,
        onProgress: (done, total) => bar.update({ phase: 'shots', done, total, fps: 0, etaSeconds: 0 }),
      });
      bar.done();
      if (!isLoopback(flags.host)) process.stderr.write(`colorize-video: listening on ${flags.host}: anyone who can reach it and has the URL below can use it\n`);
      process.stdout.write(`${server.url}\n`);
      await new Promise<void>((done) => {
        if (controller.signal.aborted) done();
        else controller.signal.addEventListener('abort', () => done(), { once: true });
      });
      await server.close();
    });
}
