import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { ScriptError, datasetDir } from './paths.js';

/**
 * Paths of the eval clips in ../shared/datasets/eval/videos, sorted; `wanted` (comma-separated,
 * with or without extension) picks some, and a name that is not there is a one-line error.
 */
export async function evalVideos(wanted?: string): Promise<string[]> {
  const videoDir = datasetDir('eval', 'videos');
  let videos = (await readdir(videoDir)).filter((f) => /\.(mp4|mkv|mov|avi)$/i.test(f)).sort();
  if (wanted) {
    const names = wanted.split(',').map((v) => v.trim());
    const matches = (video: string, name: string) => video === name || basename(video, extname(video)) === name;
    const unknown = names.filter((name) => !videos.some((video) => matches(video, name)));
    if (unknown.length > 0) throw new ScriptError(`no eval video named ${unknown.join(', ')} (have ${videos.join(', ')})`);
    videos = videos.filter((video) => names.some((name) => matches(video, name)));
  }
  if (videos.length === 0) throw new ScriptError(`no videos in ${videoDir}`);
  return videos.map((video) => join(videoDir, video));
}
