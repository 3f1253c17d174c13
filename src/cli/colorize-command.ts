import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { UserError } from '../decode/errors.js';
import { DEVICE_CHOICES, type DeviceRequest } from '../infer/device.js';
import { VIDEO_CODECS, type VideoCodec } from '../encode/container.js';
import type { ColorizeOptions } from '../pipeline/colorize-video.js';
import { DEFAULT_TEMPORAL_STRENGTH } from '../temporal/smoother.js';
import { integerIn, numberIn, parseTime, positiveNumber } from './parse.js';
import { RESUMABLE_MIN_CHUNKS } from '../batch/resumable-render.js';
import { DEFAULT_CHUNK_SECONDS } from '../batch/run-batch.js';

/** Options shared by single renders and batch jobs. */
export function addRenderOptions(command: Command): Command {
  return command
    .option('--model <dir>', 'model folder holding model.json (default: the shipped models/)')
    .addOption(new Option('--device <device>', 'inference device').choices(DEVICE_CHOICES).default('auto'))
    .option('--batch-size <n>', 'frames per inference batch (default: 1 on the CPU, 4 on a GPU)', integerIn(1, 256))
    .option('--resolution <px>', 'working short side of the network input (default from model.json)', integerIn(16, 4096))
    .option('--infer-every <n>', 'run the network on every nth frame of a shot and carry its colours along the optical flow in between (default 3; 1: every frame)', integerIn(1, 16))
    .option('--no-int8', "on the CPU, run the model's float network instead of its int8 variant (model.json local.cpu)")
    .addOption(new Option('--codec <codec>', 'output video codec (default: h264, or lossless ffv1 for sources above 8 bits)').choices(VIDEO_CODECS))
    .option('--fps <rate>', 'frame rate of an image-sequence input (default 24; 16 or 18 for silent film)', numberIn(1, 300))
    .option('--conceal', 'render through damaged frames with the decoder\'s concealment and report them (default: stop at the first)')
    .option('--crf <n>', 'quality for h264/h265 (lower is better)', integerIn(0, 51), 18)
    .option('--preset <name>', 'x264/x265 preset', 'medium')
    .option('--temporal <strength>', 'temporal smoothing strength, 0..1', numberIn(0, 1), DEFAULT_TEMPORAL_STRENGTH)
    .option('--no-temporal', 'turn temporal smoothing off')
    .option('--reference <image>', 'take the global colors from this image for every shot')
    .option('--reference-map <file|json>', 'per-shot reference images: a JSON file, or inline JSON like \'{"12": "a.jpg"}\' (paths relative to the file, or to the current folder when inline)')
    .option('--reference-strength <s>', 'how far a reference moves its shot to the reference\'s palette, 0..1 (default 1)', numberIn(0, 1))
    .option('--settings <file>', 'per-shot settings (project file <film>.colorize.json, as the review page writes it); batch: default is the file beside each film')
    .option('--side-by-side', 'write gray and color next to each other for review')
    .option('--overwrite', 'replace an existing output');
}

export interface RenderFlags {
  model?: string;
  device: DeviceRequest;
  batchSize?: number;
  resolution?: number;
  int8: boolean;
  inferEvery?: number;
  codec?: VideoCodec;
  conceal?: boolean;
  fps?: number;
  crf: number;
  preset: string;
  temporal: number | boolean;
  reference?: string;
  referenceMap?: string;
  referenceStrength?: number;
  settings?: string;
  sideBySide?: boolean;
  overwrite?: boolean;
}

export async function renderOptionsFrom(flags: RenderFlags): Promise<Omit<ColorizeOptions, 'input'>> {
  return {
    model: flags.model,
    device: flags.device,
    batchSize: flags.batchSize,
    resolution: flags.resolution,
    cpuVariant: flags.int8,
    inferEvery: flags.inferEvery,
    codec: flags.codec,
    conceal: flags.conceal,
    fps: flags.fps,
    crf: flags.crf,
    preset: flags.preset,
    temporalStrength: flags.temporal === false ? 0 : flags.temporal === true ? DEFAULT_TEMPORAL_STRENGTH : flags.temporal,
    reference: flags.reference,
    referenceMap: flags.referenceMap ? await readReferenceMap(flags.referenceMap) : undefined,
    referenceStrength: flags.referenceStrength,
    settingsFile: flags.settings ? resolve(flags.settings) : undefined,
    sideBySide: flags.sideBySide,
    overwrite: flags.overwrite,
  };
}

export function addPreviewOptions(command: Command): Command {
  return command
    .option('-o, --output <file>', 'output file (default: <name>.color.<ext> beside the input)')
    .option('--start <time>', 'start of the piece to render (seconds or [hh:]mm:ss)', parseTime)
    .option('--duration <time>', 'length of the piece to render', parseTime)
    .option('--shot <list>', 'render only these shots, e.g. 12 or 3,5-7 (numbers from `colorize-video shots`)')
    .option('--no-resume', `render a long film in one pass; by default a whole film of ${RESUMABLE_MIN_CHUNKS} chunks or more is rendered as chunks of whole shots under <output folder>/.colorize-work, so that running the same command again after an interruption resumes it`)
    .option('--chunk-seconds <s>', `length of those chunks (default: $COLORIZE_VIDEO_CHUNK_SECONDS or ${DEFAULT_CHUNK_SECONDS})`, positiveNumber)
    .option('--json', 'print one JSON summary on stdout');
}

/** `--reference-map`: a JSON file (image paths relative to it) or inline JSON (paths relative to the current folder). */
export async function readReferenceMap(value: string): Promise<Record<string, string>> {
  const inline = value.trim().startsWith('{');
  const where = inline ? 'inline reference map' : `reference map ${value}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(inline ? value : await readFile(value, 'utf8'));
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new UserError(`${where} could not be ${inline || !(error instanceof SyntaxError) ? 'read' : 'parsed'}: ${reason}`, 2);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UserError(`${where} must be a JSON object like {"12": "a.jpg"}`, 2);
  const base = inline ? process.cwd() : dirname(resolve(value));
  const map: Record<string, string> = {};
  for (const [shot, image] of Object.entries(parsed)) {
    if (typeof image !== 'string') throw new UserError(`${where}: shot ${shot} must map to an image path`, 2);
    map[shot] = resolve(base, image);
  }
  return map;
}
