import { Command, CommanderError } from 'commander';
import { colorizeFilm } from '../batch/resumable-render.js';
import { addPreviewOptions, addRenderOptions, type RenderFlags, renderOptionsFrom } from './colorize-command.js';
import { chunkSecondsFromEnv } from './parse.js';
import { ProgressBar } from './progress.js';
import { abortOnSignals } from './signals.js';
import { addShotsCommand } from './shots-command.js';
import { addBatchCommand } from './batch-command.js';
import { addFarmCommand } from './farm-command.js';
import { addReviewCommand } from './review-command.js';
import { EXIT_OK, describeFailure, reportFailure, wantsJson } from './errors.js';
import { plural } from '../plural.js';
import { packageVersion } from './version.js';

export { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './errors.js';

const HELP_AFTER = `
Examples:
  colorize-video old_film.mp4                         writes old_film.color.mp4 beside it
                                                      (a long film in chunks: run it again to resume)
  colorize-video reel.mkv -o out.mkv --codec ffv1     lossless output
  colorize-video film.mp4 --start 1:30 --duration 10  a 10 s preview
  colorize-video shots film.mp4                       list the shots (numbers for --shot)
  colorize-video film.mp4 --shot 3,5-7 --json         only shots 3, 5, 6 and 7; JSON summary
  colorize-video batch films/ --out-dir colored/      a whole folder, resumable

Frame and time ranges (shot lists, JSON) include their start and exclude their end;
shot selections like 5-7 include both ends.

Exit codes: 0 done, 1 failed, 2 usage error, 130 interrupted (SIGINT), 143 terminated (SIGTERM).
Errors are one line on stderr; with --json also one JSON object {"error", "exitCode"} on stdout.
Set COLORIZE_VIDEO_SKIP_MODEL_CHECK=1 to load model files whose size or SHA-256 differs from model.json.
`;

interface SingleFlags extends RenderFlags {
  output?: string;
  start?: number;
  duration?: number;
  shot?: string;
  resume: boolean;
  chunkSeconds?: number;
  json?: boolean;
}

export function buildProgram(controller: AbortController): Command {
  const program = new Command('colorize-video')
    .description('Turn black-and-white film into color film.')
    .argument('<input>', 'video file to colorize')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpCommand('help [command]', 'show help for a command')
    // Errors are written by main(), as one line (see errors.ts).
    .configureOutput({ outputError: () => undefined })
    .enablePositionalOptions()
    .exitOverride()
    .addHelpText('after', HELP_AFTER);
  addPreviewOptions(addRenderOptions(program));
  program.action(async (input: string, flags: SingleFlags) => {
    const bar = new ProgressBar();
    const result = await colorizeFilm({
      input,
      output: flags.output,
      start: flags.start,
      duration: flags.duration,
      shots: flags.shot,
      resume: flags.resume,
      chunkSeconds: flags.chunkSeconds ?? chunkSecondsFromEnv(),
      ...(await renderOptionsFrom(flags)),
      signal: controller.signal,
      onProgress: flags.json ? undefined : (p) => bar.update(p),
      onWarning: (warning) => {
        bar.done();
        process.stderr.write(`colorize-video: warning: ${warning}\n`);
      },
    });
    bar.done();
    const { stageSeconds, queueHighWater, warnings, ...summary } = result;
    void warnings;
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      void stageSeconds;
      void queueHighWater;
      const resumed = result.chunksReused ? `; ${result.chunksReused} of ${plural(result.chunks ?? 0, 'chunk')} kept from an earlier run` : '';
      process.stderr.write(`${result.output}: ${plural(result.frames, 'frame')}, ${plural(result.shots, 'shot')} in ${result.seconds.toFixed(1)} s (${result.fps.toFixed(1)} fps, ${result.device}${resumed})\n`);
    }
  });
  addShotsCommand(program, controller);
  addBatchCommand(program, controller);
  addFarmCommand(program, controller);
  addReviewCommand(program, controller);
  for (const sub of program.commands) sub.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const signals = abortOnSignals(controller);
  const json = wantsJson(argv.slice(2));
  try {
    const program = buildProgram(controller);
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (error) {
    const signalCode = signals.exitCode();
    if (signalCode !== undefined) {
      // A resumable render says where its finished chunks are.
      const message = error instanceof Error && error.message.startsWith('interrupted;') ? error.message : 'interrupted';
      reportFailure({ message, exitCode: signalCode }, json);
      return signalCode;
    }
    if (error instanceof CommanderError && error.exitCode === 0) return EXIT_OK;
    const failure = describeFailure(error);
    reportFailure(failure, json);
    return failure.exitCode;
  }
}
