import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import sharp from 'sharp';
import { UserError } from '../decode/errors.js';
import { probeVideo, type VideoInfo } from '../decode/probe.js';
import { Colorizer } from '../infer/colorizer.js';
import type { DeviceRequest } from '../infer/device.js';
import { cacheDir, findShots } from '../pipeline/find-shots.js';
import { rangeFromTimes } from '../pipeline/frame-range.js';
import { defaultModelPath, packageRoot } from '../pipeline/model-path.js';
import { defaultOutputPath } from '../pipeline/output-path.js';
import { type Project, type ShotSettings, PROJECT_VERSION, parseShotSettings, projectPathFor, readProjectFile, writeProjectFile } from '../project/project-file.js';
import type { Shot } from '../shots/index.js';
import { FilmRender } from './film-render.js';
import { PreviewStore, prunePreviewCache } from './previews.js';
import { sendFile } from './send-file.js';

export const DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
const IMAGE_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif', 'heif']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/;
const MEDIA_NAME = /^[0-9a-f]{24}\.(mp4|jpg)$/;

export interface ReviewServerOptions {
  film: string;
  host?: string;
  port?: number;
  model?: string;
  device?: DeviceRequest;
  /** Working resolution of previews and the film render (default: the model's). */
  resolution?: number;
  /** Folder of reference images to choose from; uploads land here. Default `<film stem>.references` beside the film. */
  references?: string;
  maxUploadBytes?: number;
  /** Required in every URL; default: none on a loopback address, a random one otherwise. */
  token?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ReviewServer {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

interface ReviewContext {
  info: VideoInfo;
  shots: Shot[];
  colorizer: Colorizer;
  previews: PreviewStore;
  render: FilmRender;
  project: Project;
  projectPath: string;
  referencesDir: string;
  hints: boolean;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The review room's web server: the film's shots, previews rendered by the core on demand, per-shot
 * settings saved to the project file on every change, and the whole-film render. It serves only its
 * own static files, the previews and thumbnails it made, the reference images folder and the render.
 */
export async function startReviewServer(options: ReviewServerOptions): Promise<ReviewServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? (isLoopback(host) ? undefined : randomBytes(16).toString('hex'));
  const film = resolve(options.film);
  const info = await probeVideo(film);
  const shots = await findShots(info, rangeFromTimes(info.frameCount, info.fps), { onProgress: options.onProgress });
  const projectPath = projectPathFor(film);
  const project: Project = existsSync(projectPath) ? await readProjectFile(projectPath) : { version: PROJECT_VERSION, film: basename(film), shots: {} };
  for (const key of Object.keys(project.shots)) {
    if (Number(key) >= shots.length) throw new UserError(`settings file ${projectPath} names shot ${key}, but the film has ${shots.length} shots (0-${shots.length - 1})`, 2);
  }
  const modelPath = options.model ?? defaultModelPath();
  const colorizer = await Colorizer.load(modelPath, options.device ?? 'auto');
  await prunePreviewCache(join(cacheDir(), 'review'));
  const referencesDir = resolve(options.references ?? join(dirname(film), `${basename(film, extname(film))}.references`));
  const context: ReviewContext = {
    info,
    shots,
    colorizer,
    previews: new PreviewStore({ info, shots, colorizer, dir: join(cacheDir(), 'review'), resolution: options.resolution }),
    render: new FilmRender({ film, output: defaultOutputPath(film, 'h264'), settingsFile: projectPath, colorizer, resolution: options.resolution }),
    project,
    projectPath,
    referencesDir,
    hints: colorizer.acceptsHints,
  };
  const app = buildApp(context, { token, maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES });
  let address: string;
  try {
    address = await app.listen({ host, port: options.port ?? 0 });
  } catch (error) {
    await colorizer.release();
    throw new UserError(`could not listen on ${host}:${options.port ?? 0}: ${(error as Error).message.split('\n')[0]}`);
  }
  const port = new URL(address).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/${token ? `?token=${token}` : ''}`;
  return {
    url,
    app,
    close: async () => {
      context.previews.close();
      await context.render.close();
      await app.close();
      await colorizer.release();
    },
  };
}

function buildApp(context: ReviewContext, security: { token?: string; maxUploadBytes: number }): FastifyInstance {
  // Closing the server also ends open event streams (a page left open must not keep it alive).
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, forceCloseConnections: true });
  const webRoot = join(packageRoot(), 'web', 'review');
  const builtRoot = join(packageRoot(), 'dist', 'web', 'review');
  const staticFiles: Record<string, string> = {
    '/': join(webRoot, 'index.html'),
    '/style.css': join(webRoot, 'style.css'),
    '/app.js': join(builtRoot, 'app.js'),
  };

  app.addContentTypeParser(/^image\//, { parseAs: 'buffer', bodyLimit: security.maxUploadBytes }, (_request, body, done) => done(null, body));
  app.addHook('onRequest', async (request, reply) => {
    if (security.token) {
      // The token comes in the URL; the page's own requests for its script and style carry it in a cookie.
      const fromUrl = (request.query as Record<string, unknown>).token;
      const given = typeof fromUrl === 'string' ? fromUrl : tokenCookie(request.headers.cookie);
      if (!sameSecret(given, security.token)) return reply.code(403).send({ error: 'a valid token is required (use the URL the server printed)' });
      if (typeof fromUrl === 'string') reply.header('set-cookie', `${TOKEN_COOKIE}=${security.token}; HttpOnly; SameSite=Strict; Path=/`);
    } else {
      // Loopback only: refuse other Host names, so a web page elsewhere cannot reach in by DNS rebinding.
      const hostName = (request.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      if (!isLoopback(hostName)) return reply.code(403).send({ error: 'forbidden host' });
    }
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status = error instanceof UserError ? 400 : error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    reply.code(status).send({ error: error.message.split('\n')[0] });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not found' }));

  for (const [route, file] of Object.entries(staticFiles)) {
    app.get(route, (request, reply) => sendFile(request, reply, file));
  }

  app.get('/api/state', async () => stateOf(context));

  app.put('/api/shots/:shot/settings', async (request, reply) => {
    const shot = shotParam(context, request);
    const settings = await settingsFromPage(context, shot, request.body);
    if (Object.keys(settings).length === 0) delete context.project.shots[shot];
    else context.project.shots[shot] = settings;
    await writeProjectFile(context.projectPath, context.project);
    return reply.send(stateOf(context).project);
  });

  app.post('/api/shots/:shot/preview', async (request, reply) => {
    const shot = shotParam(context, request);
    const gone = abortOnClose(request);
    const { key } = await context.previews.preview(shot, context.project.shots[shot] ?? {}, gone.signal, 1).finally(gone.dispose);
    return reply.send({ key, video: `/media/previews/${key}.mp4` });
  });

  app.get('/api/shots/:shot/gray.jpg', async (request, reply) => {
    const shot = shotParam(context, request);
    return sendFile(request, reply, await context.previews.grayThumb(shot));
  });

  app.get('/api/shots/:shot/color.jpg', async (request, reply) => {
    const shot = shotParam(context, request);
    const gone = abortOnClose(request);
    const thumb = await context.previews.colorThumb(shot, context.project.shots[shot] ?? {}, gone.signal).finally(gone.dispose);
    return sendFile(request, reply, thumb);
  });

  app.get('/media/previews/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    if (!MEDIA_NAME.test(name)) return reply.code(404).send({ error: 'not found' });
    return sendFile(request, reply, join(cacheDir(), 'review', name));
  });

  app.get('/media/references/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    if (!NAME.test(name)) return reply.code(404).send({ error: 'not found' });
    return sendFile(request, reply, join(context.referencesDir, name));
  });

  app.post('/api/references', async (request, reply) => {
    const body = request.body;
    if (!Buffer.isBuffer(body)) return reply.code(415).send({ error: 'send the image itself with an image/* content type' });
    const format = await sharp(body)
      .metadata()
      .then((m) => m.format)
      .catch(() => undefined);
    if (!format || !IMAGE_FORMATS.has(format)) return reply.code(415).send({ error: 'not an image (jpeg, png, webp, tiff, gif, avif)' });
    const wanted = String((request.query as Record<string, unknown>).name ?? 'reference');
    const stem = basename(wanted, extname(wanted)).replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+/, '').slice(0, 60) || 'reference';
    const ext = format === 'jpeg' ? '.jpg' : `.${format}`;
    await mkdir(context.referencesDir, { recursive: true });
    let name = `${stem}${ext}`;
    for (let n = 2; existsSync(join(context.referencesDir, name)); n++) name = `${stem}-${n}${ext}`;
    const temporary = join(context.referencesDir, `.${name}.${process.pid}.tmp`);
    await writeFile(temporary, body);
    await rename(temporary, join(context.referencesDir, name)).catch(async (error: unknown) => {
      await unlink(temporary).catch(() => undefined);
      throw error;
    });
    return reply.code(201).send({ name, references: await listReferences(context.referencesDir) });
  });

  app.post('/api/render', async () => context.render.start());

  app.get('/api/render/events', (request, reply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    const send = (state: unknown) => raw.write(`data: ${JSON.stringify(state)}\n\n`);
    send(renderStateForPage(context));
    const unsubscribe = context.render.subscribe(() => send(renderStateForPage(context)));
    const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  });

  app.get('/media/output', async (request, reply) => {
    const state = context.render.state;
    if (state.state !== 'done' || !state.output) return reply.code(404).send({ error: 'no finished render yet' });
    reply.header('content-disposition', `attachment; filename="${basename(state.output).replace(/"/g, '')}"`);
    return sendFile(request, reply, state.output);
  });

  return app;
}

