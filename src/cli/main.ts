import { Command, CommanderError } from 'commander';
import { UserError } from '../decode/errors.js';
import { colorizeVideo } from '../pipeline/colorize-video.js';
import { addPreviewOptions, addRenderOptions, type RenderFlags, renderOptionsFrom } from './colorize-command.js';
import { ProgressBar } from './progress.js';
import { abortOnSignals } from './signals.js';
import { addShotsCommand } from './shots-command.js';
import { addBatchCommand } from './batch-command.js';
import { addReviewCommand } from './review-command.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

interface SingleFlags extends RenderFlags {
  output?: string;
  start?: number;
  duration?: number;
  shot?: string;
  json?: boolean;
}

export function buildProgram(controller: AbortController): Command {
  const program = new Command('colorize-video')
    .description('Turn black-and-white film into color film.')
    .argument('<input>', 'video file to colorize')
    .showHelpAfterError('(run colorize-video --help for usage)')
    .enablePositionalOptions()
    .exitOverride();
  addPreviewOptions(addRenderOptions(program));
  program.action(async (input: string, flags: SingleFlags) => {
    const bar = new ProgressBar();
    const result = await colorizeVideo({
      input,
      output: flags.output,
      start: flags.start,
      duration: flags.duration,
      shots: flags.shot,
      ...(await renderOptionsFrom(flags)),
      signal: controller.signal,
      onProgress: flags.json ? undefined : (p) => bar.update(p),
    });
    bar.done();
    for (const warning of result.warnings) process.stderr.write(`colorize-video: warning: ${warning}\n`);
    const { stageSeconds, queueHighWater, warnings, ...summary } = result;
    void warnings;
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      void stageSeconds;
      void queueHighWater;
      process.stderr.write(`${result.output}: ${result.frames} frames, ${result.shots} shots in ${result.seconds.toFixed(1)} s (${result.fps.toFixed(1)} fps, ${result.device})\n`);
    }
  });
  addShotsCommand(program, controller);
  addBatchCommand(program, controller);
  addReviewCommand(program, controller);
  for (const sub of program.commands) sub.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const signals = abortOnSignals(controller);
  const program = buildProgram(controller);
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (error) {
    const signalCode = signals.exitCode();
    if (signalCode !== undefined) {
      process.stderr.write('\ncolorize-video: interrupted\n');
      return signalCode;
    }
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const message = error instanceof UserError ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}colorize-video: error: ${message.split('\n')[0]}\n`);
    return error instanceof UserError ? error.exitCode : EXIT_FAILED;
  }
}
