import { Command, InvalidArgumentError } from 'commander';
import { UserError } from '../decode/errors.js';
import { type BatchProgress, DEFAULT_CHUNK_SECONDS, DEFAULT_REPORT_NAME, runBatch } from '../batch/run-batch.js';
import { addRenderOptions, type RenderFlags, renderOptionsFrom } from './colorize-command.js';
import { formatDuration } from './progress.js';
import { chunkSecondsFromEnv, positiveNumber } from './parse.js';
import { DEFAULT_WARMUP_SECONDS } from '../batch/chunks.js';
import { plural } from '../plural.js';

interface BatchFlags extends RenderFlags {
  outDir: string;
  pattern?: string;
  report?: string;
  chunkSeconds?: number;
  warmupSeconds?: number;
  keepWork?: boolean;
}

/**
 * `colorize-video batch <files or folders...> --out-dir DIR`: many films with one loaded model,
 * resumable (see src/batch/). Exit code 1 when any file failed.
 */
export function addBatchCommand(program: Command, controller: AbortController): void {
  const command = program
    .command('batch')
    .description(
      'colorize many files one after another with one loaded model. Folders are scanned recursively ' +
        '(hidden files and earlier *.color.* outputs left out). Each output goes under --out-dir as <name>.color.<ext>, ' +
        'in the same sub-folder as the input has under the folder given (a file given directly lands at the top). ' +
        'Running the same batch again skips outputs verified complete (frame count and duration) and resumes ' +
        'unfinished films from their finished chunks; --overwrite lets it replace outputs that exist but do not match their input. ' +
        'Exit code 1 if any file failed (see the report).',
    )
    .argument('<paths...>', 'video files and folders')
    .requiredOption('--out-dir <dir>', 'folder for the outputs (created if missing)')
    .option('--pattern <glob>', "files to take from folders, e.g. '*.mp4' or '**/reel*.{mov,mkv}' (default: common video extensions)")
    .option('--report <file>', `JSON report, rewritten after every file (default: <out-dir>/${DEFAULT_REPORT_NAME})`)
    .option(
      '--chunk-seconds <s>',
      `render long films as chunks of whole shots of at least this many seconds, so an interrupted film resumes from its last chunk (default: $COLORIZE_VIDEO_CHUNK_SECONDS or ${DEFAULT_CHUNK_SECONDS})`,
      positiveNumber,
    )
    .option('--warmup-seconds <s>', `warm-up before a piece of a shot longer than two chunks (default ${DEFAULT_WARMUP_SECONDS})`, nonNegativeNumber)
    .option('--keep-work', 'keep the chunk folders under <out-dir>/.colorize-work after joining (also $COLORIZE_VIDEO_KEEP_WORK=1)');
  addRenderOptions(command);
  command.action(async (paths: string[], own: BatchFlags) => {
    const flags = withParentFlags(command, own);
    const display = new BatchProgressLine();
    const settings = await renderOptionsFrom(flags);
    let summary;
    try {
      summary = await runBatch({
        paths,
        outDir: flags.outDir,
        pattern: flags.pattern,
        report: flags.report,
        settings,
        chunkSeconds: flags.chunkSeconds ?? chunkSecondsFromEnv(),
        warmupSeconds: flags.warmupSeconds,
        keepWork: flags.keepWork || Boolean(process.env.COLORIZE_VIDEO_KEEP_WORK),
        signal: controller.signal,
        onProgress: (p) => display.update(p),
      });
    } finally {
      display.done();
    }
    const { done, skipped, failed, report, reportPath } = summary;
    for (const entry of report.files) {
      if (entry.status === 'failed') process.stderr.write(`colorize-video: ${entry.input}: ${entry.error}\n`);
    }
    const where = reportPath ? ` (report: ${reportPath})` : '';
    if (failed > 0) throw new UserError(`${failed} of ${plural(report.files.length, 'file')} failed, ${done} done, ${skipped} already complete${where}`, 1);
    process.stderr.write(`colorize-video: ${done} done, ${skipped} already complete${where}\n`);
  });
}

/**
 * The main program declares the same render options, and commander lets a parent take its options
 * after a subcommand too: an option given on the command line lands in the parent's values. Take
 * those over the batch command's defaults.
 */
function withParentFlags(command: Command, own: BatchFlags): BatchFlags {
  const merged: Record<string, unknown> = { ...own };
  const parent = command.parent;
  if (!parent) return own;
  const values = parent.opts();
  for (const [key, value] of Object.entries(values)) {
    const source = parent.getOptionValueSource(key);
    if (source === 'cli' || source === 'env') merged[key] = value;
  }
  return merged as unknown as BatchFlags;
}

function nonNegativeNumber(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new InvalidArgumentError('expected a number of seconds, 0 or more');
  return value;
}

/** One status line on a terminal (files done, current file, its progress, batch ETA); nothing otherwise. */
class BatchProgressLine {
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = Boolean(stream.isTTY);
  }

  update(p: BatchProgress): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 150) return;
    this.lastDraw = now;
    const what =
      p.phase === 'shots'
        ? `finding shots ${p.fileDone}/${p.fileTotal}`
        : p.phase === 'join'
          ? 'joining chunks'
          : `${p.fileDone}/${p.fileTotal} frames${p.chunk && p.chunk.count > 1 ? ` (chunk ${p.chunk.index + 1}/${p.chunk.count})` : ''}`;
    const rate = Number.isFinite(p.fps) ? `  ${p.fps.toFixed(1)} fps` : '';
    const columns = this.stream.columns || 100;
    const file = truncateStart(p.file, Math.max(12, columns - 70));
    const line = `[${p.filesFinished}/${p.fileCount} files] ${file}: ${what}${rate}  batch ETA ${formatDuration(p.etaSeconds)}`;
    this.stream.write(`\r${line.slice(0, columns - 1)}\x1b[K`);
  }

  done(): void {
    if (this.enabled) this.stream.write('\r\x1b[K');
  }
}

function truncateStart(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max + 1)}`;
}
