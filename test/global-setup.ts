import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The CLI tests run the compiled program, as users do: build it once before any test. */
export default function setup(): () => void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  execFileSync('npx', ['tsc', '-p', 'tsconfig.web.json'], { stdio: 'inherit' });
  // Shot lists are cached per file; tests must not share a cache with the user or each other's runs.
  const cache = mkdtempSync(join(tmpdir(), 'colorize-video-cache-'));
  process.env.COLORIZE_VIDEO_CACHE = cache;
  return () => rmSync(cache, { recursive: true, force: true });
}
