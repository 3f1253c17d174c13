import { open } from 'node:fs/promises';

/** Frame numbers skipped at each minute but every tenth by drop-frame timecode (2 at 29.97, 4 at 59.94); 0 at other rates. */
function droppedPerMinute(rate: number): number {
  return rate === 30 ? 2 : rate === 60 ? 4 : 0;
}

/**
 * SMPTE timecode hh:mm:ss:ff -> frame count at an integer timecode rate. A `;` before the frames
 * marks drop-frame code (29.97/59.94 fps): its skipped frame numbers are not counted.
 */
export function timecodeToFrames(timecode: string, rate: number): number | undefined {
  const m = /^(\d{2}):(\d{2}):(\d{2})([:;.])(\d{2})$/.exec(timecode);
  if (!m) return undefined;
  const [h, min, s, f] = [m[1], m[2], m[3], m[5]].map(Number);
  const nominal = ((h * 60 + min) * 60 + s) * rate + f;
  const drop = m[4] === ';' ? droppedPerMinute(rate) : 0;
  const minutes = h * 60 + min;
  return nominal - drop * (minutes - Math.floor(minutes / 10));
}

/** Frame count -> hh:mm:ss:ff, or drop-frame hh:mm:ss;ff (skipping its frame numbers) when `dropFrame`. */
export function framesToTimecode(frames: number, rate: number, dropFrame = false): string {
  const drop = dropFrame ? droppedPerMinute(rate) : 0;
  let n = frames;
  if (drop > 0) {
    const perMinute = rate * 60 - drop;
    const perTenMinutes = rate * 600 - 9 * drop;
    const tens = Math.floor(n / perTenMinutes);
    const rest = n % perTenMinutes;
    n += 9 * drop * tens + (rest > drop ? drop * Math.floor((rest - drop) / perMinute) : 0);
  }
  const f = n % rate;
  const totalSeconds = Math.floor(n / rate);
  const s = totalSeconds % 60;
  const min = Math.floor(totalSeconds / 60) % 60;
  const h = Math.floor(totalSeconds / 3600) % 24;
  const [hh, mm, ss, ff] = [h, min, s, f].map((v) => String(v).padStart(2, '0'));
  return `${hh}:${mm}:${ss}${drop > 0 ? ';' : ':'}${ff}`;
}

/** The timecode `frames` frames after `timecode` (drop-frame code stays drop-frame); unreadable codes stay as they are. */
export function timecodeAfter(timecode: string, rate: number, frames: number): string {
  const start = timecodeToFrames(timecode, rate);
  return start === undefined ? timecode : framesToTimecode(start + frames, rate, timecode.includes(';'));
}

const DPX_TIMECODE_OFFSET = 1920;

/** The start timecode in a DPX file's television header (BCD), when set. */
export async function readDpxTimecode(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(DPX_TIMECODE_OFFSET + 4);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead < head.length) return undefined;
    const magic = head.toString('latin1', 0, 4);
    if (magic !== 'SDPX' && magic !== 'XPDS') return undefined;
    const bcd = magic === 'SDPX' ? head.readUInt32BE(DPX_TIMECODE_OFFSET) : head.readUInt32LE(DPX_TIMECODE_OFFSET);
    if (bcd === 0xffffffff || bcd === 0) return undefined;
    const digits = Array.from({ length: 8 }, (_, i) => (bcd >>> (28 - 4 * i)) & 0xf);
    if (digits.some((d) => d > 9)) return undefined;
    const pairs = [0, 2, 4, 6].map((i) => `${digits[i]}${digits[i + 1]}`);
    return pairs.join(':');
  } finally {
    await handle.close();
  }
}

/** Writes a timecode into a DPX file's television header (the encoder leaves it unset). */
export async function writeDpxTimecode(path: string, timecode: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const magic = Buffer.alloc(4);
    await handle.read(magic, 0, 4, 0);
    const digits = timecode.replace(/[^0-9]/g, '').split('').map(Number);
    if (digits.length !== 8) return;
    const bcd = digits.reduce((word, d) => ((word << 4) | d) >>> 0, 0);
    const bytes = Buffer.alloc(4);
    if (magic.toString('latin1') === 'SDPX') bytes.writeUInt32BE(bcd);
    else if (magic.toString('latin1') === 'XPDS') bytes.writeUInt32LE(bcd);
    else return;
    await handle.write(bytes, 0, 4, DPX_TIMECODE_OFFSET);
  } finally {
    await handle.close();
  }
}
