import type { RenderSettings } from '../batch/film.js';
import type { FarmSettings } from './job-data.js';

/** A film's farm settings as the options every render (batch or worker) passes to colorizeVideo. */
export function farmSettingsToRender(s: FarmSettings): RenderSettings {
  return {
    codec: s.codec,
    crf: s.crf,
    preset: s.preset,
    resolution: s.resolution ?? undefined,
    batchSize: s.batchSize,
    temporalStrength: s.temporalStrength,
    sideBySide: s.sideBySide,
    samplesPerShot: s.samplesPerShot ?? undefined,
  };
}
