import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeActionsService, startFakeActionsService } from './actions-service/index.js';

const fakes: FakeActionsService[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

async function start(opts: Parameters<typeof startFakeActionsService>[0] = {}) {
  const f = await startFakeActionsService({ holdMs: 300, runnerClaimHoldMs: 2000, ...opts });
  fakes.push(f);
  return f;
}

/** Walks the auth chain over HTTP and returns the Actions base URL and admin token. */
async function admin(f: FakeActionsService) {
  const reg = await fetch(`${f.url}/api/v3/orgs/my-org/actions/runners/registration-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${f.pat}` },
  });
  expect(reg.status).toBe(201);
  const { token } = (await reg.json()) as { token: string };
  const rr = await fetch(`${f.url}/api/v3/actions/runner-registration`, {
    method: 'POST',
    headers: { authorization: `RemoteAuth ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: f.configUrl(), runner_event: 'register' }),
  });
  expect(rr.status).toBe(201);
  return (await rr.json()) as { url: string; token: string };
}

async function api(
  base: { url: string; token: string },
  method: string,
  path: string,
  body?: unknown,
  token = base.token,
) {
  const sep = path.includes('?') ? '&' : '?';
  const res = await fetch(`${base.url}${path}${sep}api-version=6.0-preview`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

describe('fake Actions service', () => {
  it('rejects a wrong PAT and a missing api-version, and tags responses', async () => {
    const f = await start();
    const bad = await fetch(`${f.url}/orgs/my-org/actions/runners/registration-token`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('x-github-request-id')).toMatch(/^FAKE:/);
    const a = await admin(f);
    const noVersion = await fetch(`${a.url}_apis/runtime/runnerscalesets?name=x&runnerGroupId=1`, {
      headers: { authorization: `Bearer ${a.token}` },
    });
    expect(noVersion.status).toBe(400);
    expect(noVersion.headers.get('activityid')).toBeTruthy();
  });

  it('runs a job cycle with the real run.sh: claim, script, complete, messages in order', async () => {
    const f = await start();
    const a = await admin(f);
    const ss = (
      await api(a, 'POST', '_apis/runtime/runnerscalesets', {
        name: 'linux',
        runnerGroupId: 1,
        labels: [{ type: 'System', name: 'linux' }],
      })
    ).json!;
    const sess = (
      await api(a, 'POST', `_apis/runtime/runnerscalesets/${ss.id}/sessions`, { ownerName: 'me' })
    ).json!;
    const conflict = await api(a, 'POST', `_apis/runtime/runnerscalesets/${ss.id}/sessions`, {
      ownerName: 'me',
    });
    expect(conflict.status).toBe(409);
    expect(String(conflict.json?.typeName)).toContain('RunnerScaleSetSessionConflictException');

    const queueUrl = String(sess.messageQueueUrl);
    const qt = String(sess.messageQueueAccessToken);
    const pollOnce = async (last = 0) => {
      const res = await fetch(`${queueUrl}${last ? `?lastMessageId=${last}` : ''}`, {
        headers: { authorization: `Bearer ${qt}`, 'x-scalesetmaxcapacity': '5' },
      });
      return {
        status: res.status,
        body: res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined,
      };
    };
    expect((await pollOnce()).status).toBe(202);

    const job = f.queueJob({ scaleSet: 'linux', script: 'echo hello > out.txt' });
    const m1 = await pollOnce();
    expect(m1.status).toBe(200);
    const events = JSON.parse(String(m1.body!.body)) as { messageType: string; runnerRequestId: number }[];
    expect(events.map((e) => e.messageType)).toEqual(['JobAvailable']);
    const del = await fetch(`${queueUrl}/${m1.body!.messageId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${qt}` },
    });
    expect(del.status).toBe(204);
    const acq = await api(
      a,
      'POST',
      `_apis/runtime/runnerscalesets/${ss.id}/acquirejobs`,
      [job.requestId],
      qt,
    );
    expect(acq.json).toEqual({ count: 1, value: [job.requestId] });

    const jit = (
      await api(a, 'POST', `_apis/runtime/runnerscalesets/${ss.id}/generatejitconfig`, {
        name: 'r1',
        workFolder: '',
      })
    ).json!;
    const dup = await api(a, 'POST', `_apis/runtime/runnerscalesets/${ss.id}/generatejitconfig`, {
      name: 'r1',
      workFolder: '',
    });
    expect(String(dup.json?.typeName)).toContain('AgentExistsException');

    const { mkdtemp, cp, readFile } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/fake-runner-');
    await cp('test/fakes/runner/run.sh', `${dir}/run.sh`);
    const child = spawn('sh', [`${dir}/run.sh`], {
      env: { ...process.env, ACTIONS_RUNNER_INPUT_JITCONFIG: String(jit.encodedJITConfig) },
      stdio: 'inherit',
    });
    const exit = new Promise<number | null>((r) => child.on('exit', r));
    await f.waitFor(() => f.jobs()[0]?.state === 'completed', { what: 'job completed' });
    expect(await exit).toBe(0);
    expect(f.jobs()[0]!.result).toBe('succeeded');
    expect(await readFile(`${dir}/_work/out.txt`, 'utf8')).toBe('hello\n');
    expect(f.runners()).toHaveLength(0); // ephemeral registration removed

    const all: string[] = [];
    let last = Number(m1.body!.messageId);
    while (all.length < 3) {
      const m = await pollOnce(last);
      if (m.status !== 200) continue;
      last = Number(m.body!.messageId);
      all.push(...(JSON.parse(String(m.body!.body)) as { messageType: string }[]).map((e) => e.messageType));
    }
    expect(all).toEqual(['JobAssigned', 'JobStarted', 'JobCompleted']);
  });

  it('fails a job whose runner dies mid-run (lease dropped)', async () => {
    const f = await start();
    const a = await admin(f);
    const ss = (await api(a, 'POST', '_apis/runtime/runnerscalesets', { name: 'linux', runnerGroupId: 1 }))
      .json!;
    const sess = (
      await api(a, 'POST', `_apis/runtime/runnerscalesets/${ss.id}/sessions`, { ownerName: 'me' })
    ).json!;
    const job = f.queueJob({ scaleSet: 'linux', script: 'sleep 30' });
    await api(
      a,
      'POST',
      `_apis/runtime/runnerscalesets/${ss.id}/acquirejobs`,
      [job.requestId],
      String(sess.messageQueueAccessToken),
    );
    const jit = (
      await api(a, 'POST', `_apis/runtime/runnerscalesets/${ss.id}/generatejitconfig`, {
        name: 'r1',
        workFolder: '',
      })
    ).json!;
    const child = spawn('sh', ['test/fakes/runner/run.sh'], {
      env: { ...process.env, ACTIONS_RUNNER_INPUT_JITCONFIG: String(jit.encodedJITConfig) },
      detached: true,
      stdio: 'ignore',
    });
    await f.waitFor(() => f.requests.some((r) => r.path.endsWith('/lease')), { what: 'lease opened' });
    const busyDelete = await api(
      a,
      'DELETE',
      `_apis/distributedtask/pools/0/agents/${(jit.runner as { id: number }).id}`,
    );
    expect(String(busyDelete.json?.typeName)).toContain('JobStillRunningException');
    process.kill(-child.pid!, 'SIGKILL');
    await f.waitFor(() => f.jobs()[0]?.state === 'completed', { what: 'job failed' });
    expect(f.jobs()[0]!.result).toBe('failed');
  });

  it('injects faults: status with Retry-After, down, dropped polls, expired queue token', async () => {
    const f = await start();
    f.faults.inject({ route: 'registration-token', status: 503, retryAfter: '2' });
    const r = await fetch(`${f.url}/orgs/my-org/actions/runners/registration-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.pat}` },
    });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('2');
    f.faults.down();
    await expect(
      fetch(`${f.url}/orgs/x/actions/runners/registration-token`, { method: 'POST' }),
    ).rejects.toThrow();
    f.faults.up();
    const a = await admin(f);
    const ss = (await api(a, 'POST', '_apis/runtime/runnerscalesets', { name: 's', runnerGroupId: 1 })).json!;
    const sess = (
      await api(a, 'POST', `_apis/runtime/runnerscalesets/${ss.id}/sessions`, { ownerName: 'me' })
    ).json!;
    f.faults.dropPolls(1);
    await expect(
      fetch(String(sess.messageQueueUrl), {
        headers: { authorization: `Bearer ${sess.messageQueueAccessToken}` },
      }),
    ).rejects.toThrow();
    f.faults.expireQueueTokens();
    const expired = await fetch(String(sess.messageQueueUrl), {
      headers: { authorization: `Bearer ${sess.messageQueueAccessToken}` },
    });
    expect(expired.status).toBe(401);
    f.faults.expireAdminTokens();
    const stale = await api(a, 'GET', '_apis/runtime/runnerscalesets?name=s&runnerGroupId=1');
    expect(stale.status).toBe(401);
  });

  it('runs standalone and prints its URL', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fakes/actions-service/main.ts', '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout! }).once('line', resolve),
    );
    const info = JSON.parse(line) as { url: string; pat: string };
    const res = await fetch(`${info.url}/orgs/my-org/actions/runners/registration-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.pat}` },
    });
    expect(res.status).toBe(201);
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
