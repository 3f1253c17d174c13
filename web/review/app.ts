/**
 * The review room's page: shot cards, a before/after preview of the selected shot, its settings
 * (saved by the server to the project file on every change) and the whole-film render.
 * Plain DOM, no framework; everything comes from the review server.
 */

interface Shot {
  index: number;
  startFrame: number;
  endFrame: number;
  startTime: number;
  endTime: number;
}

interface Hint {
  frame: number;
  x: number;
  y: number;
  a?: number;
  b?: number;
  color?: string;
}

interface ShotSettings {
  reference?: string;
  referenceStrength?: number;
  intensity?: number;
  temporalStrength?: number;
  hints?: Hint[];
}

interface RenderState {
  state: 'idle' | 'running' | 'done' | 'failed';
  phase?: string;
  done: number;
  total: number;
  fps: number;
  etaSeconds: number;
  output?: string;
  download?: string;
  error?: string;
}

interface ReviewState {
  film: { name: string; width: number; height: number; fps: number; frameCount: number; duration: number };
  shots: Shot[];
  project: { file: string; shots: Record<string, ShotSettings> };
  hints: boolean;
  sideBySide: boolean;
  references: string[];
  render: RenderState;
}

const token = new URLSearchParams(location.search).get('token');

/** A server URL, with the access token when the server asked for one. */
function url(path: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params);
  if (token) query.set('token', token);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const response = await fetch(url(path), init);
  const payload = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new Error(payload.error ?? `${response.status} ${response.statusText}`);
  return payload;
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`page is missing #${id}`);
  return found as T;
}

function timecode(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds - 60 * m;
  return `${m}:${s.toFixed(2).padStart(5, '0')}`;
}

const ui = {
  shots: element<HTMLElement>('shots'),
  canvas: element<HTMLCanvasElement>('canvas'),
  video: element<HTMLVideoElement>('video'),
  message: element<HTMLElement>('viewer-message'),
  play: element<HTMLButtonElement>('play'),
  back: element<HTMLButtonElement>('frame-back'),
  forward: element<HTMLButtonElement>('frame-forward'),
  frameLabel: element<HTMLElement>('frame-label'),
  wipe: element<HTMLInputElement>('wipe'),
  settingsTitle: element<HTMLElement>('settings-title'),
  reference: element<HTMLSelectElement>('reference'),
  upload: element<HTMLInputElement>('upload'),
  referenceStrength: element<HTMLInputElement>('reference-strength'),
  intensity: element<HTMLInputElement>('intensity'),
  temporal: element<HTMLInputElement>('temporal'),
  hints: element<HTMLFieldSetElement>('hints'),
  hintColor: element<HTMLInputElement>('hint-color'),
  hintList: element<HTMLUListElement>('hint-list'),
  resetShot: element<HTMLButtonElement>('reset-shot'),
  settingsStatus: element<HTMLElement>('settings-status'),
  renderButton: element<HTMLButtonElement>('render-button'),
  renderProgress: element<HTMLProgressElement>('render-progress'),
  renderStatus: element<HTMLElement>('render-status'),
  renderLink: element<HTMLAnchorElement>('render-link'),
};

let state: ReviewState;
let selected = -1;
let mode: 'wipe' | 'side' = 'wipe';
let previewRequest: AbortController | undefined;
const thumbVersion = new Map<number, number>();

async function start(): Promise<void> {
  state = await api<ReviewState>('GET', '/api/state');
  element('film-name').textContent = state.film.name;
  element('film-facts').textContent = `${state.film.width}×${state.film.height}, ${state.film.fps.toFixed(3).replace(/\.?0+$/, '')} fps, ${state.shots.length} shots`;
  element('project-file').textContent = `settings: ${state.project.file}`;
  ui.hints.hidden = !state.hints;
  fillReferences(state.references);
  renderCards();
  wireControls();
  followRender();
  if (state.shots.length > 0) void select(0, false);
}

function renderCards(): void {
  ui.shots.replaceChildren(
    ...state.shots.map((shot) => {
      const card = document.createElement('button');
      card.type = 'button';
      card.className = 'card';
      card.dataset.shot = String(shot.index);
      card.setAttribute('aria-selected', 'false');
      const meta = document.createElement('div');
      meta.className = 'meta';
      meta.innerHTML = `<b>#${shot.index}</b><span>frames [${shot.startFrame}, ${shot.endFrame})</span><span>${timecode(shot.startTime)}</span><span class="changed"></span>`;
      const thumbs = document.createElement('div');
      thumbs.className = 'thumbs';
      const gray = document.createElement('img');
      gray.className = 'gray';
      gray.alt = `shot ${shot.index}, original`;
      gray.loading = 'lazy';
      gray.src = url(`/api/shots/${shot.index}/gray.jpg`);
      const color = document.createElement('img');
      color.className = 'color';
      color.alt = `shot ${shot.index}, colorized`;
      color.loading = 'lazy';
      color.src = colorThumbUrl(shot.index);
      thumbs.append(gray, color);
      card.append(meta, thumbs);
      card.addEventListener('click', () => void select(shot.index, true));
      return card;
    }),
  );
  for (const shot of state.shots) markChanged(shot.index);
}

