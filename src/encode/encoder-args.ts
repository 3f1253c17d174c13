import { timecodeAfter } from '../decode/timecode.js';
import type { VideoInfo } from '../decode/probe.js';
import type { ChromaLayout } from '../decode/pixel-format.js';
import type { Container, VideoCodec } from './container.js';
import { planarFormat } from '../decode/pixel-format.js';

export interface EncodeSettings {
  codec: VideoCodec;
  /** Quality for h264/h265 (lower is better); ignored by prores and ffv1. */
  crf: number;
  preset?: string;
}

/** Codec options for our video stream; `bits` is the depth frames are written at (see codecDepth). */
export function videoCodecArgs(settings: EncodeSettings, layout: ChromaLayout, bits = 8): string[] {
  const pixelFormat = planarFormat(layout, bits);
  switch (settings.codec) {
    case 'h264':
      return ['-c:v', 'libx264', '-preset', settings.preset ?? 'medium', '-crf', String(settings.crf), '-pix_fmt', layout];
    case 'h265':
      return ['-c:v', 'libx265', '-preset', settings.preset ?? 'medium', '-crf', String(settings.crf), '-pix_fmt', pixelFormat, '-x265-params', 'log-level=error'];
    case 'prores':
      // ProRes 4444 for 4:4:4 sources, 422 HQ otherwise; prores_ks takes 10-bit samples.
      return ['-c:v', 'prores_ks', '-profile:v', layout === 'yuv444p' ? '4' : '3', '-pix_fmt', layout === 'yuv444p' ? 'yuv444p10le' : 'yuv422p10le'];
    case 'ffv1':
      return ['-c:v', 'ffv1', '-level', '3', '-slicecrc', '1', '-pix_fmt', pixelFormat];
  }
}

/** The ffmpeg encoder and input pixel format our video stream is written with. */
export function encoderInput(codec: VideoCodec, layout: ChromaLayout, bits: number): { encoder: string; pixelFormat: string } {
  const args = videoCodecArgs({ codec, crf: 18 }, layout, bits);
  return { encoder: args[args.indexOf('-c:v') + 1], pixelFormat: args[args.lastIndexOf('-pix_fmt') + 1] };
}

/** Sample depths each codec stores (with the bundled encoders: libx264 is 8-bit only, prores_ks 10-bit). */
const CODEC_DEPTHS: Record<VideoCodec, readonly number[]> = {
  h264: [8],
  h265: [8, 10, 12],
  prores: [10],
  ffv1: [8, 9, 10, 12, 14, 16],
};

/** Bits per sample of the video a render writes: 8-bit sources stay 8-bit; deeper ones keep their depth in an image sequence, else what the codec holds (codecDepth). */
export function outputDepth(codec: VideoCodec, sourceBits: number, sequenceOut: boolean): number {
  return sourceBits <= 8 ? 8 : sequenceOut ? sourceBits : codecDepth(codec, sourceBits);
}

/** The depth a codec writes a source of `sourceBits` at: the source's own where it can, else the nearest it has. */
export function codecDepth(codec: VideoCodec, sourceBits: number): number {
  const depths = CODEC_DEPTHS[codec];
  return depths.find((d) => d >= sourceBits) ?? depths[depths.length - 1];
}

/** The codec used when none is asked for: one that keeps the source's depth (lossless FFV1 above 8 bits). */
export function defaultCodecFor(sourceBits: number): VideoCodec {
  return sourceBits > 8 ? 'ffv1' : 'h264';
}

/** Color description, aspect and rotation of the source, so players show the output as they showed the input. */
export function videoMetadataArgs(info: VideoInfo, outputWidthFactor = 1, firstFrame = 0): string[] {
  const args: string[] = [];
  const tags = info.colorTags;
  if (tags.primaries) args.push('-color_primaries', tags.primaries);
  if (tags.transfer) args.push('-color_trc', tags.transfer);
  if (tags.space) args.push('-colorspace', tags.space);
  args.push('-color_range', info.colorRange === 'full' ? 'pc' : 'tv');
  // Archival identity: the start timecode (MOV writes a tmcd track from it) and the reel name.
  const timecode = info.timecode && firstFrame > 0 ? timecodeAt(info.timecode, info.fps, firstFrame) : info.timecode;
  if (timecode) args.push('-metadata', `timecode=${timecode}`);
  if (info.reel) args.push('-metadata:s:v:0', `reel_name=${info.reel}`);
  const [num, den] = info.sampleAspectRatio.split(':').map(Number);
  if (num && den && outputWidthFactor === 1) args.push('-vf', `setsar=${num}/${den}`);
  return args;
}

/** Stream mapping and codecs for the source's audio and subtitles (input #1 of the encoder). */
export function passthroughStreamArgs(info: VideoInfo, container: Container): string[] {
  const args: string[] = [];
  info.audioStreams.forEach((stream, i) => {
    args.push('-map', `1:${stream.index}`);
    const copyable = !container.audioCopy || container.audioCopy.includes(stream.codec);
    args.push(`-c:a:${i}`, ...(copyable ? ['copy'] : ['aac', `-b:a:${i}`, '192k']));
  });
  const textSubtitles = ['subrip', 'ass', 'ssa', 'mov_text', 'webvtt', 'text'];
  let s = 0;
  for (const stream of info.subtitleStreams) {
    if (container.subtitles === 'none') break;
    if (container.subtitles === 'mov_text' && !textSubtitles.includes(stream.codec)) continue;
    args.push('-map', `1:${stream.index}`, `-c:s:${s}`, container.subtitles === 'copy' ? 'copy' : 'mov_text');
    s++;
  }
  return args;
}

/** The source's timecode counted on to a later frame (a preview or chunk starts there); drop-frame code stays drop-frame, unreadable codes stay as they are. */
export function timecodeAt(timecode: string, fps: number, frame: number): string {
  return timecodeAfter(timecode, Math.round(fps), frame);
}
