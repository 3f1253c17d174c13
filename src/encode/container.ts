import { extname } from 'node:path';
import { UserError } from '../decode/errors.js';

export type VideoCodec = 'h264' | 'h265' | 'prores' | 'ffv1';
export const VIDEO_CODECS: readonly VideoCodec[] = ['h264', 'h265', 'prores', 'ffv1'];

export interface Container {
  muxer: string;
  /** Codecs this container can hold. */
  codecs: readonly VideoCodec[];
  faststart: boolean;
  /** Subtitle handling: copy as they are, convert text subtitles to mov_text, or none. */
  subtitles: 'copy' | 'mov_text' | 'none';
  /** Audio codecs that can be copied; others are re-encoded to AAC. undefined = any. */
  audioCopy?: readonly string[];
}

const MP4_AUDIO = ['aac', 'mp3', 'ac3', 'eac3', 'alac', 'opus', 'flac'];

const CONTAINERS: Record<string, Container> = {
  '.mp4': { muxer: 'mp4', codecs: ['h264', 'h265'], faststart: true, subtitles: 'mov_text', audioCopy: MP4_AUDIO },
  '.m4v': { muxer: 'mp4', codecs: ['h264', 'h265'], faststart: true, subtitles: 'mov_text', audioCopy: MP4_AUDIO },
  '.mov': { muxer: 'mov', codecs: ['h264', 'h265', 'prores', 'ffv1'], faststart: true, subtitles: 'mov_text', audioCopy: [...MP4_AUDIO, 'pcm_s16le', 'pcm_s24le', 'pcm_s16be', 'pcm_s24be'] },
  '.mkv': { muxer: 'matroska', codecs: ['h264', 'h265', 'prores', 'ffv1'], faststart: false, subtitles: 'copy' },
  '.avi': { muxer: 'avi', codecs: ['h264', 'ffv1'], faststart: false, subtitles: 'none', audioCopy: ['mp3', 'ac3', 'pcm_s16le'] },
};

export function containerFor(path: string): Container {
  const ext = extname(path).toLowerCase();
  const container = CONTAINERS[ext];
  if (!container) throw new UserError(`unsupported output type "${ext || '(none)'}": use one of ${Object.keys(CONTAINERS).join(', ')}`, 2);
  return container;
}

export function checkCodecFits(path: string, codec: VideoCodec): void {
  const container = containerFor(path);
  if (!container.codecs.includes(codec)) {
    const fits = Object.entries(CONTAINERS).filter(([, c]) => c.codecs.includes(codec)).map(([e]) => e);
    throw new UserError(`codec ${codec} cannot be stored in ${extname(path)} files: use ${fits.join(', ')}`, 2);
  }
}

/** The output extension used by default: the input's own when it can hold the codec. */
export function defaultExtension(inputPath: string, codec: VideoCodec): string {
  const ext = extname(inputPath).toLowerCase();
  if (CONTAINERS[ext]?.codecs.includes(codec)) return ext;
  return codec === 'h264' || codec === 'h265' ? '.mp4' : '.mkv';
}
