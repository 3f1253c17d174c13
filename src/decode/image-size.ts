import { open } from 'node:fs/promises';

/**
 * Width and height from an image file's header (PNG, DPX, TIFF), read without decoding; undefined
 * for other formats or headers this does not understand. Cheap enough to check every frame of a
 * scanned reel.
 */
export async function imageSize(path: string): Promise<{ width: number; height: number } | undefined> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const b = head.subarray(0, bytesRead);
    if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47) return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
    if (b.length >= 780 && (b.toString('latin1', 0, 4) === 'SDPX' || b.toString('latin1', 0, 4) === 'XPDS')) {
      const big = b.toString('latin1', 0, 4) === 'SDPX';
      return big ? { width: b.readUInt32BE(772), height: b.readUInt32BE(776) } : { width: b.readUInt32LE(772), height: b.readUInt32LE(776) };
    }
    if (b.length >= 8 && (b.toString('latin1', 0, 2) === 'II' || b.toString('latin1', 0, 2) === 'MM')) return await tiffSize(handle, b.toString('latin1', 0, 2) === 'II');
    return undefined;
  } finally {
    await handle.close();
  }
}

async function tiffSize(handle: Awaited<ReturnType<typeof open>>, little: boolean): Promise<{ width: number; height: number } | undefined> {
  const read = async (offset: number, length: number) => {
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, offset);
    return buf;
  };
  const header = await read(0, 8);
  const u16 = (buf: Buffer, at: number) => (little ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const u32 = (buf: Buffer, at: number) => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const ifd = u32(header, 4);
  const count = u16(await read(ifd, 2), 0);
  const entries = await read(ifd + 2, count * 12);
  let width: number | undefined;
  let height: number | undefined;
  for (let i = 0; i < count; i++) {
    const e = i * 12;
    const tag = u16(entries, e);
    const type = u16(entries, e + 2);
    const value = type === 3 ? u16(entries, e + 8) : u32(entries, e + 8);
    if (tag === 256) width = value;
    if (tag === 257) height = value;
  }
  return width !== undefined && height !== undefined ? { width, height } : undefined;
}
