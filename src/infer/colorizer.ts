import { basename, join, relative } from 'node:path';
import { access } from 'node:fs/promises';
import { UserError } from '../decode/errors.js';
import { type ModelConfig, loadModelConfig } from './model-config.js';
import { verifyModelFiles } from './model-integrity.js';
import { type Device, type DeviceRequest, type SessionSettings, sessionFiles } from './device.js';
import { SessionHost } from './session-host.js';
import type { PlainTensor } from './session-protocol.js';

const GLOBAL = 0;
const LOCAL = 1;

/**
 * The two networks of an Iizuka-style colorizer: a global network run once per shot on a square
 * view, and a local network run on batches of frames with the shot's global vector fused in.
 * Inputs are L* planes (0..100); outputs are a*b* in Lab units.
 */
export class Colorizer {
  /** How many times the global network has run (once per shot is the contract). */
  globalRuns = 0;
  localRuns = 0;
  /** Startup costs, apart from per-frame work: choosing the device, and loading the networks on it. */
  startup = { selectSeconds: 0, loadSeconds: 0 };

  /** The local network's graph file the sessions run (model.json local.file, or local.cpu.file on the CPU). */
  localFile = '';

  /** The model and the graph that runs, as render summaries name it: `name (folder/graph file)`. */
  get description(): string {
    return `${this.config.name} (${basename(this.config.dir)}/${this.localFile})`;
  }

  private constructor(
    readonly config: ModelConfig,
    readonly device: Device,
    private readonly sessions: SessionHost,
  ) {}

  static async load(modelPath: string, device: DeviceRequest = 'auto', settings: SessionSettings = {}): Promise<Colorizer> {
    const config = await loadModelConfig(modelPath);
    const files = [join(config.dir, config.global.file), join(config.dir, config.local.file)];
    const cpuFiles = config.local.cpuFile ? [files[0], join(config.dir, config.local.cpuFile)] : undefined;
    for (const file of [...files, ...(cpuFiles ?? [])]) {
      try {
        await access(file);
      } catch {
        throw new UserError(`model file missing: ${file}`);
      }
    }
    await verifyModelFiles(config);
    const model = { files, cpuFiles };
    const { host, device: chosen, selectSeconds, loadSeconds } = await SessionHost.open(model, device, settings);
    const colorizer = new Colorizer(config, chosen, host);
    colorizer.localFile = relative(config.dir, sessionFiles(chosen, model, settings)[1]);
    colorizer.startup = { selectSeconds, loadSeconds };
    try {
      colorizer.checkIo();
    } catch (error) {
      await host.release();
      throw error;
    }
    return colorizer;
  }

  /** Global feature vector pooled (averaged) over square L* views of `global.size`². */
  async globalFeatures(views: Float32Array[]): Promise<Float32Array> {
    const { size, features, input, output } = this.config.global;
    if (views.length === 0) throw new Error('globalFeatures needs at least one view');
    const batch = new Float32Array(views.length * size * size);
    views.forEach((view, i) => this.normalizeInto(view, batch, i * size * size));
    const result = await this.sessions.run(GLOBAL, { [input]: { data: batch, dims: [views.length, 1, size, size] } });
    this.globalRuns++;
    const data = tensorData(result[output], `global output "${output}"`);
    if (data.length !== views.length * features) throw new UserError(`model's global network gave ${data.length} values, expected ${views.length}x${features}`);
    const pooled = new Float32Array(features);
    for (let v = 0; v < views.length; v++) for (let f = 0; f < features; f++) pooled[f] += data[v * features + f] / views.length;
    return pooled;
  }

  /** How many `colorize` calls can run at once (one per inference worker); more wait their turn. */
  get parallelRuns(): number {
    return this.sessions.parallelRuns;
  }

  /** Whether the local network takes colour hints (model.json `local.inputs.hints`). */
  get acceptsHints(): boolean {
    return this.config.local.hintsInput !== undefined;
  }

