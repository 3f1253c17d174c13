import type { Shot } from '../shots/index.js';
import type { Colorizer } from '../infer/colorizer.js';
import { lightnessOfCodes } from '../color/luts.js';
import { sampleFrames, shotKey } from './shot-globals.js';

/** Frames of one shot whose views are held in memory at most (50 KB each at 224²); longer shots are sampled by seeking later. */
export const DEFAULT_MAX_HELD_FRAMES = 1200;

/** Views kept from a shot that outgrew `maxHeldFrames`: enough to start the next shot, whose cut is confirmed a few frames late. */
const TAIL_FRAMES = 8;

export interface ScanSamplerOptions {
  samplesPerShot: number;
  /** The global features of a finished shot from its sample views (gray codes), in `sampleFrames` order. */
  onShot: (shot: { startFrame: number; endFrame: number }, samples: Uint8Array[]) => Promise<void>;
  maxHeldFrames?: number;
}

interface OpenShot {
  startFrame: number;
  /** Views of the shot's frames from `startFrame` on, in order; only the last few once `overflowed`. */
  views: { frame: number; view: Uint8Array }[];
  overflowed: boolean;
}

interface ClosedShot extends OpenShot {
  endFrame: number;
}

/**
 * Picks each shot's global-network samples from the views of a shot scan (`detectShots` with
 * `views`), so the render needs no second decode of the film for them. The samples of a shot
 * depend on its length, known only at its end, so the views of the shot being scanned are held;
 * a shot longer than `maxHeldFrames` is left out (its samples are read by seeking, as before).
 * The last finished shot is held until the next cut or the end, because the detector drops a
 * final cut that leaves too short a last shot, which then joins the shot before it.
 */
export class ScanSampler {
  private readonly maxHeld: number;
  private open: OpenShot | undefined;
  private held: ClosedShot | undefined;
  /** The detector's confirmed cuts seen so far. */
  private readonly cuts: number[] = [];
  private lastFrame = -1;

  constructor(private readonly options: ScanSamplerOptions) {
    this.maxHeld = options.maxHeldFrames ?? DEFAULT_MAX_HELD_FRAMES;
  }

  async add(frame: number, view: Uint8Array, confirmedCuts: readonly number[]): Promise<void> {
    this.open ??= { startFrame: frame, views: [], overflowed: false };
    while (confirmedCuts.length > this.cuts.length) await this.cutAt(confirmedCuts[this.cuts.length]);
    const open = this.open;
    open.views.push({ frame, view: view.slice() });
    // (the cut that ends a shot is confirmed a few frames late: those frames are held beyond the limit)
    if (open.views.length > this.maxHeld + TAIL_FRAMES || (open.overflowed && open.views.length > TAIL_FRAMES)) {
      open.overflowed = true;
      open.views.splice(0, open.views.length - TAIL_FRAMES);
    }
    this.lastFrame = frame;
  }

  /**
   * The scan's final shots: the shots still held are finished. The detector may confirm a last
   * cut only at the end, or drop its last cut (the shots either side of it join).
   */
  async finish(shots: Shot[]): Promise<void> {
    if (!this.open) return;
    const cuts = shots.slice(1).map((s) => s.startFrame);
    const known = this.cuts;
    const end = this.lastFrame + 1;
    if (cuts.length >= known.length && known.every((cut, k) => cuts[k] === cut)) {
      for (const cut of cuts.slice(known.length)) await this.cutAt(cut);
      if (this.held) await this.emit(this.held);
      await this.emit({ ...this.open, endFrame: end });
    } else if (this.held && cuts.length === known.length - 1 && cuts.every((cut, k) => known[k] === cut)) {
      const { held, open } = this;
      await this.emit({ startFrame: held.startFrame, endFrame: end, views: [...held.views, ...open.views], overflowed: held.overflowed || open.overflowed });
    }
    // Otherwise the unfinished shots are left to be sampled by seeking.
    this.open = this.held = undefined;
  }

  private async cutAt(cut: number): Promise<void> {
    this.cuts.push(cut);
    const open = this.open!;
    const before = open.views.filter((v) => v.frame < cut);
    const after = open.views.filter((v) => v.frame >= cut);
    const closed: ClosedShot = { startFrame: open.startFrame, endFrame: cut, views: before, overflowed: open.overflowed };
    // The frames after the cut that were already scanned must all be there for the new shot to be sampled here.
    const complete = after.length === this.lastFrame + 1 - cut;
    this.open = { startFrame: cut, views: after, overflowed: !complete };
    if (this.held) await this.emit(this.held);
    this.held = closed;
  }

  private async emit(shot: ClosedShot): Promise<void> {
    if (shot.overflowed || shot.views.length !== shot.endFrame - shot.startFrame) return;
    const samples = sampleFrames(shot, this.options.samplesPerShot);
    await this.options.onShot({ startFrame: shot.startFrame, endFrame: shot.endFrame }, samples.map((frame) => shot.views[frame - shot.startFrame].view));
  }
}

/** Shots whose features are being computed at once at most; the scan waits beyond it. */
const MAX_SHOTS_IN_FLIGHT = 8;

/**
 * A shot scan's consumer that computes each finished shot's global features from its samples
 * (the global network of the model `loading`, which may still be loading while the scan runs),
 * keyed by `shotKey` for `ShotGlobalsOptions.scanned`. `done()` waits for the last shot and
 * throws what computing any of them threw (e.g. the model's load error).
 */
export function scanGlobals(loading: Promise<Colorizer>, lightnessLut: Float32Array, samplesPerShot: number) {
  const features = new Map<string, Float32Array>();
  let chain: Promise<void> = Promise.resolve();
  let inFlight = 0;
  const sampler = new ScanSampler({
    samplesPerShot,
    onShot: async (shot, samples) => {
      const views = samples.map((codes) => lightnessOfCodes(codes, lightnessLut));
      inFlight++;
      chain = chain
        .then(async () => {
          features.set(shotKey(shot), await (await loading).globalFeatures(views));
        })
        .finally(() => inFlight--);
      chain.catch(() => undefined); // surfaced by done()
      if (inFlight > MAX_SHOTS_IN_FLIGHT) await chain.catch(() => undefined);
    },
  });
  // A model that fails to load stops the scan at its next frame rather than after the whole film.
  let failure: unknown;
  loading.catch((error: unknown) => {
    failure = error ?? new Error('the model did not load');
  });
  return {
    sampler,
    consume: (frame: number, view: Uint8Array, confirmedCuts: readonly number[]): Promise<void> => {
      if (failure !== undefined) throw failure;
      return sampler.add(frame, view, confirmedCuts);
    },
    done: async (): Promise<Map<string, Float32Array>> => {
      await chain;
      return features;
    },
  };
}
