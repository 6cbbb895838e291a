import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { node24, repoRoot, runFile } from './support/built-cli.js';
import { installNpmBin } from './support/npm-bin.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
};

/**
 * A Node.js older than engines.node on this machine, outside node_modules: the system's own (Debian's
 * nodejs, which .ci/run installs beside the `node` dev dependency; Node 20 here, whose undici import
 * crashes). The npm bin must refuse it with a sentence, not a stack trace.
 */
async function olderNode(): Promise<{ path: string; version: string }> {
  const dirs = (process.env.PATH ?? '').split(':').filter((d) => d !== '' && !d.includes('node_modules'));
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
    const path = join(dir, 'node');
    if (!existsSync(path)) continue;
    const r = await runFile(path, ['-p', 'process.versions.node']);
    const version = r.stdout.trim();
    if (r.code === 0 && !semver.satisfies(version, pkg.engines.node)) return { path, version };
  }
  throw new Error(
    `no Node.js outside node_modules older than ${pkg.engines.node}: this test runs the npm bin on one (Debian's nodejs)`,
  );
}

let old: { path: string; version: string };
let prefix: string;
let bin: string;

beforeAll(async () => {
  old = await olderNode();
  prefix = mkdtempSync(join(tmpdir(), 'runner-npm-prefix-'));
  bin = await installNpmBin(prefix);
});
afterAll(() => {
  rmSync(prefix, { recursive: true, force: true });
});

describe('an unsupported Node.js', () => {
  const refusal = () =>
    `error: runner ${pkg.version} needs Node.js ${pkg.engines.node} (package.json engines.node); this is Node.js ${old.version} (${old.path}).`;

  it.each([['run', '--config', 'config.toml'], ['validate'], ['version'], ['--help']])(
    'the npm bin refuses `runner %s` with the required version, before any dependency loads',
    async (...args) => {
      const r = await runFile(old.path, [bin, ...args]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.startsWith(refusal()), r.stderr).toBe(true);
      expect(r.stderr).toContain('install.sh');
      expect(r.stderr).not.toMatch(/TypeError|at .*\.js:\d+/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    },
  );

  it('the same bin on a supported Node runs, and `runner version` says which Node it needs', async () => {
    const r = await runFile(node24, [bin, 'version']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`runner ${pkg.version}\n`);
    expect(r.stdout).toContain(`node:    ${process.versions.node} (runner needs ${pkg.engines.node})`);
  });
});
