import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.avif': 'image/avif',
};

/**
 * Sends one file the caller has already chosen (never a path from the request), with byte ranges,
 * which a video element needs to seek.
 */
export async function sendFile(request: FastifyRequest, reply: FastifyReply, path: string): Promise<FastifyReply> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return reply.code(404).send({ error: 'not found' });
  reply.header('content-type', TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream');
  reply.header('accept-ranges', 'bytes');
  reply.header('cache-control', 'no-cache');
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? '');
  if (range && (range[1] !== '' || range[2] !== '')) {
    let start = range[1] === '' ? info.size - Number(range[2]) : Number(range[1]);
    let end = range[1] === '' || range[2] === '' ? info.size - 1 : Number(range[2]);
    start = Math.max(0, start);
    end = Math.min(end, info.size - 1);
    if (start > end || start >= info.size) {
      reply.header('content-range', `bytes */${info.size}`);
      return reply.code(416).send();
    }
    reply.code(206).header('content-range', `bytes ${start}-${end}/${info.size}`).header('content-length', end - start + 1);
    return reply.send(createReadStream(path, { start, end }));
  }
  reply.header('content-length', info.size);
  return reply.send(createReadStream(path));
}