const TOKEN_COOKIE = 'colorize_review_token';

function tokenCookie(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return value.join('=');
  }
  return undefined;
}

function sameSecret(given: string | undefined, wanted: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(wanted);
  return a.length === b.length && timingSafeEqual(a, b);
}

function stateOf(context: ReviewContext) {
  const { info } = context;
  const shots: Record<string, ShotSettings> = {};
  for (const [shot, settings] of Object.entries(context.project.shots)) shots[shot] = settingsForPage(context, settings);
  return {
    film: { name: basename(info.path), width: info.width, height: info.height, fps: info.fps, frameCount: info.frameCount, duration: info.durationSeconds },
    shots: context.shots,
    project: { file: basename(context.projectPath), shots },
    hints: context.hints,
    sideBySide: context.previews.sideBySide,
    references: listReferencesSync(context),
    render: renderStateForPage(context),
  };
}

function renderStateForPage(context: ReviewContext) {
  const { output, ...state } = context.render.state;
  return { ...state, output: output ? basename(output) : undefined, download: output ? '/media/output' : undefined };
}

/** Reference paths as the page shows them: a name in the references folder, else the path relative to the film. */
function settingsForPage(context: ReviewContext, settings: ShotSettings): ShotSettings {
  if (!settings.reference) return settings;
  const inFolder = dirname(settings.reference) === context.referencesDir;
  return { ...settings, reference: inFolder ? basename(settings.reference) : relative(dirname(context.info.path), settings.reference).split(sep).join('/') };
}