function colorThumbUrl(shot: number): string {
  return url(`/api/shots/${shot}/color.jpg`, { v: String(thumbVersion.get(shot) ?? 0) });
}

function card(shot: number): HTMLElement | null {
  return ui.shots.querySelector<HTMLElement>(`.card[data-shot="${shot}"]`);
}

function markChanged(shot: number): void {
  const settings = state.project.shots[shot];
  const label = card(shot)?.querySelector('.changed');
  if (!label) return;
  const parts: string[] = [];
  if (settings?.reference) parts.push('ref');
  if (settings?.intensity !== undefined) parts.push(`×${settings.intensity}`);
  if (settings?.temporalStrength !== undefined) parts.push(`smooth ${settings.temporalStrength}`);
  if (settings?.hints?.length) parts.push(`${settings.hints.length} hints`);
  label.textContent = parts.join(' · ');
}

function fillReferences(names: string[]): void {
  const current = ui.reference.value;
  const extra = Object.values(state.project.shots)
    .map((s) => s.reference)
    .filter((r): r is string => Boolean(r) && !names.includes(r as string));
  ui.reference.replaceChildren(new Option('none (automatic colors)', ''), ...[...names, ...new Set(extra)].map((name) => new Option(name, name)));
  ui.reference.value = current;
}

async function select(shot: number, focus: boolean): Promise<void> {
  if (shot < 0 || shot >= state.shots.length) return;
  selected = shot;
  for (const c of ui.shots.querySelectorAll<HTMLElement>('.card')) c.setAttribute('aria-selected', String(Number(c.dataset.shot) === shot));
  const current = card(shot);
  current?.scrollIntoView({ block: 'nearest' });
  if (focus) current?.focus();
  showSettings(shot);
  await loadPreview(shot);
}

function showSettings(shot: number): void {
  const settings = state.project.shots[shot] ?? {};
  const s = state.shots[shot];
  ui.settingsTitle.textContent = `Shot #${shot} settings (frames [${s.startFrame}, ${s.endFrame}))`;
  ui.reference.value = settings.reference ?? '';
  setSlider(ui.referenceStrength, settings.referenceStrength ?? 1);
  setSlider(ui.intensity, settings.intensity ?? 1);
  setSlider(ui.temporal, settings.temporalStrength ?? 1);
  ui.hintList.replaceChildren(
    ...(settings.hints ?? []).map((hint, i) => {
      const item = document.createElement('li');
      item.textContent = `frame ${hint.frame} at ${(hint.x * 100).toFixed(0)}%, ${(hint.y * 100).toFixed(0)}% `;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = 'remove';
      remove.addEventListener('click', () => {
        const hints = [...(state.project.shots[shot]?.hints ?? [])];
        hints.splice(i, 1);
        void saveSettings({ hints: hints.length ? hints : undefined });
      });
      item.append(remove);
      return item;
    }),
  );
}

function setSlider(input: HTMLInputElement, value: number): void {
  input.value = String(value);
  const output = document.getElementById(`${input.id}-value`);
  if (output) output.textContent = String(value);
}

async function loadPreview(shot: number): Promise<void> {
  previewRequest?.abort();
  const controller = new AbortController();
  previewRequest = controller;
  ui.video.pause();
  ui.message.textContent = `Rendering the preview of shot #${shot}…`;
  try {
    const { video } = await api<{ video: string }>('POST', `/api/shots/${shot}/preview`, undefined, controller.signal);
    if (controller.signal.aborted || selected !== shot) return;
    ui.video.src = url(video);
    ui.video.dataset.shot = String(shot);
    await new Promise<void>((resolve, reject) => {
      ui.video.onloadeddata = () => resolve();
      ui.video.onerror = () => reject(new Error('the browser could not play the preview'));
    });
    ui.message.textContent = '';
    resizeCanvas();
    draw();
    await ui.video.play().catch(() => undefined);
  } catch (error) {
    if (!controller.signal.aborted) ui.message.textContent = `Preview failed: ${(error as Error).message}`;
  }
}

function resizeCanvas(): void {
  if (!ui.video.videoWidth) return;
  const width = state.sideBySide ? ui.video.videoWidth / 2 : ui.video.videoWidth;
  ui.canvas.width = mode === 'side' && state.sideBySide ? 2 * width : width;
  ui.canvas.height = ui.video.videoHeight;
  fitCanvas();
}

