import { Command } from 'commander';
import { probeVideo } from '../decode/probe.js';
import { findShots } from '../pipeline/find-shots.js';
import { rangeFromTimes } from '../pipeline/frame-range.js';
import { ProgressBar } from './progress.js';
import { writeContactSheet } from '../pipeline/contact-sheet.js';
import { Colorizer } from '../infer/colorizer.js';
import { defaultModelPath } from '../pipeline/model-path.js';
import { DEVICE_CHOICES, type DeviceRequest } from '../infer/device.js';
import { Option } from 'commander';
import { UserError } from '../decode/errors.js';
import type { Shot } from '../shots/index.js';
import { plural } from '../plural.js';

export function addShotsCommand(program: Command, controller: AbortController): void {
  program
    .command('shots')
    .description('list the shots of a film: frames [start, end) and times [start, end), start included, end excluded (as in --json)')
    .argument('<input>', 'video file')
    .option('--json', 'print the shot list as JSON')
    .option('--contact-sheet <image>', 'write one image with a thumbnail per shot (.png or .jpg)')
    .option('--colorize', 'with --contact-sheet: put the colorized thumbnail beside each gray one')
    .option('--model <dir>', 'model folder for --colorize (default: the shipped models/)')
    .addOption(new Option('--device <device>', 'inference device for --colorize').choices(DEVICE_CHOICES).default('auto'))
    .action(async (input: string, flags: { json?: boolean; contactSheet?: string; colorize?: boolean; model?: string; device: DeviceRequest }) => {
      if (flags.colorize && !flags.contactSheet) throw new UserError('--colorize needs --contact-sheet', 2);
      const bar = new ProgressBar();
      bar.update({ phase: 'probe', done: 0, total: 0, fps: NaN, etaSeconds: NaN });
      const info = await probeVideo(input);
      const shots = await findShots(info, rangeFromTimes(info.frameCount, info.fps), {
        signal: controller.signal,
        onProgress: (done, total) => bar.update({ phase: 'shots', done, total, fps: NaN, etaSeconds: NaN }),
      });
      bar.done();
      if (flags.contactSheet) {
        if (flags.colorize) bar.update({ phase: 'model', done: 0, total: 0, fps: NaN, etaSeconds: NaN });
        const colorizer = flags.colorize ? await Colorizer.load(flags.model ?? defaultModelPath(), flags.device) : undefined;
        try {
          await writeContactSheet(info, shots, flags.contactSheet, { colorizer, signal: controller.signal });
        } finally {
          bar.done();
          await colorizer?.release();
        }
      }
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(shots, null, 2)}\n`);
        return;
      }
      for (const shot of shots) {
        process.stdout.write(`${formatShotLine(shot)}\n`);
      }
    });
}

/**
 * One text line per shot. Ranges are half-open like the JSON's startFrame/endFrame: `[0, 50)`
 * is frames 0 to 49.
 */
export function formatShotLine(shot: Shot): string {
  const frames = shot.endFrame - shot.startFrame;
  return `shot ${String(shot.index).padStart(4)}  frames [${shot.startFrame}, ${shot.endFrame})  ${plural(frames, 'frame')}  [${formatTimecode(shot.startTime)}, ${formatTimecode(shot.endTime)})`;
}

export function formatTimecode(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
}
