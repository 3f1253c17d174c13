import { CommanderError } from 'commander';
import { UserError } from '../decode/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CliFailure {
  message: string;
  exitCode: number;
}

/** Any error reaching the CLI as one line and an exit code (commander's own messages included). */
export function describeFailure(error: unknown): CliFailure {
  if (error instanceof CommanderError) return { message: commanderMessage(error.message), exitCode: EXIT_USAGE };
  if (error instanceof UserError) return { message: firstLine(error.message), exitCode: error.exitCode };
  return { message: `internal error: ${firstLine((error as Error)?.message ?? String(error))}`, exitCode: EXIT_FAILED };
}

/**
 * Commander writes "error: unknown option '--bach-size'\n(Did you mean --batch-size?)": one line,
 * without its own "error:" (ours is put in front), with the hint to the help.
 */
function commanderMessage(message: string): string {
  const text = message
    .replace(/^error:\s*/i, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
  return `${text} (see colorize-video --help)`;
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}

/** Whether the command line asks for JSON output (then errors are JSON too). */
export function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** The error report: one line on stderr, and with --json one JSON object on stdout. */
export function reportFailure(failure: CliFailure, json: boolean): void {
  process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}colorize-video: error: ${failure.message}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ error: failure.message, exitCode: failure.exitCode })}\n`);
}