/** Scales the canvas (keeping its shape) to fill the stage, however small the film. */
function fitCanvas(): void {
  const stage = ui.canvas.parentElement!;
  const scale = Math.min(stage.clientWidth / ui.canvas.width, stage.clientHeight / ui.canvas.height);
  ui.canvas.style.width = `${Math.floor(ui.canvas.width * scale)}px`;
  ui.canvas.style.height = `${Math.floor(ui.canvas.height * scale)}px`;
}

/** Gray | color halves of the side-by-side preview, drawn as a wipe or next to each other. */
function draw(): void {
  const context = ui.canvas.getContext('2d');
  if (!context || !ui.video.videoWidth) return;
  const height = ui.video.videoHeight;
  if (!state.sideBySide) {
    context.drawImage(ui.video, 0, 0);
  } else {
    const half = ui.video.videoWidth / 2;
    if (mode === 'side') context.drawImage(ui.video, 0, 0);
    else {
      const split = Math.round(Number(ui.wipe.value) * half);
      context.drawImage(ui.video, half, 0, half, height, 0, 0, half, height);
      if (split > 0) context.drawImage(ui.video, 0, 0, split, height, 0, 0, split, height);
      context.fillStyle = '#e0a040';
      context.fillRect(split - 1, 0, 2, height);
    }
  }
  const shot = state.shots[Number(ui.video.dataset.shot)];
  if (shot) ui.frameLabel.textContent = `frame ${shot.startFrame + currentFrameInShot()} of [${shot.startFrame}, ${shot.endFrame})`;
}

function currentFrameInShot(): number {
  return Math.floor(ui.video.currentTime * state.film.fps + 1e-3);
}

function drawLoop(): void {
  draw();
  requestAnimationFrame(drawLoop);
}

function stepFrame(delta: number): void {
  if (!ui.video.src) return;
  ui.video.pause();
  const shot = state.shots[Number(ui.video.dataset.shot)];
  const frames = shot.endFrame - shot.startFrame;
  const next = Math.min(frames - 1, Math.max(0, currentFrameInShot() + delta));
  ui.video.currentTime = (next + 0.5) / state.film.fps;
}

async function saveSettings(change: Partial<Record<keyof ShotSettings, unknown>>): Promise<void> {
  const shot = selected;
  if (shot < 0) return;
  const next: Record<string, unknown> = { ...state.project.shots[shot], ...change };
  for (const [key, value] of Object.entries(next)) if (value === undefined || value === '') delete next[key];
  ui.settingsStatus.textContent = 'saving…';
  ui.settingsStatus.classList.remove('error');
  try {
    const project = await api<ReviewState['project']>('PUT', `/api/shots/${shot}/settings`, next);
    state.project = project;
    ui.settingsStatus.textContent = `saved to ${project.file}`;
    markChanged(shot);
    showSettings(shot);
    thumbVersion.set(shot, (thumbVersion.get(shot) ?? 0) + 1);
    const thumb = card(shot)?.querySelector<HTMLImageElement>('img.color');
    if (thumb) thumb.src = colorThumbUrl(shot);
    if (selected === shot) await loadPreview(shot);
  } catch (error) {
    ui.settingsStatus.textContent = (error as Error).message;
    ui.settingsStatus.classList.add('error');
  }
}

/** Slider values equal to the default are stored as "not set". */
function sliderChange(input: HTMLInputElement, key: keyof ShotSettings, neutral: number): void {
  input.addEventListener('input', () => setSlider(input, Number(input.value)));
  input.addEventListener('change', () => {
    const value = Number(input.value);
    void saveSettings({ [key]: value === neutral ? undefined : value });
  });
}

async function upload(file: File): Promise<void> {
  ui.settingsStatus.textContent = `uploading ${file.name}…`;
  ui.settingsStatus.classList.remove('error');
  try {
    const response = await fetch(url('/api/references', { name: file.name }), { method: 'POST', body: file, headers: { 'content-type': file.type || 'image/jpeg' } });
    const payload = (await response.json().catch(() => ({}))) as { name?: string; references?: string[]; error?: string };
    if (!response.ok || !payload.name) throw new Error(payload.error ?? (response.status === 413 ? 'the image is too large' : `upload failed (${response.status})`));
    state.references = payload.references ?? state.references;
    fillReferences(state.references);
    ui.reference.value = payload.name;
    await saveSettings({ reference: payload.name });
  } catch (error) {
    ui.settingsStatus.textContent = (error as Error).message;
    ui.settingsStatus.classList.add('error');
  } finally {
    ui.upload.value = '';
  }
}

function pointHint(x: number, y: number): Hint {
  return { frame: state.shots[selected].startFrame + currentFrameInShot(), x, y, color: ui.hintColor.value };
}

