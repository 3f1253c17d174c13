import type { FrameGeometry } from '../decode/frame.js';

/**
 * Raw frames that carry their own presentation times, for ffmpeg's stdin.
 *
 * Rawvideo and y4m on a pipe have no per-frame times, and the bundled 2018 ffmpeg has no `setts`
 * to put them back afterwards, so a variable-frame-rate film is written as a minimal Matroska
 * stream instead: one uncompressed track (V_UNCOMPRESSED with the pixel format's FourCC) and one
 * cluster per frame. Times are in nanoseconds (TimecodeScale 1), which every source time base
 * rounds back to exactly.
 */

/** Matroska element IDs used here. */
const ID = {
  ebml: 0x1a45dfa3,
  ebmlVersion: 0x4286,
  ebmlReadVersion: 0x42f7,
  maxIdLength: 0x42f2,
  maxSizeLength: 0x42f3,
  docType: 0x4282,
  docTypeVersion: 0x4287,
  docTypeReadVersion: 0x4285,
  segment: 0x18538067,
  info: 0x1549a966,
  timecodeScale: 0x2ad7b1,
  muxingApp: 0x4d80,
  writingApp: 0x5741,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  trackNumber: 0xd7,
  trackUid: 0x73c5,
  trackType: 0x83,
  flagLacing: 0x9c,
  codecId: 0x86,
  video: 0xe0,
  pixelWidth: 0xb0,
  pixelHeight: 0xba,
  colourSpace: 0x2eb524,
  cluster: 0x1f43b675,
  timecode: 0xe7,
  simpleBlock: 0xa3,
} as const;

/** A Matroska "unknown size": the segment is streamed, its length is not known up front. */
const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** The FourCC ffmpeg's raw pixel-format table gives a planar Y'CbCr format (I420, Y42B, 444P, or Y3 + layout + depth). */
export function rawFourcc(layout: FrameGeometry['layout'], bits: number): Buffer {
  if (bits <= 8) return Buffer.from(layout === 'yuv420p' ? 'I420' : layout === 'yuv422p' ? 'Y42B' : '444P', 'latin1');
  const subsampling = layout === 'yuv420p' ? 11 : layout === 'yuv422p' ? 10 : 0;
  return Buffer.from([0x59, 0x33, subsampling, bits]);
}

/** The stream header: EBML header, an open-ended segment, timing info and the one video track. */
export function timedStreamHeader(geometry: FrameGeometry): Buffer {
  const { width, height, layout, bits } = geometry;
  return Buffer.concat([
    element(ID.ebml, [
      element(ID.ebmlVersion, unsigned(1)),
      element(ID.ebmlReadVersion, unsigned(1)),
      element(ID.maxIdLength, unsigned(4)),
      element(ID.maxSizeLength, unsigned(8)),
      element(ID.docType, Buffer.from('matroska')),
      element(ID.docTypeVersion, unsigned(4)),
      element(ID.docTypeReadVersion, unsigned(2)),
    ]),
    elementId(ID.segment),
    UNKNOWN_SIZE,
    element(ID.info, [element(ID.timecodeScale, unsigned(1)), element(ID.muxingApp, Buffer.from('colorize-video')), element(ID.writingApp, Buffer.from('colorize-video'))]),
    element(ID.tracks, [
      element(ID.trackEntry, [
        element(ID.trackNumber, unsigned(1)),
        element(ID.trackUid, unsigned(1)),
        element(ID.trackType, unsigned(1)),
        element(ID.flagLacing, unsigned(0)),
        element(ID.codecId, Buffer.from('V_UNCOMPRESSED')),
        element(ID.video, [element(ID.pixelWidth, unsigned(width)), element(ID.pixelHeight, unsigned(height)), element(ID.colourSpace, rawFourcc(layout, bits))]),
      ]),
    ]),
  ]);
}

/**
 * What goes before one frame's `frameBytes` bytes of planes: a cluster at the frame's time holding
 * one keyframe block. The planes themselves follow unchanged, so no frame is copied to wrap it.
 */
export function timedFrameHeader(nanoseconds: bigint, frameBytes: number): Buffer {
  const blockHeader = Buffer.from([0x81, 0x00, 0x00, 0x80]); // track 1, time +0, keyframe
  const block = Buffer.concat([elementId(ID.simpleBlock), size(blockHeader.length + frameBytes), blockHeader]);
  const time = element(ID.timecode, unsigned(nanoseconds));
  return Buffer.concat([elementId(ID.cluster), size(time.length + block.length + frameBytes), time, block]);
}

/** Ticks of a `num/den` time base in nanoseconds, rounded to the nearest (exact integer arithmetic). */
export function ticksToNanoseconds(ticks: number, timeBase: readonly [number, number]): bigint {
  const [num, den] = timeBase.map(BigInt);
  const scaled = BigInt(ticks) * num * 1_000_000_000n;
  return (scaled + den / 2n) / den;
}

function element(id: number, body: Buffer | Buffer[]): Buffer {
  const data = Array.isArray(body) ? Buffer.concat(body) : body;
  return Buffer.concat([elementId(id), size(data.length), data]);
}

function elementId(id: number): Buffer {
  const hex = id.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

/** An element size as an 8-byte EBML variable-length integer (room for any frame). */
function size(bytes: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(bytes));
  out[0] = 0x01;
  return out;
}

function unsigned(value: number | bigint): Buffer {
  let hex = BigInt(value).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}
