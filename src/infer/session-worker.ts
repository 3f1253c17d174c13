/** Worker-thread entry: owns the onnxruntime sessions and runs them off the pipeline's main thread. Started by SessionHost. */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { UserError } from '../decode/errors.js';
import { openSessions } from './device.js';
import type { PlainTensor, SessionRequest, SessionResponse } from './session-protocol.js';
import { ownBuffer } from '../workers/channel.js';

let sessions: ort.InferenceSession[] = [];

async function handle(request: SessionRequest): Promise<{ response: SessionResponse; transfer: ArrayBuffer[] }> {
  if (request.kind === 'open') {
    const opened = await openSessions(request.files, request.device, request.settings);
    sessions = opened.sessions;
    const { device, selectSeconds, loadSeconds } = opened;
    const names = { inputNames: sessions.map((s) => [...s.inputNames]), outputNames: sessions.map((s) => [...s.outputNames]) };
    return { response: { id: request.id, ok: true, opened: { device, selectSeconds, loadSeconds, ...names } }, transfer: [] };
  }
  if (request.kind === 'release') {
    const open = sessions;
    sessions = [];
    await Promise.all(open.map((s) => s.release()));
    return { response: { id: request.id, ok: true }, transfer: [] };
  }
  const session = sessions[request.session];
  if (!session) throw new Error(`no session ${request.session}`);
  const feeds = Object.fromEntries(Object.entries(request.feeds).map(([name, t]) => [name, new ort.Tensor('float32', t.data, t.dims)]));
  const result = await session.run(feeds);
  const outputs: Record<string, PlainTensor | { type: string; dims: number[] }> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, tensor] of Object.entries(result)) {
    if (tensor.type !== 'float32') {
      outputs[name] = { type: tensor.type, dims: [...tensor.dims] };
      continue;
    }
    const data = ownBuffer(tensor.data as Float32Array);
    outputs[name] = { data, dims: [...tensor.dims] };
    transfer.push(data.buffer as ArrayBuffer);
  }
  return { response: { id: request.id, ok: true, outputs }, transfer };
}

// One request at a time, in the order sent: a release that arrives while the sessions are still
// being opened must wait for them (terminating the thread under a half-made session aborts the process).
let previous: Promise<unknown> = Promise.resolve();
const port = parentPort;
if (port) {
  port.on('message', (request: SessionRequest) => {
    previous = previous.then(() => handle(request)).then(
      ({ response, transfer }) => port.postMessage(response, transfer),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        port.postMessage({ id: request.id, ok: false, error: message, userError: error instanceof UserError } satisfies SessionResponse);
      },
    );
  });
}
