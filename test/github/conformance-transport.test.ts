import { describe, expect, it } from 'vitest';
import { findActionsServiceError } from '../../src/github/index.js';
import { clientFor, hits, seen, startFake } from './helpers/fake.js';

const UA_KEYS = [
  'system',
  'version',
  'commit_sha',
  'scale_set_id',
  'subsystem',
  'build_version',
  'build_commit_sha',
  'kind',
];

describe('transport (§13.14–§13.19)', () => {
  it('§13.14 the JSON User-Agent goes to the GitHub API, the Actions service and the queue', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake, { systemInfo: { system: 'runner-test', commitSha: 'abc' } });
    const set = await client.createRunnerScaleSet({ name: 'ua-set' });
    client.setSystemInfo({ scaleSetId: set.id ?? 0 });
    const session = await client.createMessageSession(set.id ?? 0, 'host');
    await session.getMessage(0, 1);
    await session.close();
    const agents = seen(fake).map(
      (r) => JSON.parse(r.headers['user-agent'] ?? '{}') as Record<string, unknown>,
    );
    expect(agents.length).toBeGreaterThanOrEqual(6);
    for (const ua of agents) {
      expect(Object.keys(ua)).toEqual(UA_KEYS);
      expect(ua).toMatchObject({
        system: 'runner-test',
        commit_sha: 'abc',
        subsystem: 'listener',
        kind: 'scaleset',
      });
    }
    // setSystemInfo applies to later requests: the create carried 0, the session calls carry the id.
    const [create] = hits(fake, '/_apis/runtime/runnerscalesets', 'POST');
    expect(JSON.parse(create?.headers['user-agent'] ?? '{}').scale_set_id).toBe(0);
    const [poll] = hits(fake, /^\/queue\//, 'GET');
    expect(JSON.parse(poll?.headers['user-agent'] ?? '{}').scale_set_id).toBe(set.id);
  });

  it.each([503, 500, 502, 504, 429])('§13.15 %i is retried: retryMax + 1 attempts', async (status) => {
    const fake = await startFake();
    const { client, waits } = clientFor(fake);
    await client.getRunnerScaleSet(1, 'warm-up');
    fake.faults.inject({ route: 'scale-sets', status, times: 100 });
    const err = await client.getRunnerScaleSet(1, 'x').catch((e: unknown) => e);
    // Go's "giving up" error drops the response; ours keeps the last status (and its parsed error as
    // `cause`), so callers and logs can tell a 503 outage from a 429 rate limit.
    expect(err).toMatchObject({ code: 'RETRIES_EXHAUSTED', attempts: 5, status });
    expect(hits(fake, '/_apis/runtime/runnerscalesets', 'GET')).toHaveLength(1 + 5);
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
  });

  it('§13.15 with retryMax = 2 the server sees exactly 3 attempts', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake, { retryMax: 2 });
    await client.getRunnerByName('warm-up');
    fake.faults.inject({ route: 'agents', status: 503, times: 100 });
    await expect(client.getRunnerByName('x')).rejects.toMatchObject({
      code: 'RETRIES_EXHAUSTED',
      attempts: 3,
    });
    expect(hits(fake, '/agents', 'GET')).toHaveLength(1 + 3);
  });

  it('§13.15 a connection error is retried', async () => {
    const fake = await startFake();
    const { client, waits } = clientFor(fake, { retryMax: 3 });
    await client.getRunnerByName('warm-up');
    fake.faults.down();
    const err = await client.getRunnerByName('x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RETRIES_EXHAUSTED', attempts: 4, status: undefined });
    expect(waits).toEqual([1000, 2000, 4000]);
    fake.faults.up();
    await expect(client.getRunnerByName('x')).resolves.toBeNull();
  });

  it.each([501, 400, 403, 404, 409])('§13.16 %i is not retried: one attempt', async (status) => {
    const fake = await startFake();
    const { client, waits } = clientFor(fake);
    await client.getRunnerByName('warm-up');
    fake.faults.inject({ route: 'agents', status, times: 100 });
    await expect(client.getRunnerByName('x')).rejects.toMatchObject({ code: 'ACTIONS_HTTP', status });
    expect(hits(fake, '/agents', 'GET')).toHaveLength(2);
    expect(waits).toEqual([]);
  });

  it('§13.16 a 401 on registration-token (not runner-registration) is not retried', async () => {
    const fake = await startFake();
    fake.faults.inject({ route: 'registration-token', status: 401, times: 100 });
    const { client, waits } = clientFor(fake);
    await expect(client.getRunnerByName('x')).rejects.toMatchObject({ code: 'TOKEN_REFRESH' });
    expect(hits(fake, '/registration-token')).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('§13.17 waits 1, 2, 4, 8 s capped at retryWaitMax; Retry-After on 429/503 is waited exactly', async () => {
    const fake = await startFake();
    const { client, waits } = clientFor(fake, { retryMax: 6, retryWaitMax: 5000 });
    await client.getRunnerByName('warm-up');
    fake.faults.inject({ route: 'agents', status: 500, times: 6 });
    await client.getRunnerByName('x');
    expect(waits).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
    waits.length = 0;
    fake.faults.inject({ route: 'agents', status: 503, times: 1, retryAfter: '42' });
    fake.faults.inject({ route: 'agents', status: 429, times: 1, retryAfter: '3' });
    await client.getRunnerByName('x');
    // 42 s exceeds retryWaitMax: Retry-After is not capped.
    expect(waits).toEqual([42_000, 3000]);
  });

  it('§13.18 a BOM-prefixed response decodes as if the BOM were absent', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    await client.getRunnerByName('warm-up');
    fake.faults.inject({
      route: 'agents',
      status: 200,
      bom: true,
      body: '{"count":1,"value":[{"id":17,"name":"runner-1","runnerScaleSetId":3}]}',
    });
    await expect(client.getRunnerByName('runner-1')).resolves.toEqual({
      id: 17,
      name: 'runner-1',
      runnerScaleSetId: 3,
    });
  });

  it('§13.19 errors carry status, ActivityId, typeName and message', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    await client.getRunnerByName('warm-up');
    fake.faults.inject({
      route: 'agents',
      status: 400,
      body: '{"typeName":"CSharpExceptionNameHere","message":"could not do something"}',
    });
    const err = findActionsServiceError(await client.getRunnerByName('x').catch((e: unknown) => e));
    expect(err?.activityId).toBeTruthy();
    expect(err?.message).toMatch(
      new RegExp(
        `^request GET http://127\\.0\\.0\\.1:\\d+/tenant/123/_apis/distributedtask/pools/0/agents\\?agentName=x&api-version=6\\.0-preview failed\\(status="400 Bad Request", activity_id="${err?.activityId}"\\): CSharpExceptionNameHere: could not do something$`,
      ),
    );
  });

  it('§13.19 a text/plain error body is quoted verbatim', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    await client.getRunnerByName('warm-up');
    fake.faults.inject({
      route: 'agents',
      status: 400,
      body: 'example plain text error',
      contentType: 'text/plain',
    });
    await expect(client.getRunnerByName('x')).rejects.toThrow(
      /failed\(status="400 Bad Request".*\): example plain text error$/,
    );
  });

  it('§13.19 GitHub API errors carry X-GitHub-Request-Id', async () => {
    const fake = await startFake();
    fake.faults.inject({ route: 'registration-token', status: 404, body: '{"message":"Not Found"}' });
    const err = findActionsServiceError(
      await clientFor(fake)
        .client.getRunnerByName('x')
        .catch((e: unknown) => e),
    );
    expect(err?.githubRequestId).toBeTruthy();
    expect(err?.message).toContain(`github_request_id="${err?.githubRequestId}"`);
    expect(err?.message).toMatch(/: failed to get runner registration token: Not Found$/);
  });
});