/** Validates what a page sends for a shot; references must be a file of the references folder (or the one already set). */
async function settingsFromPage(context: ReviewContext, shot: number, body: unknown): Promise<ShotSettings> {
  const bad = (what: string) => new UserError(what);
  const raw = { ...((typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>) };
  for (const key of Object.keys(raw)) if (raw[key] === null) delete raw[key];
  if (!context.hints) delete raw.hints;
  let reference: string | undefined;
  if (raw.reference !== undefined) {
    const current = context.project.shots[shot]?.reference;
    const shown = current ? settingsForPage(context, { reference: current }).reference : undefined;
    if (current && raw.reference === shown) reference = current;
    else {
      if (typeof raw.reference !== 'string' || !NAME.test(raw.reference)) throw bad('reference must be the name of an image in the references folder');
      reference = join(context.referencesDir, raw.reference);
      if (!(await stat(reference).catch(() => undefined))?.isFile()) throw bad(`no reference image named ${raw.reference}`);
    }
    delete raw.reference;
  }
  const settings = parseShotSettings(raw, `shot ${shot}`, context.referencesDir, bad);
  return reference ? { reference, ...settings } : settings;
}

function listReferencesSync(context: ReviewContext): string[] {
  try {
    return referenceNames(readdirSync(context.referencesDir));
  } catch {
    return [];
  }
}

async function listReferences(dir: string): Promise<string[]> {
  return referenceNames(await readdir(dir).catch(() => [] as string[]));
}

function referenceNames(names: string[]): string[] {
  return names.filter((n) => NAME.test(n) && /\.(jpe?g|png|webp|tiff?|gif|avif)$/i.test(n)).sort();
}

function shotParam(context: ReviewContext, request: FastifyRequest): number {
  const text = (request.params as { shot: string }).shot;
  const shot = Number(text);
  if (!/^\d+$/.test(text) || shot >= context.shots.length) throw new UserError(`no shot ${text} (the film has ${context.shots.length} shots)`);
  return shot;
}

/** A signal that fires when the page gives up on a request (another shot selected, page closed). */
function abortOnClose(request: FastifyRequest): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onClose = () => controller.abort();
  const socket = request.raw.socket;
  socket.on('close', onClose);
  return { signal: controller.signal, dispose: () => socket.off('close', onClose) };
}
