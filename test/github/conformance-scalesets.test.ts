import { describe, expect, it } from 'vitest';
import { isJobStillRunning, isRunnerExists, isRunnerNotFound } from '../../src/github/index.js';
import { clientFor, hits, startFake } from './helpers/fake.js';

describe('runner groups and scale sets (§13.20–§13.24)', () => {
  it('§13.20 getRunnerGroupByName: trailing-slash path, count 1 → value[0], 0 and >1 are errors', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    await expect(client.getRunnerGroupByName('Default')).resolves.toMatchObject({ id: 1 });
    const [req] = hits(fake, '/_apis/runtime/runnergroups/', 'GET');
    expect(req?.query.get('groupName')).toBe('Default');
    await expect(client.getRunnerGroupByName('no such group')).rejects.toMatchObject({
      code: 'RUNNER_GROUP_NOT_FOUND',
      message: 'no runner group found with name "no such group"',
    });
    fake.faults.inject({
      route: 'runner-groups',
      status: 200,
      body: '{"count":2,"value":[{"id":2,"name":"g"},{"id":3,"name":"g"}]}',
    });
    await expect(client.getRunnerGroupByName('g')).rejects.toThrow(
      'multiple runner group found with name "g"',
    );
  });

  it('§13.21 getRunnerScaleSet: query runnerGroupId and name; count 0 → null even with values; >1 and 404 are errors', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    // Go interpolates the name unescaped, so '&' would split it; we encode it (§3.1 Go quirk).
    await expect(client.getRunnerScaleSet(1, 'a b&c')).resolves.toBeNull();
    const [req] = hits(fake, '/_apis/runtime/runnerscalesets', 'GET');
    expect(req?.query.get('runnerGroupId')).toBe('1');
    expect(req?.query.get('name')).toBe('a b&c');
    fake.faults.inject({
      route: 'scale-sets',
      status: 200,
      body: '{"count":0,"value":[{"id":1,"name":"x"}]}',
    });
    await expect(client.getRunnerScaleSet(1, 'x')).resolves.toBeNull();
    fake.faults.inject({ route: 'scale-sets', status: 200, body: '{"count":2,"value":[{"id":1},{"id":2}]}' });
    await expect(client.getRunnerScaleSet(1, 'x')).rejects.toThrow(
      'multiple runner scale sets found with name "x"',
    );
    fake.faults.inject({ route: 'scale-sets', status: 404, body: '' });
    await expect(client.getRunnerScaleSet(1, 'x')).rejects.toMatchObject({
      status: 404,
      detail: 'unknown error',
    });
  });

  it('§13.21 finds a scale set that exists, accepting runnerSetting in either case', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    const created = await client.createRunnerScaleSet({ name: 'found', runnerGroupId: 1 });
    await expect(client.getRunnerScaleSet(1, 'found')).resolves.toMatchObject({
      id: created.id,
      name: 'found',
    });
    fake.faults.inject({
      route: 'scale-sets',
      status: 200,
      body: '{"count":1,"value":[{"id":5,"name":"x","runnerSetting":{"disableUpdate":true}}]}',
    });
    await expect(client.getRunnerScaleSet(1, 'x')).resolves.toMatchObject({
      RunnerSetting: { disableUpdate: true },
    });
  });

  it('§13.22 default label from the name; labels without a type get "System"; neither → no request', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    await client.createRunnerScaleSet({ name: 'plain' });
    await client.createRunnerScaleSet({
      name: 'labelled',
      labels: [{ name: 'labelled' }, { name: 'gpu', type: '' }],
    });
    const bodies = hits(fake, '/_apis/runtime/runnerscalesets', 'POST').map((r) => JSON.parse(r.body));
    expect(bodies[0].labels).toEqual([{ type: 'System', name: 'plain' }]);
    expect(bodies[1].labels).toEqual([
      { type: 'System', name: 'labelled' },
      { type: 'System', name: 'gpu' },
    ]);
    const before = fake.requests.length;
    await expect(client.createRunnerScaleSet({ runnerGroupId: 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(fake.requests).toHaveLength(before);
  });

  it('§13.23 create: POST runnerscalesets, RunnerSetting key, only 200 is success', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    const created = await client.createRunnerScaleSet({
      name: 'arc-runner-set',
      runnerGroupId: 1,
      RunnerSetting: { disableUpdate: true },
    });
    expect(created).toMatchObject({ name: 'arc-runner-set', runnerGroupId: 1 });
    expect(created.id).toBeGreaterThan(0);
    const [post] = hits(fake, '/tenant/123/_apis/runtime/runnerscalesets', 'POST');
    expect(post?.body).toBe(
      '{"name":"arc-runner-set","runnerGroupId":1,"labels":[{"type":"System","name":"arc-runner-set"}],"RunnerSetting":{"disableUpdate":true},"createdOn":"0001-01-01T00:00:00Z"}',
    );
    fake.faults.inject({ route: 'scale-sets', status: 201, body: JSON.stringify({ id: 9, name: 'x' }) });
    await expect(client.createRunnerScaleSet({ name: 'x' })).rejects.toMatchObject({
      code: 'ACTIONS_HTTP',
      status: 201,
    });
  });

  it('§13.24 update is PATCH …/{id} (200); delete is DELETE …/{id} (204 only)', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    const created = await client.createRunnerScaleSet({ name: 'old-name' });
    const id = created.id ?? 0;
    const updated = await client.updateRunnerScaleSet(id, { name: 'new-name' });
    expect(updated).toMatchObject({ id, name: 'new-name' });
    const [patch] = hits(fake, `/_apis/runtime/runnerscalesets/${id}`, 'PATCH');
    expect(JSON.parse(patch?.body ?? '{}')).toEqual({
      name: 'new-name',
      RunnerSetting: {},
      createdOn: '0001-01-01T00:00:00Z',
    });
    await expect(client.getRunnerScaleSetById(id)).resolves.toMatchObject({ name: 'new-name' });
    fake.faults.inject({ route: 'scale-set', status: 200, body: '{}' });
    await expect(client.deleteRunnerScaleSet(id)).rejects.toMatchObject({ status: 200 });
    await client.deleteRunnerScaleSet(id);
    expect(hits(fake, `/_apis/runtime/runnerscalesets/${id}`, 'DELETE')).toHaveLength(2);
    expect(fake.scaleSets().find((s) => s.id === id)).toBeUndefined();
  });

  it('getRunnerScaleSetById: a null body is null; 404 is an error (§9.3)', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    fake.faults.inject({ route: 'scale-set', status: 200, body: 'null' });
    await expect(client.getRunnerScaleSetById(77)).resolves.toBeNull();
    await expect(client.getRunnerScaleSetById(77)).rejects.toMatchObject({
      code: 'ACTIONS_HTTP',
      status: 404,
    });
  });
});

