import { InvalidArgumentError } from 'commander';
import { UserError } from '../decode/errors.js';

/** Seconds from "90", "90.5", "1:30" or "01:02:03.5". */
export function parseTime(text: string): number {
  const parts = text.trim().split(':');
  if (parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) throw new InvalidArgumentError(`"${text}" is not a time (use seconds or [hh:]mm:ss)`);
  return parts.reduce((total, part) => total * 60 + Number(part), 0);
}

export function integerIn(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return value;
  };
}

export function numberIn(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    return value;
  };
}

export function oneOf<T extends string>(choices: readonly T[]): (text: string) => T {
  return (text) => {
    if (!(choices as readonly string[]).includes(text)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}`);
    return text as T;
  };
}

export function positiveNumber(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return value;
}

/** $COLORIZE_VIDEO_CHUNK_SECONDS: the length of resumable chunks (batch, and long films in the single command). */
export function chunkSecondsFromEnv(): number | undefined {
  const text = process.env.COLORIZE_VIDEO_CHUNK_SECONDS;
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UserError(`COLORIZE_VIDEO_CHUNK_SECONDS must be a positive number, not "${text}"`, 2);
  return value;
}
