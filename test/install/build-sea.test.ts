import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChecksums, sha256Hex } from '../../src/release/checksums.js';
import { extractFromTarGz } from '../../src/release/tar.js';
import { NODE_FLAGS } from '../../src/runtime-flags.js';
import { node24, nodeOnPath, repoRoot, runFile } from '../cmd/support/built-cli.js';
import { startFakeActionsService } from '../fakes/actions-service/index.js';
import { useDocker } from '../setup/docker.js';
import { hostTarget } from '../update/fixtures.js';

/** The release build as a maintainer runs it: `node --import tsx scripts/build-sea.ts --out DIR`. */
useDocker();

describe('scripts/build-sea.ts', () => {
  let out: string;
  let build: { code: number; stdout: string; stderr: string };
  let ms: number;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'runner-release-'));
    const started = Date.now();
    build = await runFile(
      node24,
      ['--import', 'tsx', join(repoRoot, 'scripts/build-sea.ts'), '--out', out, '--version', '3.1.4'],
      {
        cwd: repoRoot,
        timeoutMs: 170_000,
      },
    );
    ms = Date.now() - started;
  }, 180_000);
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('builds in under two minutes and lists what it wrote', () => {
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
    expect(ms).toBeLessThan(120_000);
    expect(build.stdout).toMatch(/^built runner 3\.1\.4 \(\d+\.\d MiB\) in \d+\.\d s:/);
    for (const f of [`runner-${hostTarget}`, `runner-${hostTarget}.tar.gz`, 'latest.json', 'checksums.txt']) {
      expect(build.stdout).toContain(join(out, f));
    }
  });

  it('checksums.txt covers the binary and the archive, and the archive holds the same binary as runner', async () => {
    const sums = parseChecksums(await readFile(join(out, 'checksums.txt'), 'utf8'));
    const binary = await readFile(join(out, `runner-${hostTarget}`));
    const archive = await readFile(join(out, `runner-${hostTarget}.tar.gz`));
    expect(sums.get(`runner-${hostTarget}`)).toBe(sha256Hex(binary));
    expect(sums.get(`runner-${hostTarget}.tar.gz`)).toBe(sha256Hex(archive));
    expect(extractFromTarGz(archive, 'runner')?.equals(binary)).toBe(true);
    expect(JSON.parse(await readFile(join(out, 'latest.json'), 'utf8'))).toMatchObject({ version: '3.1.4' });
    // The system tools that install.sh uses agree.
    expect((await runFile('sha256sum', ['-c', 'checksums.txt'], { cwd: out })).code).toBe(0);
    expect((await runFile('tar', ['-tzvf', `runner-${hostTarget}.tar.gz`], { cwd: out })).stdout).toMatch(
      /^-rwxr-xr-x 0\/0 .* runner$/m,
    );
  });

  it('the binary runs version and --help with no node on PATH', async () => {
    const env = { PATH: join(out, 'empty-bin') };
    expect(await nodeOnPath(env)).toBe(false);
    const bin = join(out, `runner-${hostTarget}`);
    const version = await runFile(bin, ['version', '--json'], { env });
    expect(version.stderr).toBe('');
    expect(JSON.parse(version.stdout)).toMatchObject({
      version: '3.1.4',
      distribution: 'binary',
      os: process.platform,
      // The execArgv embedded in the binary (scripts/sea/inject.ts).
      nodeFlags: [...NODE_FLAGS],
    });
    const help = await runFile(bin, ['--help'], { env });
    expect(help.code).toBe(0);
    for (const cmd of ['version', 'service', 'update']) expect(help.stdout).toContain(`\n  ${cmd}`);
  });

  it('the binary runs validate with no node on PATH: GitHub (fake), Docker engine and image, host checks', async () => {
    const fake = await startFakeActionsService({ holdMs: 300 });
    try {
      const config = join(out, 'validate.toml');
      const { writeFile } = await import('node:fs/promises');
      await writeFile(
        config,
        [
          `url = "${fake.configUrl()}"`,
          'name = "sea"',
          'runner-image = "runner-fake:test"',
          `state-dir = "${join(out, 'state')}"`,
          'health-port = 0',
          '[docker]',
          'pull-policy = "never"',
          '',
        ].join('\n'),
      );
      const env = { PATH: join(out, 'empty-bin'), RUNNER_TOKEN: fake.pat, HOME: out };
      expect(await nodeOnPath(env)).toBe(false);
      const res = await runFile(join(out, `runner-${hostTarget}`), ['validate', '--config', config], { env });
      expect(res.stdout).toContain('✓');
      expect(res.stdout).not.toContain('✗');
      expect(res.code).toBe(0);
      // It really asked GitHub (the fake): the auth chain ran.
      expect(fake.requests.some((r) => r.route === 'runner-registration')).toBe(true);
    } finally {
      await fake.close();
    }
  });
});
