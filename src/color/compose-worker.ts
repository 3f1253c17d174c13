/** Worker-thread entry: owns one composer and turns (L*, a*b*) into Cb/Cr planes. Started by ComposePool. */
import { parentPort } from 'node:worker_threads';
import type { ChromaGeometry } from './compose.js';
import { type Composer, createChromaComposer } from './composer.js';

export type ComposeRequest =
  | { kind: 'init'; id: number; geometry: ChromaGeometry; bits?: number }
  | {
      kind: 'compose';
      id: number;
      lightness: Float32Array;
      gridLightness: Float32Array;
      ab: Float32Array;
      /** Buffers for the Cb/Cr planes (a finished frame's, handed back); new ones are made when absent or of another size. */
      spare?: { cb: ArrayBuffer; cr: ArrayBuffer };
    };

/** Cb/Cr, and the L* plane's buffer handed back for reuse. */
export type ComposeResponse =
  | { id: number; ok: true; cb?: Uint8Array | Uint16Array; cr?: Uint8Array | Uint16Array; lightness?: ArrayBuffer; seconds?: number }
  | { id: number; ok: false; error: string };

let composer: Composer | undefined;
/** 16-bit words per sample above 8 bits. */
let wide = false;

const port = parentPort;
if (port) {
  port.on('message', (request: ComposeRequest) => {
    try {
      if (request.kind === 'init') {
        wide = (request.bits ?? 8) > 8;
        composer = createChromaComposer({ ...request.geometry, bitDepth: request.bits ?? 8 });
        port.postMessage({ id: request.id, ok: true } satisfies ComposeResponse);
        return;
      }
      const started = performance.now();
      const samples = request.lightness.length;
      if (!composer) throw new Error('compose worker used before init');
      const cb = wide ? planeOf(Uint16Array, samples, request.spare?.cb) : planeOf(Uint8Array, samples, request.spare?.cb);
      const cr = wide ? planeOf(Uint16Array, samples, request.spare?.cr) : planeOf(Uint8Array, samples, request.spare?.cr);
      composer.compose(request.lightness, request.gridLightness, request.ab, cb, cr);
      const seconds = (performance.now() - started) / 1000;
      const lightness = request.lightness.buffer as ArrayBuffer;
      port.postMessage({ id: request.id, ok: true, cb, cr, lightness, seconds } satisfies ComposeResponse, [cb.buffer as ArrayBuffer, cr.buffer as ArrayBuffer, lightness]);
    } catch (error) {
      port.postMessage({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies ComposeResponse);
    }
  });
}

/** A plane of `samples` over `spare` when it has exactly the plane's size (every sample is written), else a new one. */
function planeOf<T extends Uint8Array | Uint16Array>(Plane: { new (buffer: ArrayBuffer): T; new (length: number): T; BYTES_PER_ELEMENT: number }, samples: number, spare?: ArrayBuffer): T {
  return spare && spare.byteLength === samples * Plane.BYTES_PER_ELEMENT ? new Plane(spare) : new Plane(samples);
}
