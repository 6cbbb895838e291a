import { chmod, readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { stopGracefully, useE2e } from './support/e2e-env.js';

const setup = useE2e();

describe('runner run and a config file others can read', () => {
  it('warns at start (and still runs) when the file holds a secret, and says nothing when it holds none', async () => {
    const env = await setup();
    const plain = await readFile(env.configFile, 'utf8');
    await writeFile(env.configFile, `token = "${env.fake.pat}"\n${plain}`);
    await chmod(env.configFile, 0o644);

    const d = await env.startDaemon();
    await d.waitForLog((l) => l.json?.msg === 'runner started', { what: 'start', timeout: 30_000 });
    const warnings = d.lines.filter((l) => l.json?.level === 'warn' && String(l.json.msg).includes('holds'));
    expect(warnings.map((l) => l.json?.msg)).toEqual([
      `${env.configFile} holds secrets (token), and every user on this machine can read it (mode 0644): run chmod 600 ${env.configFile}`,
    ]);
    expect(d.text).not.toContain(env.fake.pat);
    await stopGracefully(d);

    // The same file at 0644 with the token only in the environment: nothing to warn about.
    await writeFile(env.configFile, plain);
    await chmod(env.configFile, 0o644);
    const again = await env.startDaemon();
    await again.waitForLog((l) => l.json?.msg === 'runner started', { what: 'start', timeout: 30_000 });
    expect(again.text).not.toContain('can read it');
    await stopGracefully(again);
  });
});
