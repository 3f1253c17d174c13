/** Worker-thread entry: owns one ChromaComposer and turns (L*, a*b*) into Cb/Cr planes. Started by ComposePool. */
import { parentPort } from 'node:worker_threads';
import { ChromaComposer, type ChromaGeometry } from './compose.js';
import { DeepChromaComposer } from './compose-deep.js';

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

let composer: ChromaComposer | undefined;
let deep: DeepChromaComposer | undefined;

const port = parentPort;
if (port) {
  port.on('message', (request: ComposeRequest) => {
    try {
      if (request.kind === 'init') {
        if ((request.bits ?? 8) > 8) deep = new DeepChromaComposer(request.geometry, request.bits!);
        else composer = new ChromaComposer(request.geometry);
        port.postMessage({ id: request.id, ok: true } satisfies ComposeResponse);
        return;
      }
      const started = performance.now();
      const samples = request.lightness.length;
      let cb: Uint8Array | Uint16Array;
      let cr: Uint8Array | Uint16Array;
      if (deep) {
        cb = planeOf(Uint16Array, samples, request.spare?.cb);
        cr = planeOf(Uint16Array, samples, request.spare?.cr);
        deep.compose(request.lightness, request.gridLightness, request.ab, cb, cr);
      } else {
        if (!composer) throw new Error('compose worker used before init');
        cb = planeOf(Uint8Array, samples, request.spare?.cb);
        cr = planeOf(Uint8Array, samples, request.spare?.cr);
        composer.compose(request.lightness, request.gridLightness, request.ab, cb, cr);
      }
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
