import { open, readdir, realpath, stat, unlink } from 'node:fs/promises';
import { isSequenceOutput } from '../decode/sequence.js';
import { randomBytes } from 'node:crypto';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { UserError } from '../decode/errors.js';
import { type VideoCodec, checkCodecFits, defaultExtension } from '../encode/container.js';

/** `<name>.color.<ext>` beside the input. */
export function defaultOutputPath(input: string, codec: VideoCodec): string {
  const ext = extname(input);
  return join(dirname(input), `${basename(input, ext)}.color${defaultExtension(input, codec)}`);
}

/** Where a sequence's default output goes: named after its folder, beside the folder (reel1/ -> reel1.color.mkv). */
export function sequenceStem(sequence: { pattern: string }): string {
  const folder = dirname(sequence.pattern);
  return join(dirname(folder), `${basename(folder)}.seq`);
}

/** Refuses outputs that would overwrite the input, land in an unwritable folder, or clobber a file unasked. */
export async function checkOutputPath(input: string, output: string, codec: VideoCodec, overwrite: boolean): Promise<string> {
  const target = resolve(output);
  if (isSequenceOutput(target)) return checkSequenceOutput(input, target, overwrite);
  checkCodecFits(target, codec);
  const inputReal = await realpath(input).catch(() => resolve(input));
  const outputReal = await realpath(target).catch(() => target);
  if (inputReal === outputReal) throw new UserError(`output would overwrite the input: ${output}`, 2);
  const folder = dirname(target);
  const folderInfo = await stat(folder).catch(() => undefined);
  if (!folderInfo?.isDirectory()) throw new UserError(`output folder does not exist: ${folder}`);
  await assertWritableFolder(folder);
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new UserError(`output is a directory: ${output}`, 2);
  if (existing && !overwrite) throw new UserError(`output exists: ${output} (use --overwrite to replace it)`);
  return target;
}

/** An image-sequence output: its folder must exist and be writable, and hold no frames of that name unless overwriting. */
async function checkSequenceOutput(input: string, target: string, overwrite: boolean): Promise<string> {
  if (resolve(input) === target) throw new UserError(`output would overwrite the input: ${target}`, 2);
  const folder = dirname(target);
  const folderInfo = await stat(folder).catch(() => undefined);
  if (!folderInfo?.isDirectory()) throw new UserError(`output folder does not exist: ${folder}`);
  await assertWritableFolder(folder);
  const m = /^(.*?)%0?\d*d(.*)$/.exec(basename(target))!;
  const clash = (await readdir(folder)).find((name) => name.startsWith(m[1]) && name.endsWith(m[2]) && /^\d+$/.test(name.slice(m[1].length, name.length - m[2].length)));
  if (clash && !overwrite) throw new UserError(`output frames exist: ${join(folder, clash)} (use --overwrite to replace them)`);
  return target;
}

/** Creating a file is the only reliable test (permission bits say nothing for root or read-only mounts). */
async function assertWritableFolder(folder: string): Promise<void> {
  const probe = join(folder, `.colorize-video-write-test-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx');
    await handle.close();
    await unlink(probe);
  } catch {
    throw new UserError(`output folder is not writable: ${folder}`);
  }
}
