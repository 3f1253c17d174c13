import sharp from 'sharp';
import { UserError } from '../decode/errors.js';
import { plural } from '../plural.js';
import { srgbToLab } from '../color/lab.js';
import type { AbStats } from '../color/palette.js';
import { abStats } from '../color/palette.js';
import { referenceLightnessView } from '../infer/reference.js';
import type { Shot } from '../shots/index.js';
import type { FrameHint, ShotSettingsMap } from '../project/project-file.js';

/** Default for how far a reference moves its shot's colors to the reference's palette. */
export const DEFAULT_REFERENCE_STRENGTH = 1;

/** What one shot of this render gets, after merging the film's options and the per-shot settings. */
export interface ShotPlan {
  reference?: string;
  referenceStrength: number;
  intensity: number;
  temporalStrength: number;
  hints: FrameHint[];
}

export interface ShotPlanInput {
  /** Film-wide settings. */
  reference?: string;
  referenceMap?: Record<string, string>;
  referenceStrength?: number;
  temporalStrength: number;
  shotSettings?: ShotSettingsMap;
}

/**
 * Per-shot plan for the shots of this render. `shots` are the render's shots; `filmShotNumber`
 * maps one of them to its number in the whole film (the numbers settings and maps are keyed by).
 */
export function planShots(input: ShotPlanInput, shots: Shot[], filmShotCount: number, filmShotNumber: (shot: Shot) => number): Map<number, ShotPlan> {
  checkShotKeys(input, filmShotCount);
  const plans = new Map<number, ShotPlan>();
  for (const shot of shots) {
    const number = String(filmShotNumber(shot));
    const own = input.shotSettings?.[number] ?? {};
    plans.set(shot.index, {
      reference: own.reference ?? input.referenceMap?.[number] ?? input.reference,
      referenceStrength: own.referenceStrength ?? input.referenceStrength ?? DEFAULT_REFERENCE_STRENGTH,
      intensity: own.intensity ?? 1,
      temporalStrength: own.temporalStrength ?? input.temporalStrength,
      hints: own.hints ?? [],
    });
  }
  return plans;
}

/** Settings and reference maps name shots by their number in the film: each must be one of its `filmShotCount` shots. */
export function checkShotKeys(input: Pick<ShotPlanInput, 'referenceMap' | 'shotSettings'>, filmShotCount: number): void {
  const checkKey = (key: string, what: string) => {
    const n = Number(key);
    if (!Number.isInteger(n) || n < 0 || n >= filmShotCount) {
      throw new UserError(`${what} names shot ${key}, but the film has ${plural(filmShotCount, 'shot')} (${filmShotCount === 1 ? '0' : `0-${filmShotCount - 1}`})`, 2);
    }
  };
  for (const key of Object.keys(input.referenceMap ?? {})) checkKey(key, 'reference map');
  for (const key of Object.keys(input.shotSettings ?? {})) checkKey(key, 'settings file');
}

/** Number in the whole film of a shot found in a piece of it (the film shot its first frame belongs to). */
export function filmShotNumbers(filmShots: Shot[]): (shot: Shot) => number {
  return (shot) => {
    const found = filmShots.find((s) => s.startFrame <= shot.startFrame && shot.startFrame < s.endFrame);
    return found ? found.index : shot.index;
  };
}

export interface LoadedReference {
  /** L* view for the global network. */
  view: Float32Array;
  /** a*b* statistics of the image: the palette the shot is moved towards. */
  palette: AbStats;
}

/** Loads each distinct reference image once. */
export async function loadReferenceImages(plans: Map<number, ShotPlan>, globalSize: number): Promise<Map<string, LoadedReference>> {
  const loaded = new Map<string, LoadedReference>();
  for (const plan of plans.values()) {
    if (!plan.reference || loaded.has(plan.reference)) continue;
    const view = await referenceLightnessView(plan.reference, globalSize);
    loaded.set(plan.reference, { view, palette: await referencePalette(plan.reference) });
  }
  return loaded;
}

/** Mean and covariance of a color image's a*b*, and its means per lightness band (read at up to 256 px on its long side). */
export async function referencePalette(path: string): Promise<AbStats> {
  let data: Buffer;
  let channels: number;
  try {
    const result = await sharp(path).removeAlpha().toColourspace('srgb').resize(256, 256, { fit: 'inside', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
    data = result.data;
    channels = result.info.channels;
  } catch (error) {
    throw new UserError(`reference image ${path} could not be read: ${(error as Error).message.split('\n')[0]}`);
  }
  const n = Math.floor(data.length / channels);
  const ab = new Float32Array(2 * n);
  const lightness = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = i * channels;
    const v = data[p] / 255;
    const [l, a, b] = channels >= 3 ? srgbToLab(v, data[p + 1] / 255, data[p + 2] / 255) : srgbToLab(v, v, v);
    lightness[i] = l;
    ab[i] = a;
    ab[n + i] = b;
  }
  return abStats([ab], [lightness]);
}
