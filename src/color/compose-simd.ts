import {
  type ChromaGeometry,
  type ChromaSamples,
  chromaCodes,
  DEFAULT_EDGE_SIGMA,
  RANGE_LUT_SCALE,
  RANGE_LUT_SIZE,
  rangeWeights,
  runEnds,
  TAPS,
  taps,
} from './compose.js';
import { linearToSrgbLut, LINEAR_TO_SRGB_STEPS } from './luts.js';
import { wasmBase64 } from './simd/compose-wasm.js';

/** Fields of the kernel's `Plan` struct (src/color/simd/compose.c), in order: 4 bytes each. */
const PLAN_FIELDS = [
  ['chromaWidth', 'i32'], ['chromaHeight', 'i32'], ['gridWidth', 'i32'], ['gridHeight', 'i32'],
  ['columnIndex', 'ptr'], ['columnWeight0', 'ptr'], ['columnWeight1', 'ptr'], ['columnWeight2', 'ptr'],
  ['runEnds', 'ptr'], ['runs', 'i32'],
  ['rowIndex', 'ptr'], ['rowWeight', 'ptr'],
  ['rangeLut', 'ptr'], ['rangeLutSize', 'i32'], ['rangeScale', 'f32'],
  ['srgbLut', 'ptr'], ['srgbSteps', 'i32'],
  ['kr', 'f32'], ['kg', 'f32'], ['kb', 'f32'], ['cbScale', 'f32'], ['crScale', 'f32'], ['mid', 'f32'], ['lo', 'f32'], ['hi', 'f32'],
  ['aRow', 'ptr'], ['bRow', 'ptr'],
] as const;

type PlanField = (typeof PLAN_FIELDS)[number][0];

/** Lanes a kernel may read or write past a row's or plane's end. */
const PAD = 4;

interface ComposeExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  compose(plan: number, lightness: number, gridLightness: number, ab: number, cb: number, cr: number, wide: number): void;
}

/** The kernel compiled once per thread; null where this runtime cannot compile it. */
let compiled: WebAssembly.Module | null | undefined;

function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(new Uint8Array(Buffer.from(wasmBase64, 'base64')));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Whether this runtime runs the WebAssembly SIMD kernel (Node 16.4+ on any CPU with SSE4.1 or NEON). */
export function simdComposeAvailable(): boolean {
  return kernelModule() !== null;
}

/**
 * The ChromaComposer (compose.ts) as a WebAssembly SIMD kernel: the same upsampling and colour
 * conversion with the same tables, four samples at a time in float32. Codes differ from the
 * float64 reference only where a value sits on a rounding boundary: by one code at 8 bits, under
 * half an 8-bit step above (bounded in test/compose-simd.test.ts). Writes 8-bit codes, or 16-bit
 * words for `bitDepth` above 8.
 */
export class SimdChromaComposer {
  private readonly kernel: ComposeExports;
  private readonly plan: number;
  private readonly wide: boolean;
  private readonly samples: number;
  private readonly gridSamples: number;
  private readonly at: { lightness: number; gridLightness: number; ab: number; cb: number; cr: number };

