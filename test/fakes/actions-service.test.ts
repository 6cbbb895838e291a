import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createAppJwt } from '../../src/github/jwt.js';
import type { FakeActionsService, FakeOptions } from './actions-service/index.js';
import {
  actions,
  admin,
  adminWith,
  createScaleSet,
  http,
  jitConfig,
  startTestFake,
} from './actions-service/testing.js';

async function start(opts: FakeOptions = {}): Promise<FakeActionsService> {
  const fake = await startTestFake(opts);
  onTestFinished(() => fake.close());
  return fake;
}

describe('fake Actions service: auth chain', () => {
  it('issues a registration token for a PAT, with and without /api/v3, and rejects a wrong one', async () => {
    const fake = await start();
    for (const prefix of ['', '/api/v3']) {
      const ok = await http(`${fake.url}${prefix}/repos/o/r/actions/runners/registration-token`, {
        method: 'POST',
        token: fake.pat,
      });
      expect(ok.status).toBe(201);
      expect(ok.json?.token).toEqual(expect.any(String));
      expect(ok.headers.get('x-github-request-id')).toMatch(/^FAKE:/);
    }
    const bad = await http(`${fake.url}/orgs/my-org/actions/runners/registration-token`, {
      method: 'POST',
      token: 'ghp_wrong',
    });
    expect(bad.status).toBe(401);
  });

  it('hands out the Actions URL and an admin JWT with exp for a known registration token only', async () => {
    const fake = await start({ adminTokenTtlSec: 600 });
    const a = await admin(fake);
    expect(a.url).toBe(`${fake.url}/tenant/123/`);
    const claims = JSON.parse(Buffer.from(a.token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    expect(claims.exp - Date.now() / 1000).toBeGreaterThan(590);
    expect(claims.exp - Date.now() / 1000).toBeLessThanOrEqual(600);

    const register = (auth: string, body: unknown) =>
      http(`${fake.url}/actions/runner-registration`, { method: 'POST', auth, body });
    expect(
      (await register('RemoteAuth nope', { url: fake.configUrl(), runner_event: 'register' })).status,
    ).toBe(401);
    const reg = await http(`${fake.url}/orgs/my-org/actions/runners/registration-token`, {
      method: 'POST',
      token: fake.pat,
    });
    const token = String(reg.json?.token);
    expect((await register(`RemoteAuth ${token}`, { url: fake.configUrl() })).status).toBe(400);
    // A token issued for my-org does not register another org.
    const other = await register(`RemoteAuth ${token}`, {
      url: fake.configUrl('other'),
      runner_event: 'register',
    });
    expect(other.status).toBe(404);
  });

  it('accepts a GitHub App JWT (RS256, iss = client id, exp ahead) and its installation token', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const app = {
      clientId: 'Iv1.abc',
      installationId: 42,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    const fake = await start({ app });
    const tokenUrl = (id: number) => `${fake.url}/api/v3/app/installations/${id}/access_tokens`;

    const good = await http(tokenUrl(42), {
      method: 'POST',
      token: createAppJwt('Iv1.abc', pem, Date.now()),
    });
    expect(good.status).toBe(201);
    expect(String(good.json?.token)).toMatch(/^ghs_/);
    const a = await adminWith(fake, String(good.json?.token));
    expect(a.token.split('.')).toHaveLength(3);

    const wrongIss = await http(tokenUrl(42), {
      method: 'POST',
      token: createAppJwt('Iv1.other', pem, Date.now()),
    });
    expect(wrongIss.status).toBe(401);
    const expired = await http(tokenUrl(42), {
      method: 'POST',
      token: createAppJwt('Iv1.abc', pem, Date.now() - 3_600_000),
    });
    expect(expired.status).toBe(401);
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const forged = await http(tokenUrl(42), {
      method: 'POST',
      token: createAppJwt('Iv1.abc', otherKey.toString(), Date.now()),
    });
    expect(forged.status).toBe(401);
    const wrongInstallation = await http(tokenUrl(7), {
      method: 'POST',
      token: createAppJwt('Iv1.abc', pem, Date.now()),
    });
    expect(wrongInstallation.status).toBe(404);
    // Apps cannot register enterprise runners.
    await expect(adminWith(fake, String(good.json?.token), 'enterprises/e')).rejects.toThrow(/403/);
  });

  it('guards _apis with api-version and the current admin token, tagging answers with ActivityId', async () => {
    const fake = await start();
    const a = await admin(fake);
    const noVersion = await http(`${a.url}_apis/runtime/runnerscalesets?name=x`, { token: a.token });
    expect(noVersion.status).toBe(400);
    expect(noVersion.headers.get('activityid')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await actions(a, 'GET', '_apis/runtime/runnerscalesets', undefined, fake.pat)).status).toBe(401);
    expect((await actions(a, 'GET', '_apis/runtime/runnerscalesets', undefined, 'a.b.c')).status).toBe(401);
    expect((await actions(a, 'GET', '_apis/runtime/runnerscalesets')).status).toBe(200);
  });
});

describe('fake Actions service: runner groups and scale sets', () => {
  it('looks groups up by name; the default group is id 1 "Default"', async () => {
    const fake = await start();
    const a = await admin(fake);
    const gid = fake.addRunnerGroup('gpu');
    const byName = async (n: string) =>
      (await actions(a, 'GET', `_apis/runtime/runnergroups/?groupName=${n}`)).json;
    expect(await byName('Default')).toEqual({
      count: 1,
      value: [{ id: 1, name: 'Default', size: 0, isDefaultGroup: true }],
    });
    expect(await byName('gpu')).toMatchObject({ count: 1, value: [{ id: gid, name: 'gpu' }] });
    expect(await byName('nope')).toEqual({ count: 0, value: [] });
  });

  it('creates, finds by name, merges a PATCH and deletes scale sets', async () => {
    const fake = await start();
    const a = await admin(fake);
    const created = await actions(a, 'POST', '_apis/runtime/runnerscalesets', {
      name: 'linux',
      runnerGroupId: 1,
      labels: [{ name: 'linux' }, { type: 'System', name: 'x64' }],
      RunnerSetting: { disableUpdate: true },
      createdOn: '0001-01-01T00:00:00Z',
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      name: 'linux',
      runnerGroupId: 1,
      runnerGroupName: 'Default',
      labels: [
        { type: 'System', name: 'linux' },
        { type: 'System', name: 'x64' },
      ],
      RunnerSetting: { disableUpdate: true },
      statistics: { totalAssignedJobs: 0 },
    });
    const id = Number(created.json?.id);
    expect(id).toBeGreaterThan(0);
    expect(Date.parse(String(created.json?.createdOn))).toBeGreaterThan(Date.now() - 60_000);

    const find = (q: string) => actions(a, 'GET', `_apis/runtime/runnerscalesets?${q}`);
    expect((await find('runnerGroupId=1&name=linux')).json).toMatchObject({ count: 1, value: [{ id }] });
    expect((await find('runnerGroupId=1&name=other')).json).toEqual({ count: 0, value: [] });
    expect(await createScaleSetStatus(a, 'linux')).toBe(409);

    const gid = fake.addRunnerGroup('moved');
    const patched = await actions(a, 'PATCH', `_apis/runtime/runnerscalesets/${id}`, {
      runnerGroupId: gid,
      RunnerSetting: {},
      createdOn: '0001-01-01T00:00:00Z',
    });
    expect(patched.json).toMatchObject({ id, name: 'linux', runnerGroupId: gid, runnerGroupName: 'moved' });
    expect(patched.json?.labels).toHaveLength(2);
    const renamed = await actions(a, 'PATCH', `_apis/runtime/runnerscalesets/${id}`, {
      name: 'linux-2',
      runnerGroupId: 0,
    });
    expect(renamed.json).toMatchObject({ name: 'linux-2', runnerGroupId: gid });

    expect((await actions(a, 'DELETE', `_apis/runtime/runnerscalesets/${id}`)).status).toBe(204);
    const gone = await actions(a, 'GET', `_apis/runtime/runnerscalesets/${id}`);
    expect(gone.status).toBe(404);
    expect(String(gone.json?.typeName)).toContain('RunnerScaleSetNotFoundException');
    expect(fake.scaleSets()).toEqual([]);
  });

  it('GHES mode: without the custom-labels flag a create or update keeps only the name label; with it, all', async () => {
    const fake = await start({ ghes: { customLabelsFlag: false } });
    const a = await admin(fake);
    const labels = [
      { type: 'System', name: 'linux' },
      { type: 'System', name: 'gpu' },
    ];
    const created = await actions(a, 'POST', '_apis/runtime/runnerscalesets', { name: 'linux', labels });
    expect(created.status).toBe(200);
    expect(created.json?.labels).toEqual([{ type: 'System', name: 'linux' }]);
    const id = Number(created.json?.id);
    const patch = () => actions(a, 'PATCH', `_apis/runtime/runnerscalesets/${id}`, { name: 'linux', labels });
    expect((await patch()).json?.labels).toEqual([{ type: 'System', name: 'linux' }]);
    fake.ghes({ customLabelsFlag: true });
    expect((await patch()).json?.labels).toEqual(labels);
    expect(fake.scaleSets()[0]?.labels).toEqual(labels);
    // Labels without the name: GHES still gives the scale set its name as its one label.
    fake.ghes({ customLabelsFlag: false });
    const other = await actions(a, 'POST', '_apis/runtime/runnerscalesets', {
      name: 'other',
      labels: [{ type: 'System', name: 'gpu' }],
    });
    expect(other.json?.labels).toEqual([{ type: 'System', name: 'other' }]);
  });

  it('defaults the labels to the name and rejects unknown groups', async () => {
    const fake = await start();
    const a = await admin(fake);
    const r = await actions(a, 'POST', '_apis/runtime/runnerscalesets', { name: 'plain' });
    expect(r.json).toMatchObject({ runnerGroupId: 1, labels: [{ type: 'System', name: 'plain' }] });
    const bad = await actions(a, 'POST', '_apis/runtime/runnerscalesets', { name: 'x', runnerGroupId: 99 });
    expect(bad.status).toBe(404);
  });
});

async function createScaleSetStatus(a: Awaited<ReturnType<typeof admin>>, name: string): Promise<number> {
  return (await actions(a, 'POST', '_apis/runtime/runnerscalesets', { name, runnerGroupId: 1 })).status;
}

describe('fake Actions service: JIT configs and agents', () => {
  it('registers runners once per name, lists, gets and removes them', async () => {
    const fake = await start();
    const a = await admin(fake);
    const ss = await createScaleSet(a, 'linux');
    const r1 = await jitConfig(a, ss, 'runner-1');
    const cfg = JSON.parse(Buffer.from(r1.jit, 'base64').toString()) as { runnerUrl: string };
    expect(cfg.runnerUrl).toMatch(new RegExp(`^${fake.url}/_fake/runners/${r1.id}/[0-9a-f]+$`));

    const dup = await actions(a, 'POST', `_apis/runtime/runnerscalesets/${ss}/generatejitconfig`, {
      name: 'runner-1',
      workFolder: '',
    });
    expect(dup.status).toBe(409);
    expect(String(dup.json?.typeName)).toContain('AgentExistsException');
    expect(
      (
        await actions(a, 'POST', '_apis/runtime/runnerscalesets/99/generatejitconfig', {
          name: 'x',
          workFolder: '',
        })
      ).status,
    ).toBe(404);

    const byName = await actions(a, 'GET', '_apis/distributedtask/pools/0/agents?agentName=runner-1');
    expect(byName.json).toMatchObject({
      count: 1,
      value: [{ id: r1.id, name: 'runner-1', runnerScaleSetId: ss }],
    });
    expect((await actions(a, 'GET', '_apis/distributedtask/pools/0/agents?agentName=none')).json).toEqual({
      count: 0,
      value: [],
    });
    expect((await actions(a, 'GET', `_apis/distributedtask/pools/0/agents/${r1.id}`)).json).toMatchObject({
      name: 'runner-1',
    });
    expect(fake.runners()).toMatchObject([
      { id: r1.id, name: 'runner-1', scaleSetId: ss, status: 'offline' },
    ]);

    expect((await actions(a, 'DELETE', `_apis/distributedtask/pools/0/agents/${r1.id}`)).status).toBe(204);
    const missing = await actions(a, 'DELETE', `_apis/distributedtask/pools/0/agents/${r1.id}`);
    expect(missing.status).toBe(404);
    expect(String(missing.json?.typeName)).toContain('AgentNotFoundException');
    expect(fake.runners()).toEqual([]);
  });
});

describe('fake Actions service: standalone', () => {
  it('prints its URL and PAT as one JSON line, serves, and exits on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fakes/actions-service/main.ts', '--port', '0', '--hold-ms', '100'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const exited = once(child, 'exit');
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const info = JSON.parse(line) as { url: string; configUrl: string; pat: string };
    expect(info.configUrl).toBe(`${info.url}/my-org`);
    const res = await http(`${info.url}/api/v3/orgs/my-org/actions/runners/registration-token`, {
      method: 'POST',
      token: info.pat,
    });
    expect(res.status).toBe(201);
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  });
});
