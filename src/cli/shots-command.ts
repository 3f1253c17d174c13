import { Command } from 'commander';
import { probeVideo } from '../decode/probe.js';
import { findShots } from '../pipeline/find-shots.js';
import { rangeFromTimes } from '../pipeline/frame-range.js';
import { ProgressBar } from './progress.js';

export function addShotsCommand(program: Command, controller: AbortController): void {
  program
    .command('shots')
    .description('list the shots of a film')
    .argument('<input>', 'video file')
    .option('--json', 'print the shot list as JSON')
    .action(async (input: string, flags: { json?: boolean }) => {
      const info = await probeVideo(input);
      const bar = new ProgressBar();
      const shots = await findShots(info, rangeFromTimes(info.frameCount, info.fps), {
        signal: controller.signal,
        onProgress: (done, total) => bar.update({ phase: 'shots', done, total, fps: 0, etaSeconds: 0 }),
      });
      bar.done();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(shots, null, 2)}\n`);
        return;
      }
      for (const shot of shots) {
        const frames = shot.endFrame - shot.startFrame;
        process.stdout.write(
          `shot ${String(shot.index).padStart(4)}  frames ${shot.startFrame}-${shot.endFrame - 1} (${frames})  ${formatTimecode(shot.startTime)} - ${formatTimecode(shot.endTime)}\n`,
        );
      }
    });
}

export function formatTimecode(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
}