  /**
   * a*b* for a batch of frames of one working size. `globals[i]` is the feature vector of frame i's shot;
   * `hints[i]`, if given, frame i's hint planes on the output grid (see rasterizeHints).
   * Returns planar a*b* per frame at (width/stride)x(height/stride).
   */
  async colorize(
    lightness: Float32Array[],
    width: number,
    height: number,
    globals: Float32Array[],
    hints?: (Float32Array | undefined)[],
  ): Promise<Float32Array[]> {
    const { lightnessInput, globalInput, hintsInput, output, outputStride } = this.config.local;
    const features = this.config.global.features;
    const n = lightness.length;
    const pixels = width * height;
    const gw = width / outputStride;
    const gh = height / outputStride;
    const lBatch = new Float32Array(n * pixels);
    const gBatch = new Float32Array(n * features);
    for (let i = 0; i < n; i++) {
      this.normalizeInto(lightness[i], lBatch, i * pixels);
      gBatch.set(globals[i], i * features);
    }
    const feeds: Record<string, PlainTensor> = {
      [lightnessInput]: { data: lBatch, dims: [n, 1, height, width] },
      [globalInput]: { data: gBatch, dims: [n, features] },
    };
    const given = hints?.some((h) => h !== undefined) ?? false;
    if (given && !hintsInput) throw new UserError(`model ${this.config.name} takes no colour hints`);
    if (hintsInput) {
      const hBatch = new Float32Array(n * 3 * gw * gh);
      hints?.forEach((h, i) => {
        if (!h) return;
        if (h.length !== 3 * gw * gh) throw new RangeError(`hint planes have ${h.length} values, expected 3x${gw}x${gh}`);
        hBatch.set(h, i * 3 * gw * gh);
      });
      feeds[hintsInput] = { data: hBatch, dims: [n, 3, gh, gw] };
    }
    const result = await this.sessions.run(LOCAL, feeds);
    this.localRuns++;
    const tensor = result[output];
    const data = tensorData(tensor, `local output "${output}"`);
    const perFrame = 2 * gw * gh;
    if (data.length !== n * perFrame) {
      throw new UserError(`model's colorizer gave output of shape [${tensor.dims.join(',')}], expected [${n},2,${gh},${gw}]`);
    }
    const scale = this.config.abScale;
    const frames: Float32Array[] = [];
    for (let i = 0; i < n; i++) {
      const ab = data.slice(i * perFrame, (i + 1) * perFrame);
      if (scale !== 1) for (let k = 0; k < ab.length; k++) ab[k] *= scale;
      frames.push(ab);
    }
    return frames;
  }

  async release(): Promise<void> {
    await this.sessions.release();
  }

  private normalizeInto(lightness: Float32Array, target: Float32Array, offset: number): void {
    const { center, scale } = this.config.normalization;
    const inv = 1 / scale;
    for (let i = 0; i < lightness.length; i++) target[offset + i] = (lightness[i] - center) * inv;
  }

  private checkIo(): void {
    const { global, local } = this.config;
    const { inputNames, outputNames } = this.sessions;
    const expect = (kind: string, names: readonly string[], wanted: string[]) => {
      for (const name of wanted) {
        if (!names.includes(name)) throw new UserError(`model's ${kind} network has no tensor "${name}" (it has ${names.join(', ')})`);
      }
    };
    expect('global', inputNames[GLOBAL], [global.input]);
    expect('global', outputNames[GLOBAL], [global.output]);
    expect('local', inputNames[LOCAL], [local.lightnessInput, local.globalInput, ...(local.hintsInput ? [local.hintsInput] : [])]);
    expect('local', outputNames[LOCAL], [local.output]);
  }
}

function tensorData(tensor: PlainTensor | { type: string; dims: number[] } | undefined, what: string): Float32Array {
  if (!tensor) throw new UserError(`model produced no ${what}`);
  if ('data' in tensor) return tensor.data;
  throw new UserError(`model's ${what} has type ${tensor.type}, expected float32`);
}
