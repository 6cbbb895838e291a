import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { scrub } from '../../src/secret.js';
import { clientFor, hits, startFake } from './helpers/fake.js';

const bearer = (value: string | undefined) => value?.replace(/^Bearer /, '') ?? '';

describe('secrets', () => {
  it('the PAT, admin and queue tokens and JIT configs never reach the log output or error messages', async () => {
    const fake = await startFake({ holdMs: 100 });
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger({ level: 'trace', destination: sink });
    const { client } = clientFor(fake, { logger });
    const set = await client.createRunnerScaleSet({ name: 'secretive' });
    const session = await client.createMessageSession(set.id ?? 0, 'host');
    const firstQueueToken = session.session.messageQueueAccessToken;
    const jit = await client.generateJitRunnerConfig({ name: 'r-1', workFolder: '' }, set.id ?? 0);
    fake.faults.inject({ route: 'agents', status: 503, times: 2 });
    await client.getRunnerByName('r-1');
    fake.faults.expireQueueTokens();
    await session.getMessage(0, 1);
    fake.faults.inject({
      route: 'agents',
      status: 400,
      body: JSON.stringify({ message: `bad token ${fake.pat}` }),
    });
    const err = (await client.getRunnerByName('x').catch((e: unknown) => e)) as Error;
    logger.error({ err, session: session.session, jit }, 'everything at once');

    const secrets = [
      fake.pat,
      bearer(hits(fake, '/runnerscalesets', 'POST')[0]?.headers.authorization),
      firstQueueToken,
      session.session.messageQueueAccessToken,
      jit.encodedJITConfig,
    ];
    expect(secrets.every((s) => s.length >= 8)).toBe(true);
    const output = lines.join('');
    expect(output).toContain('retrying request');
    expect(output).toContain('everything at once');
    for (const secret of secrets) {
      expect(output).not.toContain(secret);
      expect(err.message).not.toContain(secret);
    }
    expect(err.message).toContain('bad token [Redacted]');
  });

  it('tokens spent by an auth chain stop being scrubbed; the live admin token stays scrubbed', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    await client.getRunnerByName('x');
    const registrationToken =
      hits(fake, '/runner-registration')[0]?.headers.authorization?.replace('RemoteAuth ', '') ?? '';
    const firstAdmin = bearer(hits(fake, '/agents')[0]?.headers.authorization);
    expect(scrub(firstAdmin)).toBe('[Redacted]');
    // Used once and never kept: the registry does not grow with every refresh of a long-lived daemon.
    expect(scrub(registrationToken)).toBe(registrationToken);
    fake.faults.expireAdminTokens();
    await expect(client.getRunnerByName('x')).rejects.toMatchObject({ status: 401 });
    await client.getRunnerByName('x');
    const secondAdmin = bearer(hits(fake, '/agents').at(-1)?.headers.authorization);
    expect(secondAdmin).not.toBe(firstAdmin);
    expect(scrub(secondAdmin)).toBe('[Redacted]');
    expect(scrub(firstAdmin)).toBe(firstAdmin);
  });
});
