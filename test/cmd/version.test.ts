import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './support/built-cli.js';

describe('runner version', () => {
  it('prints version, commit, node and platform', async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`runner ${pkg.version}\n`);
    expect(r.stdout).toMatch(/^ {2}commit: {2}test$/m);
    expect(r.stdout).toContain(`node:    ${process.versions.node}`);
    expect(r.stdout).toContain(`os/arch: ${process.platform}/${process.arch}`);
    expect(r.stdout).toContain('install: npm package');
  });

  it('--json is one JSON object; --short is the bare version', async () => {
    const json = await runCli(['version', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      commit: 'test',
      date: '2020-01-01T00:00:00.000Z',
      node: process.versions.node,
      nodeRange: expect.stringMatching(/^>=\d+/),
      os: process.platform,
      arch: process.arch,
      distribution: 'npm',
      // runCli starts the bundle with node directly, without the shebang's flags.
      nodeFlags: [],
    });
    const short = await runCli(['version', '--short']);
    expect(short.stdout).toBe(`${JSON.parse(json.stdout).version}\n`);
  });

  it('`runner --version` and `-V` print the bare version; `update --version` stays update’s own', async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${pkg.version}\n`);
    }
    const update = await runCli([
      'update',
      '--version',
      'x.y',
      '--check',
      '--base-url',
      'http://127.0.0.1:9',
    ]);
    expect(update.stdout).not.toBe(`${pkg.version}\n`);
    expect(update.stderr).toMatch(/^error: .*x\.y/m);
  });

  it('--help shows examples', async () => {
    const r = await runCli(['version', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--short');
  });
});
