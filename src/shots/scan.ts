import { CutDetector, type CutDetectorOptions } from './detector.js';
import { readGrayFrames, readScanAndViewFrames } from './gray-frames.js';
import { shotsFromCuts, type Shot } from './shot-list.js';

/**
 * Size of the analysis frames. Fixed rather than aspect-preserving so the byte stream
 * can be split into frames without probing first; stretching does not matter for
 * finding cuts. 4:3, the usual shape of old film.
 */
export const SCAN_WIDTH = 96;
export const SCAN_HEIGHT = 72;

export interface DetectShotsOptions {
  /** Frame rate of the film. Frame times are index / fps: a constant frame rate is assumed. */
  fps: number;
  /** Duration of the film in seconds: the end time of the last shot when the scan reaches the end of the film. */
  durationSeconds: number;
  /** Frames to scan at most (e.g. the probed frame count). Shots cover the frames actually decoded. */
  frameCount?: number;
  /** Start of the scan in seconds; frame numbers stay absolute (first frame = round(start × fps)). */
  start?: number;
  /** Overrides of the detector's defaults (threshold, minimum shot length, ...). */
  detector?: Partial<Omit<CutDetectorOptions, 'width' | 'height' | 'fps'>>;
  /** Called every `progressInterval` frames (default 250) and at the end with the frames scanned so far. */
  onProgress?: (framesScanned: number) => void;
  progressInterval?: number;
  signal?: AbortSignal;
  /**
   * Also hand each frame's view at this size (e.g. the global network's input) to `consume`, from
   * the same decode, with the cuts confirmed so far ({@link CutDetector.confirmedCuts}). Awaited, so a
   * slow consumer holds the scan back. The view array is reused after `consume` returns.
   */
  views?: { width: number; height: number; consume: (frameIndex: number, view: Uint8Array, confirmedCuts: readonly number[]) => void | Promise<void> };
}

/**
 * Fast first pass over a film: decodes small gray frames with ffmpeg, streams them
 * through a {@link CutDetector} and returns the shots, which cover every decoded frame.
 * Rejects with a one-line Error if ffmpeg fails or no frame could be decoded.
 */
export async function detectShots(input: string, options: DetectShotsOptions): Promise<Shot[]> {
  const { fps, durationSeconds, frameCount, start = 0, onProgress, progressInterval = 250, signal } = options;
  if (!(fps > 0) || !Number.isFinite(fps)) throw new Error(`invalid fps ${fps}`);
  if (!(start >= 0)) throw new Error(`invalid start time ${start}`);
  if (frameCount !== undefined && !(Number.isInteger(frameCount) && frameCount > 0)) {
    throw new Error(`invalid frame count ${frameCount}`);
  }
  const firstFrame = Math.round(start * fps);
  const detector = new CutDetector({ ...options.detector, width: SCAN_WIDTH, height: SCAN_HEIGHT, fps });
  let decoded = 0;
  // Seek half a frame early so timestamp rounding can neither skip the first frame nor include the one before.
  const seek = firstFrame > 0 ? (firstFrame - 0.5) / fps : undefined;
  const scan = { width: SCAN_WIDTH, height: SCAN_HEIGHT };
  const views = options.views;
  const frames: AsyncIterable<{ scan: Uint8Array; view?: Uint8Array }> = views
    ? readScanAndViewFrames(input, { scan, view: views, start: seek, maxFrames: frameCount, signal })
    : scanOnly(readGrayFrames(input, { ...scan, start: seek, maxFrames: frameCount, signal }));
  for await (const frame of frames) {
    detector.push(firstFrame + decoded, frame.scan);
    if (views) await views.consume(firstFrame + decoded, frame.view!, detector.confirmedCuts);
    decoded++;
    if (onProgress && decoded % progressInterval === 0) onProgress(decoded);
  }
  onProgress?.(decoded);
  if (decoded === 0) {
    throw new Error(`no video frames decoded from "${input}"${start > 0 ? ` at or after ${start} s` : ''}`);
  }
  const scannedUntil = (firstFrame + decoded) / fps;
  const reachedEnd = frameCount === undefined || decoded < frameCount || scannedUntil >= durationSeconds - 1 / fps;
  const lastStartTime = scannedUntil - 1 / fps;
  const endTime = reachedEnd && durationSeconds > lastStartTime ? durationSeconds : undefined;
  return shotsFromCuts(detector.finish(), decoded, fps, { firstFrame, endTime });
}

async function* scanOnly(frames: AsyncIterable<Uint8Array>): AsyncGenerator<{ scan: Uint8Array }> {
  for await (const scan of frames) yield { scan };
}
