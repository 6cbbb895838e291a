import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveBaseUrl } from '../../src/release/layout.js';
import { type InstallKind, installKind } from '../../src/update/install-kind.js';
import { describeOutcome, runUpdate, type UpdateOptions } from '../../src/update/update.js';
import { fakeExecutable, makeRelease, tamperChecksum } from './fixtures.js';
import { ReleaseServer } from './release-server.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('runUpdate against a local release server', () => {
  let dir: string;
  let releases: string;
  let server: ReleaseServer;
  let bin: string;
  const original = Buffer.from('#!/bin/sh\necho "installed 0.9.9"\n');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runner-update-'));
    releases = join(dir, 'releases');
    server = await ReleaseServer.start(releases);
    bin = join(dir, 'bin', 'runner');
    await mkdir(join(dir, 'bin'));
    await writeFile(bin, original, { mode: 0o755 });
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  function options(overrides: Partial<UpdateOptions> = {}): UpdateOptions {
    return {
      baseUrl: server.baseUrl,
      current: '0.9.9',
      allowDowngrade: false,
      timeoutMs: 10_000,
      check: false,
      sea: true,
      executable: bin,
      confirm: async () => true,
      say: () => {},
      ...overrides,
    };
  }

  it('semver, not strings: 0.10.0 replaces 0.9.9 after the checksum matched; 0755, no temp file left', async () => {
    await makeRelease(releases, '0.10.0');
    server.latest = '0.10.0';
    const outcome = await runUpdate(options());
    expect(outcome).toMatchObject({
      result: 'replaced',
      decision: { current: '0.9.9', target: '0.10.0' },
      path: bin,
    });
    expect(await readFile(bin)).toEqual(fakeExecutable('0.10.0'));
    expect((await stat(bin)).mode & 0o777).toBe(0o755);
    expect(await readdir(join(dir, 'bin'))).toEqual(['runner']);
    expect(server.requests).toEqual([
      'GET /releases/latest/download/latest.json',
      'GET /releases/download/v0.10.0/latest.json',
      expect.stringMatching(/^GET \/releases\/download\/v0\.10\.0\/(runner-.*\.tar\.gz|checksums\.txt)$/),
      expect.stringMatching(/^GET \/releases\/download\/v0\.10\.0\/(runner-.*\.tar\.gz|checksums\.txt)$/),
    ]);
  });

  it('replaces the real file behind a symlink, not the link', async () => {
    await makeRelease(releases, '1.0.0');
    server.latest = '1.0.0';
    const link = join(dir, 'runner-link');
    await symlink(bin, link);
    await runUpdate(options({ executable: link }));
    expect(await readFile(bin)).toEqual(fakeExecutable('1.0.0'));
  });

  it('a checksum mismatch refuses before writing: the installed binary is byte-for-byte untouched', async () => {
    await tamperChecksum(await makeRelease(releases, '1.0.0'));
    server.latest = '1.0.0';
    await expect(runUpdate(options())).rejects.toMatchObject({
      code: 'UPDATE_CHECKSUM_MISMATCH',
      message: expect.stringMatching(/does not match checksums.txt.*nothing was changed/),
    });
    expect(sha(await readFile(bin))).toBe(sha(original));
    expect(await readdir(join(dir, 'bin'))).toEqual(['runner']);
  });

  it('a checksums.txt without our archive is refused as unverified', async () => {
    const rel = await makeRelease(releases, '1.0.0');
    await writeFile(join(rel, 'checksums.txt'), `${'a'.repeat(64)}  something-else.tar.gz\n`);
    server.latest = '1.0.0';
    await expect(runUpdate(options())).rejects.toMatchObject({ code: 'UPDATE_CHECKSUM_MISSING' });
    expect(await readFile(bin)).toEqual(original);
  });

  it('never downgrades to an older latest release', async () => {
    await makeRelease(releases, '0.9.0');
    server.latest = '0.9.0';
    const outcome = await runUpdate(options());
    expect(outcome).toMatchObject({
      result: 'nothing-to-do',
      decision: { action: 'ahead', target: '0.9.0' },
    });
    expect(await readFile(bin)).toEqual(original);
    expect(server.requests.some((r) => r.endsWith('.tar.gz'))).toBe(false);
  });

  it('a pinned older version needs --allow-downgrade', async () => {
    await makeRelease(releases, '0.9.0');
    await expect(runUpdate(options({ pin: '0.9.0' }))).rejects.toMatchObject({
      code: 'UPDATE_DOWNGRADE',
      message: expect.stringContaining('--allow-downgrade'),
    });
    expect(await readFile(bin)).toEqual(original);
    const outcome = await runUpdate(options({ pin: 'v0.9.0', allowDowngrade: true }));
    expect(outcome).toMatchObject({ result: 'replaced', decision: { action: 'downgrade', target: '0.9.0' } });
    expect(await readFile(bin)).toEqual(fakeExecutable('0.9.0'));
  });

  it('--check reports and downloads nothing but latest.json', async () => {
    await makeRelease(releases, '2.0.0');
    server.latest = '2.0.0';
    const outcome = await runUpdate(options({ check: true }));
    expect(outcome).toEqual({
      result: 'checked',
      decision: { action: 'update', current: '0.9.9', target: '2.0.0' },
      install: 'binary',
    });
    expect(describeOutcome(outcome)).toBe(
      'runner 2.0.0 is available (this is 0.9.9); install it with `runner update`',
    );
    expect(server.requests.every((r) => r.endsWith('latest.json'))).toBe(true);
  });

  it('an npm install is refused with the npm command, after the check', async () => {
    await makeRelease(releases, '2.0.0');
    server.latest = '2.0.0';
    await expect(runUpdate(options({ sea: false, install: 'npm-global' }))).rejects.toMatchObject({
      code: 'UPDATE_NOT_BINARY',
      message: expect.stringContaining('npm install -g runner@2.0.0'),
    });
    expect(await readFile(bin)).toEqual(original);
  });

  it('--check suggests the command that matches how runner was installed', async () => {
    await makeRelease(releases, '2.0.0');
    server.latest = '2.0.0';
    const said = async (install: InstallKind) =>
      describeOutcome(await runUpdate(options({ check: true, sea: false, install })));
    expect(await said('npm-global')).toBe(
      'runner 2.0.0 is available (this is 0.9.9); install it with `npm install -g runner@2.0.0`',
    );
    expect(await said('npm-local')).toBe(
      'runner 2.0.0 is available (this is 0.9.9); install it with `npm install runner@2.0.0` in the project that runs it',
    );
    expect(await said('source')).toContain('`git pull && npm ci` in the checkout it runs from');
    await makeRelease(releases, '0.9.0');
    const pinned = options({
      check: true,
      sea: false,
      install: 'npm-global',
      pin: '0.9.0',
      allowDowngrade: true,
    });
    expect(describeOutcome(await runUpdate(pinned))).toBe(
      'runner 0.9.0 is older than this 0.9.9; `npm install -g runner@0.9.0` would install it',
    );
  });

  it('a release location is https, or plain http to loopback only (as install.sh says and checks)', () => {
    expect(resolveBaseUrl('https://github.com/o/runner/releases/', {})).toBe(
      'https://github.com/o/runner/releases',
    );
    for (const ok of ['http://127.0.0.1:8080/r', 'http://localhost/r', 'http://[::1]:9/r']) {
      expect(resolveBaseUrl(ok, {})).toBe(ok);
    }
    for (const bad of ['http://example.com/r', 'http://127.0.0.1.example.com/r', 'ftp://example.com/r']) {
      expect(() => resolveBaseUrl(bad, {})).toThrow(
        `release base URL must start with https:// (plain http:// only to 127.0.0.1, localhost or [::1]), got ${bad}`,
      );
    }
  });

  it('tells the install from where the code lives', () => {
    expect(installKind(true, '/anything')).toBe('binary');
    expect(installKind(false, '/usr/local/lib/node_modules/runner/dist/src/update/install-kind.js')).toBe(
      'npm-global',
    );
    expect(
      installKind(false, '/home/u/.nvm/versions/node/v24.1.0/lib/node_modules/runner/dist/src/update/x.js'),
    ).toBe('npm-global');
    expect(installKind(false, '/srv/app/node_modules/runner/dist/src/update/install-kind.js')).toBe(
      'npm-local',
    );
    expect(installKind(false, '/home/u/src/runner/src/update/install-kind.ts')).toBe('source');
  });

  it('a stalled download times out with the URL and a hint', async () => {
    await makeRelease(releases, '2.0.0');
    server.latest = '2.0.0';
    server.stall.add('.tar.gz');
    await expect(runUpdate(options({ timeoutMs: 300 }))).rejects.toMatchObject({
      code: 'UPDATE_TIMEOUT',
      message: expect.stringMatching(
        /GET http:\/\/127\.0\.0\.1:\d+\/releases\/download\/v2\.0\.0\/runner-.*\.tar\.gz did not finish .*--timeout/,
      ),
    });
    expect(await readFile(bin)).toEqual(original);
  });

  it('a missing release is a 404 that names the URL; a declined confirmation changes nothing', async () => {
    await expect(runUpdate(options({ pin: '3.0.0' }))).rejects.toMatchObject({
      code: 'UPDATE_HTTP',
      message: expect.stringMatching(/GET .*\/download\/v3\.0\.0\/.* answered 404/),
    });
    await makeRelease(releases, '2.0.0');
    server.latest = '2.0.0';
    await expect(runUpdate(options({ confirm: async () => false }))).rejects.toMatchObject({
      code: 'UPDATE_NOT_CONFIRMED',
    });
    expect(await readFile(bin)).toEqual(original);
  });
});
