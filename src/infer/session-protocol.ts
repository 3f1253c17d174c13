import type { DeviceRequest, Device, ModelFiles, SessionSettings } from './device.js';

/** A float32 tensor as it crosses the thread boundary (its buffer is transferred, not copied). */
export interface PlainTensor {
  data: Float32Array;
  dims: number[];
}

export type SessionRequest =
  | { id: number; kind: 'open'; files: ModelFiles; device: DeviceRequest; settings: SessionSettings }
  | { id: number; kind: 'run'; session: number; feeds: Record<string, PlainTensor> }
  | { id: number; kind: 'release' };

export type SessionResponse =
  | {
      id: number;
      ok: true;
      opened?: { device: Device; selectSeconds: number; loadSeconds: number; inputNames: string[][]; outputNames: string[][] };
      outputs?: Record<string, PlainTensor | { type: string; dims: number[] }>;
    }
  | { id: number; ok: false; error: string; userError: boolean };