  constructor(geometry: ChromaGeometry) {
    const g: Required<ChromaGeometry> = { edgeSigma: DEFAULT_EDGE_SIGMA, bitDepth: 8, ...geometry };
    const module = kernelModule();
    if (!module) throw new Error('this runtime cannot run the WebAssembly SIMD compose kernel');
    this.kernel = new WebAssembly.Instance(module, {}).exports as unknown as ComposeExports;
    this.wide = g.bitDepth > 8;
    this.samples = g.chromaWidth * g.chromaHeight;
    this.gridSamples = g.gridWidth * g.gridHeight;

    const columns = taps(g.gridWidth, g.chromaWidth);
    const rows = taps(g.gridHeight, g.chromaHeight);
    const ends = runEnds(columns, g.chromaWidth);
    const planar = (j: number) => {
      const weights = new Float32Array(g.chromaWidth + PAD);
      for (let x = 0; x < g.chromaWidth; x++) weights[x] = columns.weight[x * TAPS + j];
      return weights;
    };
    const columnIndex = new Int32Array(columns.index.length + PAD * TAPS);
    columnIndex.set(columns.index);

    let top = align((this.kernel.__heap_base.value as number) + PLAN_FIELDS.length * 4);
    const arrays: Array<[number, Int32Array | Float32Array]> = [];
    const place = (array: Int32Array | Float32Array): number => {
      const offset = top;
      arrays.push([offset, array]);
      top = align(top + array.byteLength);
      return offset;
    };
    const reserve = (bytes: number): number => {
      const offset = top;
      top = align(top + bytes);
      return offset;
    };
    const codes = chromaCodes(g);
    const plan: Record<PlanField, number> = {
      chromaWidth: g.chromaWidth,
      chromaHeight: g.chromaHeight,
      gridWidth: g.gridWidth,
      gridHeight: g.gridHeight,
      columnIndex: place(columnIndex),
      columnWeight0: place(planar(0)),
      columnWeight1: place(planar(1)),
      columnWeight2: place(planar(2)),
      runEnds: place(ends),
      runs: ends.length,
      rowIndex: place(rows.index),
      rowWeight: place(rows.weight),
      rangeLut: place(rangeWeights(g.edgeSigma)),
      rangeLutSize: RANGE_LUT_SIZE,
      rangeScale: RANGE_LUT_SCALE,
      srgbLut: place(linearToSrgbLut()),
      srgbSteps: LINEAR_TO_SRGB_STEPS,
      ...codes,
      aRow: reserve((g.chromaWidth + PAD) * 4),
      bRow: reserve((g.chromaWidth + PAD) * 4),
    };
    const sampleBytes = this.wide ? 2 : 1;
    this.at = {
      lightness: reserve((this.samples + PAD) * 4),
      gridLightness: reserve(this.gridSamples * 4),
      ab: reserve(2 * this.gridSamples * 4),
      cb: reserve((this.samples + PAD) * sampleBytes),
      cr: reserve((this.samples + PAD) * sampleBytes),
    };
    const memory = this.kernel.memory;
    const pages = Math.ceil((top - memory.buffer.byteLength) / 65536);
    if (pages > 0) memory.grow(pages);

    this.plan = this.kernel.__heap_base.value as number;
    const view = new DataView(memory.buffer);
    PLAN_FIELDS.forEach(([name, type], i) => {
      const offset = this.plan + 4 * i;
      if (type === 'f32') view.setFloat32(offset, plan[name], true);
      else view.setInt32(offset, plan[name], true);
    });
    for (const [offset, array] of arrays) new Uint8Array(memory.buffer, offset, array.byteLength).set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  }

  /** As ChromaComposer.compose: L* at chroma size, the grid's L*, planar a*b* at grid size, into Cb/Cr. */
  compose(lightness: Float32Array, gridLightness: Float32Array, ab: Float32Array, cb: ChromaSamples, cr: ChromaSamples): void {
    if (lightness.length !== this.samples || gridLightness.length !== this.gridSamples || ab.length !== 2 * this.gridSamples) {
      throw new Error(`compose: planes of ${lightness.length}/${gridLightness.length}/${ab.length} samples for a geometry of ${this.samples}/${this.gridSamples}`);
    }
    const buffer = this.kernel.memory.buffer;
    new Float32Array(buffer, this.at.lightness, this.samples).set(lightness);
    new Float32Array(buffer, this.at.gridLightness, this.gridSamples).set(gridLightness);
    new Float32Array(buffer, this.at.ab, 2 * this.gridSamples).set(ab);
    this.kernel.compose(this.plan, this.at.lightness, this.at.gridLightness, this.at.ab, this.at.cb, this.at.cr, this.wide ? 1 : 0);
    const Plane = this.wide ? Uint16Array : Uint8Array;
    cb.set(new Plane(buffer, this.at.cb, this.samples));
    cr.set(new Plane(buffer, this.at.cr, this.samples));
  }
}

function align(offset: number): number {
  return (offset + 15) & ~15;
}
