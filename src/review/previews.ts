import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import PQueue from 'p-queue';
import { ffmpegPath } from '../decode/binaries.js';
import { UserError } from '../decode/errors.js';
import type { VideoInfo } from '../decode/probe.js';
import type { Colorizer } from '../infer/colorizer.js';
import { colorizeVideo } from '../pipeline/colorize-video.js';
import type { ShotSettings } from '../project/project-file.js';
import type { Shot } from '../shots/index.js';

/** Bump when a preview of the same inputs would come out differently. */
const PREVIEW_VERSION = 1;
export const THUMB_WIDTH = 192;

export interface PreviewStoreOptions {
  info: VideoInfo;
  shots: Shot[];
  colorizer: Colorizer;
  /** Folder for rendered previews and thumbnails (inside the user's cache). */
  dir: string;
  /** Working resolution of the previews (default: the model's). */
  resolution?: number;
}

interface Job {
  promise: Promise<string>;
  controller: AbortController;
  waiters: number;
}

/**
 * Shot previews, rendered on demand by the same colorizeVideo as the film and cached by everything
 * that decides their pixels (film identity, shot, that shot's settings, model). Side-by-side
 * (gray | color) when the width allows it, so one video serves the wipe and side-by-side views.
 * One render at a time (previews queue behind each other, a clicked shot before thumbnails);
 * a render nobody waits for any more is cancelled.
 */
export class PreviewStore {
  private readonly queue = new PQueue({ concurrency: 1 });
  private readonly jobs = new Map<string, Job>();
  readonly sideBySide: boolean;

  constructor(private readonly options: PreviewStoreOptions) {
    this.sideBySide = options.info.width % 2 === 0;
  }

  /** Cache key of a shot's preview with these settings. */
  async key(shot: number, settings: ShotSettings): Promise<string> {
    const film = await stat(this.options.info.path);
    const reference = settings.reference ? await stat(settings.reference).catch(() => undefined) : undefined;
    const config = this.options.colorizer.config;
    const parts = [
      PREVIEW_VERSION,
      resolve(this.options.info.path),
      film.size,
      film.mtimeMs,
      shot,
      settings,
      reference ? [reference.size, reference.mtimeMs] : null,
      config.dir,
      config.name,
      this.options.resolution ?? null,
    ];
    return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
  }

  videoPath(key: string): string {
    return join(this.options.dir, `${key}.mp4`);
  }

  thumbPath(key: string): string {
    return join(this.options.dir, `${key}.jpg`);
  }

  /**
   * The preview file of a shot, rendered if not cached. `signal` is this caller's interest: the
   * render is cancelled when every caller waiting for it has gone.
   */
  async preview(shot: number, settings: ShotSettings, signal?: AbortSignal, priority = 0): Promise<{ key: string; path: string }> {
    const key = await this.key(shot, settings);
    const path = this.videoPath(key);
    if (await exists(path)) return { key, path };
    let job = this.jobs.get(key);
    if (!job) {
      const controller = new AbortController();
      const promise = this.queue
        .add(() => this.render(shot, settings, path, controller.signal), { priority, signal: controller.signal })
        .then(() => path)
        .finally(() => this.jobs.delete(key));
      job = { promise, controller, waiters: 0 };
      this.jobs.set(key, job);
    }
    const current = job;
    current.waiters++;
    let leave = () => undefined as void;
    const abandoned = new Promise<never>((_resolve, reject) => {
      leave = () => {
        current.waiters--;
        if (current.waiters === 0) current.controller.abort();
        reject(new UserError('preview cancelled'));
      };
    });
    abandoned.catch(() => undefined);
    if (signal?.aborted) leave();
    else signal?.addEventListener('abort', leave, { once: true });
    try {
      return { key, path: await Promise.race([current.promise, abandoned]) };
    } finally {
      if (signal?.aborted !== true) current.waiters--;
      signal?.removeEventListener('abort', leave);
    }
  }

  /** The colorized middle frame of a shot (from its preview), as a JPEG thumbnail. */
  async colorThumb(shot: number, settings: ShotSettings, signal?: AbortSignal): Promise<string> {
    const { key, path } = await this.preview(shot, settings, signal);
    const thumb = this.thumbPath(key);
    if (await exists(thumb)) return thumb;
    const s = this.options.shots[shot];
    const middle = Math.floor((s.endFrame - s.startFrame - 1) / 2);
    const crop = this.sideBySide ? 'crop=iw/2:ih:iw/2:0,' : '';
    await writeThumb(['-i', path, '-vf', `select=eq(n\\,${middle}),${crop}scale=${THUMB_WIDTH}:-2`, '-frames:v', '1'], thumb, signal);
    return thumb;
  }

  /** The film's own (gray) middle frame of a shot. */
  async grayThumb(shot: number, signal?: AbortSignal): Promise<string> {
    const film = await stat(this.options.info.path);
    const key = createHash('sha256')
      .update(JSON.stringify(['gray', PREVIEW_VERSION, resolve(this.options.info.path), film.size, film.mtimeMs, shot]))
      .digest('hex')
      .slice(0, 24);
    const thumb = this.thumbPath(key);
    if (await exists(thumb)) return thumb;
    const s = this.options.shots[shot];
    const middle = Math.floor((s.startFrame + s.endFrame - 1) / 2);
    const seek = middle > 0 ? ((middle - 0.5) / this.options.info.fps).toFixed(6) : '0';
    await writeThumb(['-ss', seek, '-i', this.options.info.path, '-map', '0:v:0', '-vf', `scale=${THUMB_WIDTH}:-2,format=gray`, '-frames:v', '1'], thumb, signal);
    return thumb;
  }

  /** Cancels everything queued or running. */
  close(): void {
    for (const job of this.jobs.values()) job.controller.abort();
    this.queue.clear();
  }

  private async render(shot: number, settings: ShotSettings, path: string, signal: AbortSignal): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    await colorizeVideo({
      input: this.options.info.path,
      output: path,
      overwrite: true,
      shots: String(shot),
      shotSettings: { [shot]: settings },
      sideBySide: this.sideBySide,
      codec: 'h264',
      crf: 20,
      preset: 'veryfast',
      resolution: this.options.resolution,
      colorizer: this.options.colorizer,
      signal,
    });
  }
}

/** Keeps the preview cache under `maxBytes` by removing the least recently written files. */
export async function prunePreviewCache(dir: string, maxBytes = 2 * 1024 ** 3): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = (
    await Promise.all(
      names.filter((n) => /^[0-9a-f]{24}\.(mp4|jpg)$/.test(n)).map(async (name) => ({ path: join(dir, name), info: await stat(join(dir, name)).catch(() => undefined) })),
    )
  ).filter((f) => f.info?.isFile());
  files.sort((a, b) => b.info!.mtimeMs - a.info!.mtimeMs);
  let total = 0;
  for (const file of files) {
    total += file.info!.size;
    if (total > maxBytes) await unlink(file.path).catch(() => undefined);
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

function writeThumb(args: string[], output: string, signal?: AbortSignal): Promise<void> {
  const temporary = `${output}.${process.pid}.tmp.jpg`;
  return new Promise<void>((done, fail) => {
    execFile(ffmpegPath(), ['-v', 'error', '-y', ...args, '-q:v', '3', temporary], { signal }, async (error) => {
      if (error) {
        await unlink(temporary).catch(() => undefined);
        fail(new UserError(`could not write thumbnail: ${error.message.split('\n')[0]}`));
        return;
      }
      try {
        await rename(temporary, output);
        done();
      } catch (renameError) {
        fail(renameError);
      }
    });
  });
}
