import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, parsePartialName, temporaryPathFor } from '../src/encode/temp-files.js';
import { makeClip, runCli } from './helpers/media.js';
import { writeTestModel } from './helpers/test-models.js';

let dir: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'colorize-stale-'));
  model = await writeTestModel(join(dir, 'model'), { a: 10, b: -10, workingShortSide: 64 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('temporary names', () => {
  it('carry a fixed marker, the host and the process id', () => {
    const path = temporaryPathFor('/films/reel 1.color.mp4');
    const name = path.slice('/films/'.length);
    expect(name).toMatch(/^\.reel 1\.color\.partial-colorize-[A-Za-z0-9]+-\d+-[0-9a-f]{6}\.mp4$/);
    expect(parsePartialName(name)).toEqual({ stem: 'reel 1.color', host: hostname().replace(/[^A-Za-z0-9]/g, '').slice(0, 32), pid: process.pid });
    for (const other of ['reel.color.mp4', '.reel.color.partial-123-abcdef.mp4', '.reel.color.partial-colorize-notes.mp4', 'reel.partial-colorize-h-1-abcdef.mp4']) {
      expect(parsePartialName(other), other).toBeUndefined();
    }
  });
});

describe('a render killed with kill -9', () => {
  it('leaves a partial that the next run of the same output removes, and nothing else is touched', async () => {
    const work = join(dir, 'killed');
    await rm(work, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(work));
    const film = await makeClip(join(work, 'film.mp4'), { video: 'testsrc2=size=320x192:rate=25', seconds: 20 });
    let pid = 0;
    const running = runCli([film, '--model', model], { onSpawn: (p) => (pid = p) });
    const partials = async () => (await readdir(work)).filter((n) => parsePartialName(n) !== undefined);
    for (let i = 0; i < 400 && (await partials()).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await partials()).toHaveLength(1);
    process.kill(pid, 'SIGKILL');
    const killed = await running;
    expect(killed.signal).toBe('SIGKILL');
    expect(isAlive(pid)).toBe(false);
    const [leftover] = await partials();
    expect(parsePartialName(leftover)).toMatchObject({ stem: 'film.color', pid });
    expect(existsSync(join(work, 'film.color.mp4'))).toBe(false);

    // Files that must survive: a partial of a process that still runs (this one), one written on
    // another host, one of another output, and a user's files that only look alike.
    const host = hostname().replace(/[^A-Za-z0-9]/g, '').slice(0, 32);
    const keep = [
      `.film.color.partial-colorize-${host}-${process.pid}-aaaaaa.mp4`,
      `.film.color.partial-colorize-otherhost-${pid}-bbbbbb.mp4`,
      `.other.color.partial-colorize-${host}-${pid}-cccccc.mp4`,
      '.film.color.partial-colorize-notes.mp4',
      'film.color.partial-colorize.txt',
    ];
    for (const name of keep) await writeFile(join(work, name), 'not yours');

    const again = await runCli([join(work, 'film.mp4'), '--model', model, '--duration', '0.4']);
    expect(again.code, again.stderr).toBe(0);
    expect((await readdir(work)).sort()).toEqual(['film.color.mp4', 'film.mp4', ...keep].sort());
  });
});
