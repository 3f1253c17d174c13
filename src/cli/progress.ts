import type { Progress } from '../pipeline/colorize-video.js';

/** A one-line progress bar on a terminal; nothing at all when stderr is not a TTY. */
export class ProgressBar {
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly label = '') {
    this.enabled = Boolean(stream.isTTY);
  }

  private lastPhase: Progress['phase'] | undefined;

  update(progress: Progress): void {
    if (!this.enabled) return;
    const now = Date.now();
    const phaseChanged = progress.phase !== this.lastPhase;
    if (!phaseChanged && now - this.lastDraw < 100 && progress.done < progress.total) return;
    this.lastDraw = now;
    this.lastPhase = progress.phase;
    this.stream.write(`\r${this.label}${progressText(progress)}\x1b[K`);
  }

  done(): void {
    if (this.enabled) this.stream.write('\r\x1b[K');
  }
}

/** The status line for one progress report (without the carriage return). */
export function progressText(progress: Progress): string {
  if (progress.phase === 'probe') return 'reading the input...';
  if (progress.phase === 'model') return 'loading the model...';
  if (progress.phase === 'join') return 'joining the chunks...';
  const width = 24;
  const ratio = progress.total > 0 ? Math.min(1, progress.done / progress.total) : 0;
  const filled = Math.round(ratio * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  const what = progress.phase === 'shots' ? 'finding shots' : 'colorizing';
  const rate = progress.phase === 'colorize' ? `  ${Number.isFinite(progress.fps) ? progress.fps.toFixed(1) : '--'} fps  ETA ${formatDuration(progress.etaSeconds)}` : '';
  return `${what} [${bar}] ${progress.done}/${progress.total} frames${rate}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(r).padStart(2, '0')}s`;
}
