import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import type { RunnerConfig } from '../../src/config/types.js';
import { inquirerPrompter, runInit } from '../../src/init/index.js';
import { cliBundle, runCli } from './support/built-cli.js';
import { KEY, PromptDriver } from './support/prompt-driver.js';

let dir: string;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  dir = mkdtempSync(join(tmpdir(), 'runner-init-'));
  return dir;
}

/** The file as `runner run` would read it: same loader, with the secrets its env would hold. */
async function readBack(path: string, env: NodeJS.ProcessEnv): Promise<RunnerConfig> {
  return parseConfigText(readFileSync(path, 'utf8'), path, env);
}

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

describe('runner init wizard (prompts on in-memory streams)', () => {
  it('asks, re-asks an invalid URL with the config rule, warns about dind and writes a config that reads back', async () => {
    const cwd = tempDir();
    const term = new PromptDriver();
    const done = runInit({
      given: {},
      output: 'config.toml',
      force: false,
      yes: false,
      tokenInline: false,
      cwd,
      env: {},
      prompter: inquirerPrompter({ input: term.input, output: term.output }),
    });

    await term.answer('GitHub URL', `github.com/my-org${KEY.enter}`);
    await term.waitFor('expected the URL of an org, repo or enterprise');
    term.type(`${KEY.clearLine}https://github.com/my-org/app${KEY.enter}`);
    await term.answer('Scale set name', `linux-x64${KEY.enter}`);
    await term.answer('How runner authenticates', KEY.enter); // default: PAT
    await term.answer(
      'Environment variable that will hold the token',
      `${KEY.clearLine}GH_RUNNER_PAT${KEY.enter}`,
    );
    await term.answer('Where runners run', KEY.enter); // default: docker
    await term.answer('Runner container image', `${KEY.clearLine}runner-fake:test${KEY.enter}`);
    await term.answer('docker-in-docker', `y${KEY.enter}`);
    await term.answer('Most runners at once', `${KEY.clearLine}0${KEY.enter}`);
    await term.waitFor('expected an integer from 1 to 10000, got "0"');
    term.type(`${KEY.clearLine}4${KEY.enter}`);
    const result = await done;

    expect(term.screen).toContain('any job can control the host');
    expect(result.path).toBe(join(cwd, 'config.toml'));
    expect(mode(result.path)).toBe('600');
    const text = readFileSync(result.path, 'utf8');
    expect(text).toContain('token = "env:GH_RUNNER_PAT"');
    const cfg = await readBack(result.path, { GH_RUNNER_PAT: 'ghp_from_env' });
    const set = cfg.scaleSets[0];
    expect(cfg.scaleSets).toHaveLength(1);
    expect(set?.url).toBe('https://github.com/my-org/app');
    expect(set?.name).toBe('linux-x64');
    expect(set?.auth.kind === 'pat' && set.auth.token.reveal()).toBe('ghp_from_env');
    expect(set?.backend).toBe('docker');
    expect(set?.runnerImage).toBe('runner-fake:test');
    expect(set?.docker.dind).toBe(true);
    expect(set?.maxRunners).toBe(4);
  });

  it('asks before replacing an existing file and leaves it alone on "no"', async () => {
    const cwd = tempDir();
    const path = join(cwd, 'config.toml');
    writeFileSync(path, 'name = "mine"\n');
    const term = new PromptDriver();
    const done = runInit({
      given: {},
      output: path,
      force: false,
      yes: false,
      tokenInline: false,
      cwd,
      env: {},
      prompter: inquirerPrompter({ input: term.input, output: term.output }),
    });
    await term.answer('already exists. Replace it?', `n${KEY.enter}`);
    await expect(done).rejects.toMatchObject({ code: 'INIT_EXISTS' });
    expect(readFileSync(path, 'utf8')).toBe('name = "mine"\n');
    expect(term.screen).not.toContain('GitHub URL');
  });

  it('picks tart with the arrow keys and asks for the image it cannot default', async () => {
    const cwd = tempDir();
    const term = new PromptDriver();
    const done = runInit({
      given: { url: 'https://github.com/my-org', name: 'mac', auth: 'pat', tokenEnv: 'RUNNER_TOKEN' },
      output: 'mac.toml',
      force: false,
      yes: false,
      tokenInline: false,
      cwd,
      env: {},
      prompter: inquirerPrompter({ input: term.input, output: term.output }),
    });
    await term.answer('Where runners run', `${KEY.down}${KEY.enter}`);
    await term.answer('Tart VM image', KEY.enter);
    await term.waitFor('expected a non-empty value');
    term.type(`ghcr.io/cirruslabs/macos-sequoia-base:latest${KEY.enter}`);
    await term.answer('VMs kept booted', `${KEY.clearLine}1${KEY.enter}`);
    await term.answer('Most runners at once', KEY.enter); // default 2 for tart
    const result = await done;

    expect(term.screen).not.toContain('Scale set name'); // answered by a flag
    const set = (await readBack(result.path, { RUNNER_TOKEN: 't' })).scaleSets[0];
    expect(set?.backend).toBe('tart');
    expect(set?.runnerImage).toBe('ghcr.io/cirruslabs/macos-sequoia-base:latest');
    expect(set?.tart.poolSize).toBe(1);
    expect(set?.maxRunners).toBe(2);
  });

  it('with --token-inline and no token in the environment, asks for it hidden and writes it', async () => {
    const cwd = tempDir();
    const term = new PromptDriver();
    const token = 'ghp_typed_at_the_prompt_123';
    const done = runInit({
      given: { url: 'https://github.com/my-org', name: 'ci', auth: 'pat' },
      output: 'config.toml',
      force: false,
      yes: true,
      tokenInline: true,
      cwd,
      env: {},
      prompter: inquirerPrompter({ input: term.input, output: term.output }),
    });
    await term.answer('Token to write into the file (hidden)', `${token}${KEY.enter}`);
    const result = await done;
    expect(term.screen).not.toContain(token);
    expect(parse(readFileSync(result.path, 'utf8')).token).toBe(token);
    expect(mode(result.path)).toBe('600');
  });
});

