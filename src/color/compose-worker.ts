/** Worker-thread entry: owns one ChromaComposer and turns (L*, a*b*) into Cb/Cr planes. Started by ComposePool. */
import { parentPort } from 'node:worker_threads';
import { ChromaComposer, type ChromaGeometry } from './compose.js';
import { DeepChromaComposer } from './compose-deep.js';

export type ComposeRequest =
  | { kind: 'init'; id: number; geometry: ChromaGeometry; bits?: number }
  | { kind: 'compose'; id: number; lightness: Float32Array; gridLightness: Float32Array; ab: Float32Array };

export type ComposeResponse = { id: number; ok: true; cb?: Uint8Array | Uint16Array; cr?: Uint8Array | Uint16Array; seconds?: number } | { id: number; ok: false; error: string };

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
      if (deep) {
        const started = performance.now();
        const cb = new Uint16Array(request.lightness.length);
        const cr = new Uint16Array(request.lightness.length);
        deep.compose(request.lightness, request.gridLightness, request.ab, cb, cr);
        const seconds = (performance.now() - started) / 1000;
        port.postMessage({ id: request.id, ok: true, cb, cr, seconds } satisfies ComposeResponse, [cb.buffer, cr.buffer]);
        return;
      }
      if (!composer) throw new Error('compose worker used before init');
      const started = performance.now();
      const cb = new Uint8Array(request.lightness.length);
      const cr = new Uint8Array(request.lightness.length);
      composer.compose(request.lightness, request.gridLightness, request.ab, cb, cr);
      const seconds = (performance.now() - started) / 1000;
      port.postMessage({ id: request.id, ok: true, cb, cr, seconds } satisfies ComposeResponse, [cb.buffer, cr.buffer]);
    } catch (error) {
      port.postMessage({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies ComposeResponse);
    }
  });
}
