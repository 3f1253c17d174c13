import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'bullmq';
import { UserError } from '../decode/errors.js';

/**
 * BullMQ connection options from a Redis URL: `redis://[user:password@]host[:port][/db]`, or
 * `rediss://…` for TLS (the server certificate is checked; $COLORIZE_FARM_REDIS_CA names a CA
 * file for a private one). The password may also come from $COLORIZE_FARM_REDIS_PASSWORD so it
 * does not show in process lists.
 */
export function redisConnection(url: string): ConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`--redis must be a URL like redis://host:6379 or rediss://user:password@host:6380/0, not "${url}"`, 2);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new UserError(`--redis must start with redis:// or rediss://, not ${parsed.protocol}//`, 2);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UserError(`--redis: database must be a number, not "${db}"`, 2);
  const ca = process.env.COLORIZE_FARM_REDIS_CA;
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : process.env.COLORIZE_FARM_REDIS_PASSWORD || undefined,
    db: db === '' ? 0 : Number(db),
    tls: parsed.protocol === 'rediss:' ? { servername: parsed.hostname, ...(ca ? { ca: readFileSync(ca) } : {}) } : undefined,
    maxRetriesPerRequest: null,
  };
}

/** The URL without its password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
