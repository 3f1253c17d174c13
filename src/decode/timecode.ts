import { open } from 'node:fs/promises';

/** SMPTE timecode hh:mm:ss:ff (non-drop) <-> frame count at an integer timecode rate. */
export function timecodeToFrames(timecode: string, rate: number): number | undefined {
  const m = /^(\d{2}):(\d{2}):(\d{2})[:;.](\d{2})$/.exec(timecode);
  if (!m) return undefined;
  const [h, min, s, f] = m.slice(1).map(Number);
  return ((h * 60 + min) * 60 + s) * rate + f;
}

export function framesToTimecode(frames: number, rate: number): string {
  const f = frames % rate;
  const totalSeconds = Math.floor(frames / rate);
  const s = totalSeconds % 60;
  const min = Math.floor(totalSeconds / 60) % 60;
  const h = Math.floor(totalSeconds / 3600) % 24;
  return [h, min, s, f].map((v) => String(v).padStart(2, '0')).join(':');
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
