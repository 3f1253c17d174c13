/** Worker-thread entry: owns one TemporalSmoother and answers requests in order. Started by TemporalWorker. */
import { parentPort } from 'node:worker_threads';
import type { WorkerRequest, WorkerResponse } from './protocol.js';
import { TemporalSmoother } from './smoother.js';

let smoother: TemporalSmoother | undefined;

function handle(request: WorkerRequest): { response: WorkerResponse; transfer: ArrayBuffer[] } {
  switch (request.kind) {
    case 'init':
      smoother = new TemporalSmoother(request.width, request.height, request.options);
      return { response: { id: request.id, ok: true }, transfer: [] };
    case 'reset':
      requireSmoother().reset(request.strength);
      return { response: { id: request.id, ok: true }, transfer: [] };
    case 'process': {
      const ab = requireSmoother().process(request.luma, request.ab);
      return { response: { id: request.id, ok: true, ab }, transfer: [ab.buffer as ArrayBuffer] };
    }
    case 'propagate': {
      const ab = requireSmoother().propagate(request.luma);
      return { response: { id: request.id, ok: true, ab }, transfer: [ab.buffer as ArrayBuffer] };
    }
  }
}

function requireSmoother(): TemporalSmoother {
  if (!smoother) throw new Error('temporal worker used before init');
  return smoother;
}

const port = parentPort;
if (port) {
  port.on('message', (request: WorkerRequest) => {
    try {
      const { response, transfer } = handle(request);
      port.postMessage(response, transfer);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      port.postMessage({ id: request.id, ok: false, error: message } satisfies WorkerResponse);
    }
  });
}
