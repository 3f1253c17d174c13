/** A stretch of damaged film frames (inclusive), with their times in seconds. */
export interface DamagedRange {
  firstFrame: number;
  lastFrame: number;
  startTime: number;
  endTime: number;
}

export interface DecodeMonitorOptions {
  fps: number;
  /** Film frame number of the first decoded frame. */
  startFrame: number;
  /** Timestamps step by one frame, so a jump means frames the decoder dropped. */
  constantRate: boolean;
  /** Stop interest at the first damage (it is reported once, not collected). */
  strict: boolean;
  /** Film frame number after the last wanted frame: damage from there on is none of our business. */
  endFrame: number;
}

/** Lines that mean the file ends before its index says it should (a half-copied file). */
const TRUNCATED = /partial file|ended prematurely|Read error|moov atom not found/i;
const SHOWINFO = /\[Parsed_showinfo_\d+ @ [^\]]+\] \[info\] n:\s*(\d+) pts:\s*(-?\d+)\s+pts_time:\s*(-?[\d.e+-]+)/;
const ERROR_LEVEL = /\[(error|fatal|panic)\]/;
/** Complaints of our own output side (the raw muxer, e.g. about timestamps it rounds), not of the source. */
const OUTPUT_SIDE = /^\[(rawvideo|null) @|non monotonically increasing dts/;

/**
 * Reads ffmpeg's log (`-loglevel level+info` with a `showinfo` filter) while it decodes. Every
 * delivered frame has a showinfo line; decoder errors are logged before the line of the frame
 * they hit, and a jump in timestamps means frames were dropped. So damage is pinned to film
 * frame numbers as it happens, not discovered from a frame count at the end.
 */
export class DecodeMonitor {
  /** The first damaged frame (strict mode stops here). */
  damage: { frame: number; reason: string } | undefined;
  truncated = false;
  lastError: string | undefined;
  private shown = 0;
  private missingTotal = 0;
  private readonly missing = new Map<number, number>();
  private lastPts: number | undefined;
  private pendingError: string | undefined;
  private closed = false;
  private readonly damagedFrames: number[] = [];
  /** Timestamps (stream time-base ticks) of frames the log has shown and the reader has not taken yet. */
  private readonly shownTicks: number[] = [];
  private waiter: { index: number; resolve: () => void } | undefined;

  constructor(private readonly options: DecodeMonitorOptions) {}

  line(text: string): void {
    const info = SHOWINFO.exec(text);
    if (info) {
      this.frameShown(Number(info[3]));
      this.shownTicks.push(Number(info[2]));
      return;
    }
    if (TRUNCATED.test(text)) {
      this.truncated = true;
      return;
    }
    if (ERROR_LEVEL.test(text) && !OUTPUT_SIDE.test(text)) {
      // ffmpeg's own "at N seconds" counts from the seek point, not the film's start: left out.
      const reason = text.replace(/^\[[^\]]*@[^\]]*\]\s*/, '').replace(ERROR_LEVEL, '').replace(/!?\s*at -?[\d.]+ seconds/, '').trim();
      this.lastError = reason;
      this.pendingError ??= reason;
      // In strict mode the damage is known now: it hits the next frame to come.
      if (this.options.strict && !this.damage && this.nextFilmFrame() < this.options.endFrame) this.damage = { frame: this.nextFilmFrame(), reason };
    }
  }

  /** Resolves once the log has described delivered frame `index` (or ffmpeg has ended). */
  seen(index: number): Promise<void> {
    if (this.shown > index || this.closed) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { index, resolve }));
  }

  /** The timestamp of the next delivered frame, in the stream's time-base ticks (call once per frame, after `seen`). */
  takeTicks(): number | undefined {
    return this.shownTicks.shift();
  }

  /** Frames dropped by the decoder just before delivered frame `index`. */
  missingBefore(index: number): number {
    return this.missing.get(index) ?? 0;
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  markMissingEnd(first: number, last: number): void {
    for (let f = first; f <= last; f++) this.damagedFrames.push(f);
  }

  /** Damaged frames merged into stretches. */
  ranges(): DamagedRange[] {
    const frames = [...new Set(this.damagedFrames)].sort((a, b) => a - b);
    const ranges: DamagedRange[] = [];
    const { fps } = this.options;
    for (const f of frames) {
      const last = ranges[ranges.length - 1];
      if (last && last.lastFrame + 1 === f) {
        last.lastFrame = f;
        last.endTime = f / fps;
      } else {
        ranges.push({ firstFrame: f, lastFrame: f, startTime: f / fps, endTime: f / fps });
      }
    }
    return ranges;
  }

  private nextFilmFrame(): number {
    return this.options.startFrame + this.shown + this.missingTotal;
  }

  private frameShown(ptsTime: number): void {
    const { fps, constantRate } = this.options;
    let dropped = 0;
    if (constantRate && this.lastPts !== undefined) dropped = Math.max(0, Math.round((ptsTime - this.lastPts) * fps) - 1);
    this.lastPts = ptsTime;
    if (dropped > 0) {
      this.missing.set(this.shown, dropped);
      const first = this.nextFilmFrame();
      for (let f = first; f < Math.min(first + dropped, this.options.endFrame); f++) this.damagedFrames.push(f);
      if (this.options.strict && !this.damage && first < this.options.endFrame) this.damage = { frame: first, reason: this.pendingError ?? `${dropped} frames missing` };
      this.missingTotal += dropped;
    }
    if (this.pendingError !== undefined && !this.options.strict && this.nextFilmFrame() < this.options.endFrame) this.damagedFrames.push(this.nextFilmFrame());
    this.pendingError = undefined;
    this.shown++;
    this.wake();
  }

  private wake(): void {
    if (this.waiter && (this.closed || this.shown > this.waiter.index)) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve();
    }
  }
}

/** Seconds as h:mm:ss.mmm, the way a film's time is read off an editor. */
export function formatTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h}:${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
}