describe('JIT configs and runners (§13.40–§13.43)', () => {
  async function withScaleSet() {
    const fake = await startFake();
    const { client } = clientFor(fake);
    const set = await client.createRunnerScaleSet({ name: 'jit-set' });
    return { fake, client, scaleSetId: set.id ?? 0 };
  }

  it('§13.40 generateJitRunnerConfig sends name and workFolder and returns the runner and config', async () => {
    const { fake, client, scaleSetId } = await withScaleSet();
    const jit = await client.generateJitRunnerConfig({ name: 'runner-1a2b3c4d', workFolder: '' }, scaleSetId);
    const [post] = hits(fake, `/_apis/runtime/runnerscalesets/${scaleSetId}/generatejitconfig`, 'POST');
    expect(post?.body).toBe('{"name":"runner-1a2b3c4d","workFolder":""}');
    expect(jit.runner).toMatchObject({ name: 'runner-1a2b3c4d', runnerScaleSetId: scaleSetId });
    expect(jit.runner.id).toBeGreaterThan(0);
    expect(jit.encodedJITConfig.length).toBeGreaterThan(0);
  });

  it('§13.41 a duplicate runner name is the RunnerExists kind', async () => {
    const { client, scaleSetId } = await withScaleSet();
    await client.generateJitRunnerConfig({ name: 'dup', workFolder: '_work' }, scaleSetId);
    const err = await client
      .generateJitRunnerConfig({ name: 'dup', workFolder: '_work' }, scaleSetId)
      .catch((e) => e);
    expect(isRunnerExists(err)).toBe(true);
    expect(err).toMatchObject({ typeName: expect.stringContaining('AgentExistsException') });
  });

  it('§13.42 getRunnerByName: agents?agentName=, count 0 → null, 1 → the runner; getRunner by id', async () => {
    const { fake, client, scaleSetId } = await withScaleSet();
    await expect(client.getRunnerByName('nobody')).resolves.toBeNull();
    const [req] = hits(fake, '/tenant/123/_apis/distributedtask/pools/0/agents', 'GET');
    expect(req?.query.get('agentName')).toBe('nobody');
    const { runner } = await client.generateJitRunnerConfig({ name: 'somebody', workFolder: '' }, scaleSetId);
    await expect(client.getRunnerByName('somebody')).resolves.toEqual(runner);
    await expect(client.getRunner(runner.id)).resolves.toEqual(runner);
  });

  it('§13.43 removeRunner: DELETE agents/{id}, 204; unknown → RunnerNotFound; busy → JobStillRunning', async () => {
    const { fake, client, scaleSetId } = await withScaleSet();
    const { runner } = await client.generateJitRunnerConfig(
      { name: 'gone-soon', workFolder: '' },
      scaleSetId,
    );
    await client.removeRunner(runner.id);
    expect(hits(fake, `/_apis/distributedtask/pools/0/agents/${runner.id}`, 'DELETE')).toHaveLength(1);
    expect(fake.runners().find((r) => r.id === runner.id)).toBeUndefined();
    const missing = await client.removeRunner(runner.id).catch((e: unknown) => e);
    expect(isRunnerNotFound(missing)).toBe(true);
    const missingGet = await client.getRunner(runner.id).catch((e: unknown) => e);
    expect(isRunnerNotFound(missingGet)).toBe(true);
    fake.faults.inject({ route: 'agent', status: 200, body: '{}' });
    await expect(client.removeRunner(1)).rejects.toMatchObject({ status: 200 });
  });

  it('§13.43 removing a runner that is running a job is the JobStillRunning kind', async () => {
    const { fake, client, scaleSetId } = await withScaleSet();
    const { runner, encodedJITConfig } = await client.generateJitRunnerConfig(
      { name: 'busy-one', workFolder: '' },
      scaleSetId,
    );
    const session = await client.createMessageSession(scaleSetId, 'host');
    const job = fake.queueJob({ scaleSet: 'jit-set' });
    await session.acquireJobs([job.requestId]);
    // Play the runner: claim the assigned job through the fake's runner endpoint from the JIT config.
    const { runnerUrl } = JSON.parse(Buffer.from(encodedJITConfig, 'base64').toString()) as {
      runnerUrl: string;
    };
    const claim = await fetch(`${runnerUrl}/claim`, { method: 'POST' });
    expect(claim.status).toBe(200);
    const err = await client.removeRunner(runner.id).catch((e: unknown) => e);
    expect(isJobStillRunning(err)).toBe(true);
    expect(fake.runners().find((r) => r.id === runner.id)?.status).toBe('busy');
  });

  it('removeRunnerIfPresent: 204 → removed, AgentNotFound → not-found (no error), busy and other statuses throw', async () => {
    const { fake, client, scaleSetId } = await withScaleSet();
    const { runner } = await client.generateJitRunnerConfig(
      { name: 'maybe-gone', workFolder: '' },
      scaleSetId,
    );
    await expect(client.removeRunnerIfPresent(runner.id)).resolves.toBe('removed');
    await expect(client.removeRunnerIfPresent(runner.id)).resolves.toBe('not-found');
    expect(hits(fake, `/_apis/distributedtask/pools/0/agents/${runner.id}`, 'DELETE')).toHaveLength(2);

    const busy = await client.generateJitRunnerConfig({ name: 'busy-two', workFolder: '' }, scaleSetId);
    const session = await client.createMessageSession(scaleSetId, 'host');
    const job = fake.queueJob({ scaleSet: 'jit-set' });
    await session.acquireJobs([job.requestId]);
    const { runnerUrl } = JSON.parse(Buffer.from(busy.encodedJITConfig, 'base64').toString()) as {
      runnerUrl: string;
    };
    expect((await fetch(`${runnerUrl}/claim`, { method: 'POST' })).status).toBe(200);
    const err = await client.removeRunnerIfPresent(busy.runner.id).catch((e: unknown) => e);
    expect(isJobStillRunning(err)).toBe(true);

    // A bare 404 without the type name is not proof the runner is gone: it stays an error.
    fake.faults.inject({ route: 'agent', status: 404, body: '' });
    await expect(client.removeRunnerIfPresent(runner.id)).rejects.toMatchObject({ status: 404 });
    fake.faults.inject({ route: 'agent', status: 200, body: '{}' });
    await expect(client.removeRunnerIfPresent(runner.id)).rejects.toMatchObject({ status: 200 });
  });

  it('§13.43 only 204 is success for removeRunner', async () => {
    const { fake, client } = await withScaleSet();
    fake.faults.inject({ route: 'agent', status: 200, body: '{}' });
    await expect(client.removeRunner(1)).rejects.toMatchObject({ status: 200 });
  });
});