function wireControls(): void {
  ui.play.addEventListener('click', () => (ui.video.paused ? void ui.video.play() : ui.video.pause()));
  ui.video.addEventListener('play', () => (ui.play.textContent = '❚❚'));
  ui.video.addEventListener('pause', () => (ui.play.textContent = '▶'));
  ui.video.loop = true;
  ui.back.addEventListener('click', () => stepFrame(-1));
  ui.forward.addEventListener('click', () => stepFrame(1));
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name=mode]')) {
    radio.addEventListener('change', () => {
      mode = radio.value === 'side' ? 'side' : 'wipe';
      ui.wipe.disabled = mode === 'side';
      resizeCanvas();
    });
  }
  window.addEventListener('resize', () => ui.canvas.width > 0 && fitCanvas());
  let dragging = false;
  const pointer = (event: PointerEvent) => {
    const box = ui.canvas.getBoundingClientRect();
    return { x: Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)), y: Math.min(1, Math.max(0, (event.clientY - box.top) / box.height)) };
  };
  ui.canvas.addEventListener('pointerdown', (event) => {
    const { x, y } = pointer(event);
    if (state.hints && !event.shiftKey && selected >= 0) {
      // With hints, a click places one at the picture position (in side-by-side, on the color half).
      const px = mode === 'side' && state.sideBySide ? Math.max(0, 2 * x - 1) : x;
      const hints = [...(state.project.shots[selected]?.hints ?? []), pointHint(px, y)];
      void saveSettings({ hints });
    } else if (mode === 'wipe') {
      dragging = true;
      ui.canvas.setPointerCapture(event.pointerId);
      ui.wipe.value = String(x);
    }
  });
  ui.canvas.addEventListener('pointermove', (event) => {
    if (dragging) ui.wipe.value = String(pointer(event).x);
  });
  ui.canvas.addEventListener('pointerup', () => (dragging = false));
  ui.reference.addEventListener('change', () => void saveSettings({ reference: ui.reference.value || undefined }));
  ui.upload.addEventListener('change', () => {
    const file = ui.upload.files?.[0];
    if (file) void upload(file);
  });
  sliderChange(ui.referenceStrength, 'referenceStrength', 1);
  sliderChange(ui.intensity, 'intensity', 1);
  sliderChange(ui.temporal, 'temporalStrength', 1);
  ui.resetShot.addEventListener('click', () => void saveSettings({ reference: undefined, referenceStrength: undefined, intensity: undefined, temporalStrength: undefined, hints: undefined }));
  ui.renderButton.addEventListener('click', () => void api('POST', '/api/render').catch((error: Error) => (ui.renderStatus.textContent = error.message)));
  document.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement;
    if (target.closest('input, select, textarea') && !(target instanceof HTMLInputElement && target.type === 'radio')) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      void select(selected + (event.key === 'ArrowDown' ? 1 : -1), true);
    } else if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
      event.preventDefault();
      stepFrame(event.key === 'ArrowRight' ? 1 : -1);
    } else if (event.key === ' ' && !(target instanceof HTMLButtonElement)) {
      event.preventDefault();
      if (ui.video.paused) void ui.video.play();
      else ui.video.pause();
    }
  });
  requestAnimationFrame(drawLoop);
}

function followRender(): void {
  const events = new EventSource(url('/api/render/events'));
  events.onmessage = (message) => showRender(JSON.parse(message.data) as RenderState);
}

function showRender(render: RenderState): void {
  ui.renderButton.disabled = render.state === 'running';
  ui.renderProgress.hidden = render.state !== 'running';
  ui.renderProgress.value = render.total > 0 ? render.done / render.total : 0;
  ui.renderLink.hidden = render.state !== 'done';
  ui.renderStatus.classList.toggle('error', render.state === 'failed');
  if (render.state === 'running') {
    ui.renderStatus.textContent =
      render.phase === 'shots' ? 'finding shots…' : render.phase === 'join' ? 'joining the chunks…' : render.phase !== 'colorize' ? 'starting…' : `${render.done}/${render.total} frames, ${render.fps.toFixed(1)} fps, ${Math.ceil(render.etaSeconds)} s left`;
  } else if (render.state === 'done') {
    ui.renderStatus.textContent = `rendered ${render.output ?? ''}`;
    ui.renderLink.href = url(render.download ?? '/media/output');
    ui.renderLink.textContent = `download ${render.output ?? ''}`;
  } else if (render.state === 'failed') {
    ui.renderStatus.textContent = `render failed: ${render.error ?? ''}`;
  } else ui.renderStatus.textContent = '';
}

start().catch((error: Error) => {
  ui.message.textContent = `Could not load the film: ${error.message}`;
});
