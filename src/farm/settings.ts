import { relative, resolve, sep } from 'node:path';
import type { RenderSettings } from '../batch/film.js';
import { UserError } from '../decode/errors.js';
import { type ShotSettingsMap, shotSettingsForFilm } from '../project/project-file.js';
import { type FarmSettings, isStrictlyInside } from './job-data.js';

/** A film's farm settings as the options every render (batch or worker) passes to colorizeVideo; references resolve against the film's input root. */
export function farmSettingsToRender(s: FarmSettings, inputRoot: string): RenderSettings {
  return {
    codec: s.codec,
    crf: s.crf,
    preset: s.preset,
    resolution: s.resolution ?? undefined,
    batchSize: s.batchSize ?? undefined,
    temporalStrength: s.temporalStrength,
    sideBySide: s.sideBySide,
    samplesPerShot: s.samplesPerShot ?? undefined,
    reference: s.reference === null ? undefined : resolve(inputRoot, s.reference),
    referenceStrength: s.referenceStrength ?? undefined,
    shotSettings: s.shotSettings === null ? undefined : mapReferences(s.shotSettings, (path) => resolve(inputRoot, path)),
  };
}

export interface FilmChoices {
  /** `--settings`: one project file for every film; default: the `<film>.colorize.json` beside each film, when there is one. */
  settingsFile?: string;
  /** `--reference`: an image for every shot (absolute path). */
  reference?: string;
}

/**
 * The settings one film carries to the workers: the submit's, with its project file's per-shot
 * settings and the reference images as paths inside the folder the film was found under (the
 * only folder a worker reads from besides the output folder).
 */
export async function farmSettingsForFilm(settings: FarmSettings, choices: FilmChoices, film: string, inputRoot: string): Promise<FarmSettings> {
  const toRoot = (path: string) => {
    if (!isStrictlyInside(inputRoot, path)) {
      throw new UserError(`reference image ${path} is outside ${inputRoot}, the folder the film was found under: farm workers read only inside it`);
    }
    return relative(inputRoot, path).split(sep).join('/');
  };
  const { shotSettings } = await shotSettingsForFilm({ settingsFile: choices.settingsFile, shotSettings: undefined as ShotSettingsMap | undefined }, film);
  return {
    ...settings,
    reference: choices.reference ? toRoot(choices.reference) : settings.reference,
    shotSettings: shotSettings && Object.keys(shotSettings).length > 0 ? mapReferences(shotSettings, toRoot) : settings.shotSettings,
  };
}

function mapReferences(shots: ShotSettingsMap, map: (path: string) => string): ShotSettingsMap {
  return Object.fromEntries(Object.entries(shots).map(([key, value]) => [key, value.reference === undefined ? value : { ...value, reference: map(value.reference) }]));
}