describe('runner init (built CLI, no terminal)', () => {
  beforeAll(async () => {
    await cliBundle();
  });

  const base = ['init', '--url', 'https://github.com/my-org', '--name', 'ci'];

  it('writes a docker config from flags alone that reads back to the same values', async () => {
    const cwd = tempDir();
    const r = await runCli(
      [
        ...base,
        '--backend',
        'docker',
        '--runner-image',
        'runner-fake:test',
        '--dind',
        '--max-runners',
        '3',
        '--yes',
      ],
      { cwd, env: { ...process.env, RUNNER_TOKEN: '' } },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const path = join(cwd, 'config.toml');
    expect(r.stdout).toContain(`runner validate --config ${path}`);
    expect(r.stdout).toContain(`runner service install --config-path ${path}`);
    expect(r.stdout).toContain('export RUNNER_TOKEN=');
    expect(mode(path)).toBe('600');
    const set = (await readBack(path, { RUNNER_TOKEN: 'ghp_x' })).scaleSets[0];
    expect(set).toMatchObject({
      url: 'https://github.com/my-org',
      name: 'ci',
      backend: 'docker',
      runnerImage: 'runner-fake:test',
      maxRunners: 3,
    });
    expect(set?.docker.dind).toBe(true);
    expect(set?.auth.kind === 'pat' && set.auth.token.reveal()).toBe('ghp_x');
  });

  it('writes a tart config, pool size included', async () => {
    const cwd = tempDir();
    const r = await runCli(
      [
        ...base,
        '--backend',
        'tart',
        '--runner-image',
        'ghcr.io/cirruslabs/macos:latest',
        '--pool-size',
        '2',
        '--yes',
      ],
      { cwd },
    );
    expect(r.code).toBe(0);
    const set = (await readBack(join(cwd, 'config.toml'), { RUNNER_TOKEN: 't' })).scaleSets[0];
    expect(set).toMatchObject({
      backend: 'tart',
      runnerImage: 'ghcr.io/cirruslabs/macos:latest',
      maxRunners: 2,
    });
    expect(set?.tart.poolSize).toBe(2);
  });

  it('writes a dedalus config that names the key variable, never the key', async () => {
    const cwd = tempDir();
    const r = await runCli(
      [...base, '--backend', 'dedalus', '--dedalus-api-key-env', 'DK', '--dedalus-max', '7', '--yes'],
      { cwd },
    );
    expect(r.code).toBe(0);
    const text = readFileSync(join(cwd, 'config.toml'), 'utf8');
    expect(parse(text)).toMatchObject({ dedalus: { 'api-key': 'env:DK', max: 7 }, 'max-runners': 7 });
    const set = (await readBack(join(cwd, 'config.toml'), { RUNNER_TOKEN: 't', DK: 'dk-secret' }))
      .scaleSets[0];
    expect(set?.backend).toBe('dedalus');
    expect(set?.dedalus.max).toBe(7);
    expect(set?.dedalus.apiKey?.reveal()).toBe('dk-secret');
    expect(set?.maxRunners).toBe(7);
  });

  it('writes a GitHub App config in the [github-app] table with an absolute key path', async () => {
    const cwd = tempDir();
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(join(cwd, 'app.pem'), privateKey, { mode: 0o600 });
    const r = await runCli(
      [
        ...base,
        '--auth',
        'app',
        '--app-client-id',
        'Iv23liTest',
        '--app-installation-id',
        '42',
        '--app-private-key',
        'app.pem',
        '--yes',
        '-o',
        'sub/dir/runner.toml',
      ],
      { cwd },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const path = join(cwd, 'sub/dir/runner.toml');
    expect(r.stdout).not.toContain('export RUNNER_TOKEN');
    const raw = parse(readFileSync(path, 'utf8'));
    expect(raw).not.toHaveProperty('token');
    expect(raw['github-app']).toEqual({
      'client-id': 'Iv23liTest',
      'installation-id': 42,
      'private-key-path': join(cwd, 'app.pem'),
    });
    const set = (await readBack(path, {})).scaleSets[0];
    expect(set?.auth).toMatchObject({ kind: 'app', clientId: 'Iv23liTest', installationId: 42 });
  });

  it('without a terminal lists every missing flag and writes nothing', async () => {
    const cwd = tempDir();
    const r = await runCli(['init', '--backend', 'tart'], { cwd });
    expect(r.code).toBe(1);
    for (const flag of [
      '--url',
      '--name',
      '--auth',
      '--token-env',
      '--runner-image',
      '--pool-size',
      '--max-runners',
    ]) {
      expect(r.stderr).toContain(flag);
    }
    expect(r.stderr).toMatch(/--url\s+GitHub URL.*\(required\)/);
    expect(() => statSync(join(cwd, 'config.toml'))).toThrow();
  });

  it('reports every bad flag at once, with the same rule the config uses', async () => {
    const cwd = tempDir();
    const r = await runCli(
      [
        'init',
        '--url',
        'github.com/x',
        '--name',
        'n',
        '--max-runners',
        '0',
        '--runner-image',
        'ubuntu; reboot',
        '--app-private-key',
        'k.pem',
        '--yes',
      ],
      { cwd },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--runner-image: expected an image reference like');
    expect(r.stderr).toContain('--url: expected the URL of an org, repo or enterprise');
    expect(r.stderr).toContain('--max-runners: expected an integer from 1 to 10000, got "0"');
    expect(r.stderr).toContain('--app-private-key: not used with these answers (auth pat');
  });

  it('refuses to replace a file without --force, and replaces it with it', async () => {
    const cwd = tempDir();
    const path = join(cwd, 'config.toml');
    writeFileSync(path, 'name = "keep"\n', { mode: 0o644 });
    const refused = await runCli([...base, '--yes'], { cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already exists; pass --force');
    expect(readFileSync(path, 'utf8')).toBe('name = "keep"\n');

    const forced = await runCli([...base, '--yes', '--force'], { cwd });
    expect(forced.code).toBe(0);
    expect(readFileSync(path, 'utf8')).toContain('name = "ci"');
    expect(mode(path)).toBe('600');
  });

  it('writes the token itself only with --token-inline, taking it from the environment', async () => {
    const cwd = tempDir();
    const token = 'ghp_inline_0123456789';
    const missing = await runCli([...base, '--yes', '--token-inline'], {
      cwd,
      env: { ...process.env, RUNNER_TOKEN: '' },
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('set $RUNNER_TOKEN');

    const r = await runCli([...base, '--yes', '--token-inline'], {
      cwd,
      env: { ...process.env, RUNNER_TOKEN: token },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(token);
    expect(parse(readFileSync(join(cwd, 'config.toml'), 'utf8')).token).toBe(token);
  });
});
