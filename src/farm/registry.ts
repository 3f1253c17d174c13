import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { UserError } from '../decode/errors.js';
import type { ChunkJobData, JoinJobData } from './job-data.js';
import { redactedUrl, redisConnection } from './connection.js';

export const CHUNK_QUEUE = 'colorize-chunks';
export const JOIN_QUEUE = 'colorize-joins';

/** Key prefix of everything the farm keeps in Redis ($COLORIZE_FARM_PREFIX, default "colorize"). */
export function farmPrefix(): string {
  return process.env.COLORIZE_FARM_PREFIX || 'colorize';
}

/** What the farm knows of a submitted film, beside its jobs. */
export interface FilmRecord {
  id: string;
  input: string;
  output: string;
  frames: number;
  chunks: number;
  /** Bumped by retry and re-submit: jobs of older generations are obsolete. */
  generation: number;
  cancelled: boolean;
  submittedAt: number;
  /** Chunk indices found finished on disk at submit, not enqueued. */
  reused: number[];
}

/** The jobs a film's flow is made of, kept so that retry can enqueue them again. */
export interface FilmPlan {
  join: JoinJobData;
  chunks: ChunkJobData[];
}

export function chunkJobId(filmId: string, generation: number, index: number): string {
  return `${filmId}-g${generation}-c${String(index).padStart(4, '0')}`;
}

export function joinJobId(filmId: string, generation: number): string {
  return `${filmId}-g${generation}-join`;
}

/** The farm's queues and film records on one Redis. */
export class FarmStore {
  readonly chunks: Queue;
  readonly joins: Queue;
  private readonly prefix = farmPrefix();

  /** One connection of our own for the queues and records, so its errors always have a listener. */
  private readonly redis: Redis;

  private constructor(readonly connection: ConnectionOptions, redis: Redis) {
    this.redis = redis;
    this.chunks = new Queue(CHUNK_QUEUE, { connection: redis, prefix: this.prefix });
    this.joins = new Queue(JOIN_QUEUE, { connection: redis, prefix: this.prefix });
    for (const q of [this.chunks, this.joins]) q.on('error', () => undefined);
  }

  /**
   * Connects, or fails with one line within `timeoutMs` (at once for refused credentials or
   * certificates). The queues are made only once our own connection answers, so that a failed
   * start never leaves them emitting errors nobody listens to.
   */
  static async open(url: string, timeoutMs = 10_000): Promise<FarmStore> {
    const connection = redisConnection(url);
    const redis = new Redis(connection as RedisOptions);
    let lastError = '';
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        redis.ping(),
        new Promise((_, reject) => {
          redis.on('error', (error: Error) => {
            lastError = error.message.split('\n')[0];
            // Retrying cannot fix credentials or certificates.
            if (/WRONGPASS|NOAUTH|NOPERM|invalid (username-)?password/i.test(lastError)) reject(new UserError(`Redis at ${redactedUrl(url)} refused the credentials: ${lastError}`));
            if (/certificate|CERT_|self[- ]signed|altnames/i.test(lastError)) reject(new UserError(`Redis at ${redactedUrl(url)}: TLS certificate not accepted: ${lastError}`));
          });
          timer = setTimeout(
            () => reject(new UserError(`cannot reach Redis at ${redactedUrl(url)} (no answer within ${timeoutMs / 1000} s${lastError ? `: ${lastError}` : ''})`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      redis.disconnect();
      if (error instanceof UserError) throw error;
      throw new UserError(`cannot use Redis at ${redactedUrl(url)}: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      clearTimeout(timer);
    }
    const store = new FarmStore(connection, redis);
    await Promise.all([store.chunks.waitUntilReady(), store.joins.waitUntilReady()]);
    return store;
  }

  private key(name: string): string {
    return `${this.prefix}:colorize-farm:${name}`;
  }

  async films(): Promise<FilmRecord[]> {
    const client = this.redis;
    const all = await client.hgetall(this.key('films'));
    return Object.values(all)
      .map((text) => JSON.parse(text) as FilmRecord)
      .sort((a, b) => a.submittedAt - b.submittedAt || a.input.localeCompare(b.input));
  }

  async film(id: string): Promise<FilmRecord | undefined> {
    const client = this.redis;
    const text = await client.hget(this.key('films'), id);
    return text ? (JSON.parse(text) as FilmRecord) : undefined;
  }

  async saveFilm(record: FilmRecord, plan?: FilmPlan): Promise<void> {
    const client = this.redis;
    // The plan first: a worker that sees the record may need it.
    if (plan) await client.set(this.key(`plan:${record.id}`), JSON.stringify(plan));
    await client.hset(this.key('films'), { [record.id]: JSON.stringify(record) });
  }

  async plan(id: string): Promise<FilmPlan | undefined> {
    const client = this.redis;
    const text = await client.get(this.key(`plan:${id}`));
    return text ? (JSON.parse(text) as FilmPlan) : undefined;
  }

  /** A film by id (or a unique id prefix) or by input or output path. */
  async findFilm(what: string, resolvePath: (p: string) => string): Promise<FilmRecord> {
    const films = await this.films();
    const path = resolvePath(what);
    const matches = films.filter((f) => f.id === what || (what.length >= 6 && f.id.startsWith(what)) || f.input === path || f.output === path);
    if (matches.length === 0) throw new UserError(`no film ${what} in the farm (see colorize-video farm status)`);
    if (matches.length > 1) throw new UserError(`${what} names ${matches.length} films; give the film id from colorize-video farm status`);
    return matches[0];
  }

  async close(): Promise<void> {
    await Promise.all([this.chunks.close(), this.joins.close()]).catch(() => undefined);
    this.redis.disconnect();
  }
}
