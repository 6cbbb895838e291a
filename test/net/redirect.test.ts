import { describe, expect, it } from 'vitest';
import { MAX_REDIRECTS } from '../../src/github/transport.js';
import { clientFor, hits, startFake } from '../github/helpers/fake.js';

/**
 * Redirects from GitHub (a GHES behind a load balancer, a moved API) are followed by the transport,
 * against the fake over real HTTP: method and body kept on 307, the token kept on the same origin and
 * dropped on another.
 */
describe('redirects of GitHub calls', () => {
  it('a 307 on a POST is followed with the same method, body and token', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    const ss = await client.createRunnerScaleSet({ name: 'redirected' });
    fake.faults.inject({ route: 'jit-config', status: 307, redirectTo: fake.movedUrl });
    const jit = await client.generateJitRunnerConfig({ name: 'r-1', workFolder: '_work' }, ss.id ?? 0);
    expect(jit.runner.name).toBe('r-1');
    const posts = hits(fake, '/generatejitconfig', 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[1]?.body).toBe(posts[0]?.body);
    expect(JSON.parse(posts[1]?.body ?? '{}')).toEqual({ name: 'r-1', workFolder: '_work' });
    expect(posts[1]?.headers.authorization).toBe(posts[0]?.headers.authorization);
    expect(posts[1]?.headers.authorization).toMatch(/^Bearer ./);
    expect(fake.requests.filter((r) => r.url.startsWith('/moved/'))).toHaveLength(1);
  });

  it('a 308 on a PATCH keeps the method and body too', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    const ss = await client.createRunnerScaleSet({ name: 'patched' });
    fake.faults.inject({ route: 'scale-set', status: 308, redirectTo: fake.movedUrl });
    const updated = await client.updateRunnerScaleSet(ss.id ?? 0, { name: 'patched', runnerGroupId: 1 });
    expect(updated.name).toBe('patched');
    const patches = hits(fake, /\/runnerscalesets\/\d+$/, 'PATCH');
    expect(patches).toHaveLength(2);
    expect(patches[1]?.body).toBe(patches[0]?.body);
  });

  it('stops after 10 redirects (as Go does) with an error, never looping or handing the 3xx back', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    await client.getRunnerGroupByName('default');
    const before = hits(fake, '/runnergroups/').length;
    // Every answer sends the client one /moved/ further: a new URL each time (a URL seen before is a
    // loop, which undici refuses at once).
    fake.faults.inject({ route: 'runner-groups', status: 307, redirectTo: fake.movedUrl, times: 50 });
    const err = await client.getRunnerGroupByName('default').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/redirect/i);
    // The first request and 10 redirects followed, then no more.
    expect(hits(fake, '/runnergroups/').length - before).toBe(1 + MAX_REDIRECTS);
  });

  it('a redirect to another host loses the Authorization header', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    await client.getRunnerGroupByName('default'); // the auth chain, done before the redirect
    const otherHost = fake.url.replace('127.0.0.1', 'localhost');
    fake.faults.inject({ route: 'runner-groups', status: 307, redirectTo: otherHost });
    // The fake answers the token-less request with 401, as the Actions service would.
    await expect(client.getRunnerGroupByName('default')).rejects.toMatchObject({ status: 401 });
    const groups = hits(fake, '/runnergroups/');
    const [onFake, redirected] = groups.slice(-2);
    expect(onFake?.headers.authorization).toMatch(/^Bearer ./);
    expect(onFake?.headers.host).toBe(new URL(fake.url).host);
    expect(redirected?.headers.host).toBe(new URL(otherHost).host);
    expect(redirected?.headers.authorization).toBeUndefined();
  });
});
