import { existsSync } from 'node:fs';
import type { Colorizer } from '../infer/colorizer.js';
import type { Progress } from '../pipeline/colorize-video.js';
import { colorizeFilm } from '../batch/resumable-render.js';

export interface RenderState {
  state: 'idle' | 'running' | 'done' | 'failed';
  phase?: Progress['phase'];
  done: number;
  total: number;
  fps: number;
  etaSeconds: number;
  /** The finished file (when done). */
  output?: string;
  error?: string;
}

export interface FilmRenderOptions {
  film: string;
  output: string;
  /** The project file; used when it exists (a film nobody changed a setting of has none). */
  settingsFile: string;
  colorizer: Colorizer;
  resolution?: number;
}

/**
 * The one whole-film render a review server runs at a time, with its state for every page:
 * pages that open later see the render already running. Listeners get each state change.
 */
export class FilmRender {
  private current: RenderState = { state: 'idle', done: 0, total: 0, fps: 0, etaSeconds: 0 };
  private readonly listeners = new Set<(state: RenderState) => void>();
  private controller: AbortController | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: FilmRenderOptions) {}

  get state(): RenderState {
    return this.current;
  }

  subscribe(listener: (state: RenderState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the render unless one is running; returns the state either way. */
  start(): RenderState {
    if (this.current.state === 'running') return this.current;
    this.controller = new AbortController();
    this.update({ state: 'running', phase: 'shots', done: 0, total: 0, fps: 0, etaSeconds: 0 });
    // The same render as the CLI's: a long film goes in resumable chunks, so a server stopped halfway resumes it.
    this.running = colorizeFilm({
      input: this.options.film,
      output: this.options.output,
      overwrite: true,
      settingsFile: existsSync(this.options.settingsFile) ? this.options.settingsFile : undefined,
      resolution: this.options.resolution,
      colorizer: this.options.colorizer,
      signal: this.controller.signal,
      onProgress: (p) => this.update({ state: 'running', phase: p.phase, done: p.done, total: p.total, fps: p.fps, etaSeconds: p.etaSeconds }),
    }).then(
      (result) => this.update({ state: 'done', done: result.frames, total: result.frames, fps: result.fps, etaSeconds: 0, output: result.output }),
      (error: unknown) => this.update({ ...this.current, state: 'failed', error: (error as Error).message.split('\n')[0] }),
    );
    return this.current;
  }

  async close(): Promise<void> {
    this.controller?.abort();
    await this.running;
  }

  private update(state: RenderState): void {
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }
}
