import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from './helpers/media.js';

/**
 * What a newcomer does: `npm ci` on a fresh checkout, then `npm pack` and an install of the
 * tarball into an empty folder. npm's cache is warm from the project's own install, so this
 * runs offline too (--prefer-offline falls back to the registry only for what is missing).
 */

let dir: string;
let checkout: string;
let tarball: string;

/** npm as a user runs it: without the npm_* variables of the `npm test` that started vitest. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key) && key !== 'INIT_CWD') env[key] = value;
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, env = userEnv()): Promise<{ code: number; stdout: string; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, output: `${stdout}${stderr}` });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-install-'));
  checkout = join(dir, 'checkout');
  // The files a fresh clone of this working tree would have (tracked and new, nothing ignored).
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    if (!existsSync(file)) continue; // deleted in the working tree
    await mkdir(dirname(join(checkout, file)), { recursive: true });
    await copyFile(file, join(checkout, file));
  }
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('install', () => {
  it('npm ci on a fresh checkout: no warnings, nothing fetched outside the npm registry, no CUDA download, lockfile untouched', async () => {
    const lockBefore = await readFile(join(checkout, 'package-lock.json'), 'utf8');
    const registry = new URL((await run('npm', ['config', 'get', 'registry'], checkout)).output.trim()).host;
    const { code, output } = await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=info'], checkout);
    expect(code, output).toBe(0);
    expect(output).not.toMatch(/npm warn/i);
    expect(output).not.toMatch(/Unknown project config|Missing: .* from lock file/);
    // npm's own fetches go to the registry only; no install script of a dependency runs a download.
    for (const url of output.match(/https?:\/\/[^\s)'"]+/g) ?? []) expect(new URL(url).host, url).toBe(registry);
    expect(output).not.toMatch(/run onnxruntime-node@\S+ postinstall/);
    const ortBin = join(checkout, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
    expect(existsSync(join(ortBin, 'libonnxruntime_providers_cuda.so'))).toBe(false);
    expect(await readFile(join(checkout, 'package-lock.json'), 'utf8')).toBe(lockBefore);
    // `prepare` built the command.
    expect(existsSync(join(checkout, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
  }, 300_000);

  it('npm pack holds what the installed command needs, and nothing of the development tree', async () => {
    const { code, stdout, output } = await run('npm', ['pack', '--json', '--pack-destination', dir], checkout);
    expect(code, output).toBe(0);
    // stdout also carries the output of the `prepare` build that npm pack runs first.
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(dir, packed.filename);
    const paths = packed.files.map((f) => f.path);
    for (const needed of [
      'bin/colorize-video.js',
      'dist/src/cli/main.js',
      'dist/src/color/compose-worker.js',
      'dist/src/temporal/worker.js',
      'models/model.json',
      'models/global.onnx',
      'models/colorizer.onnx',
      'package.json',
      'README.md',
    ]) {
      expect(paths, needed).toContain(needed);
    }
    expect(paths.filter((p) => /^(test|training|src|scripts|bench|samples|\.ci)\//.test(p))).toEqual([]);
  }, 300_000);

  it('the packed tarball installs into an empty folder and runs: --version and a short colorize', async () => {
    expect(tarball).toBeDefined();
    const app = join(dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
    // Outside this project its allowScripts does not apply: the documented variable skips the CUDA download.
    const env = userEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip' });
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app, env);
    expect(install.code, install.output).toBe(0);
    const bin = join(app, 'node_modules', '.bin', 'colorize-video');
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const shown = await run(bin, ['--version'], app, env);
    expect(shown.code, shown.output).toBe(0);
    expect(shown.output.trim()).toBe(version);

    const clip = await makeClip(join(app, 'clip.mp4'), { video: 'testsrc2=size=96x64:rate=25', seconds: 0.2 });
    const colored = await run(bin, [clip, '--json'], app, env);
    expect(colored.code, colored.output).toBe(0);
    const summary = JSON.parse(colored.stdout) as { output: string; frames: number };
    expect(summary).toMatchObject({ output: join(app, 'clip.color.mp4'), frames: 5 });
    expect(existsSync(summary.output)).toBe(true);
  }, 300_000);
});
