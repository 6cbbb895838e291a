import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createDedalusClient, DedalusHttp, Machine } from '../../backends/dedalus/api/index.js';
import { AnswerWatch } from '../../src/kernel/answers.js';
import { Secret } from '../../src/secret.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { clientFor, recordingSleep, useFakeDedalus } from '../fakes/dedalus/harness.js';
import { StallingServer } from '../fakes/stalling-server.js';
import { reply, startServer } from '../github/helpers/http-server.js';

const SIZE = { vcpu: 1, memory_mib: 1024, storage_gib: 10 };

/** Scheduler states ('R', 'S', 'T', …) of every process in a process group, from /proc. */
function groupStates(pgid: number): string[] {
  const states: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name: state, ppid, pgrp, …
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .split(' ');
      if (Number(fields[2]) === pgid) states.push(fields[0] ?? '?');
    } catch {
      // the process ended while we looked
    }
  }
  return states;
}

async function running(client: ReturnType<typeof clientFor>, id: string): Promise<Machine> {
  return pollUntil(
    async () => {
      const m = await client.machines.retrieve(id);
      return m.status.phase === 'running' ? m : undefined;
    },
    { timeout: 5000, interval: 10, what: `${id} running` },
  );
}

describe('dedalus api client against the fake', () => {
  it('creates a machine (202 accepted), sees it converge, and lists every page', async () => {
    const fake = await useFakeDedalus({ maxPageLimit: 2 });
    const client = clientFor(fake);
    const m = await client.machines.create({ ...SIZE, autosleep: 'never' });
    expect(m.status.phase).toBe('accepted');
    expect(m.autosleep_seconds).toBe(0);
    expect((await running(client, m.machine_id)).desired_state).toBe('running');
    for (let i = 0; i < 4; i++) fake.createMachineDirect();
    const ids: string[] = [];
    for await (const item of client.machines.listAll()) ids.push(item.machine_id);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    expect(fake.requests.filter((r) => r.route === 'machines.list').length).toBe(3);
  });

  it('sends an Idempotency-Key on every mutation and none on reads', async () => {
    const fake = await useFakeDedalus();
    const client = clientFor(fake);
    const m = await client.machines.create(SIZE);
    await running(client, m.machine_id);
    await client.machines.update(m.machine_id, { autosleep: '10m' });
    await client.machines.sleep(m.machine_id);
    await pollUntil(async () => (await client.machines.retrieve(m.machine_id)).status.phase === 'sleeping', {
      timeout: 5000,
      interval: 10,
    });
    await client.machines.wake(m.machine_id);
    await client.machines.delete(m.machine_id);
    const mutations = fake.mutations();
    expect(mutations.map((r) => r.route)).toEqual([
      'machines.create',
      'machines.update',
      'machines.sleep',
      'machines.wake',
      'machines.delete',
    ]);
    for (const r of mutations) expect(r.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(mutations.map((r) => r.idempotencyKey)).size).toBe(mutations.length);
    expect(fake.requests.filter((r) => r.method === 'GET').every((r) => r.idempotencyKey === undefined)).toBe(
      true,
    );
  });

  it('retries 503 and 429 with the same Idempotency-Key, honouring retry_after_ms and the headers', async () => {
    const fake = await useFakeDedalus();
    const rec = recordingSleep();
    const client = clientFor(fake, { sleep: rec.sleep });
    fake.faults.inject({ route: 'machines.create', status: 503, retryAfterMs: 1234 });
    fake.faults.inject({ route: 'machines.create', status: 429, retryAfter: '2' });
    fake.faults.inject({ route: 'machines.create', status: 429, retryAfterMsHeader: '77' });
    const m = await client.machines.create(SIZE);
    const creates = fake.requests.filter((r) => r.route === 'machines.create');
    expect(creates.map((r) => r.status)).toEqual([503, 429, 429, 202]);
    expect(new Set(creates.map((r) => r.idempotencyKey)).size).toBe(1);
    expect(rec.waits).toEqual([1234, 2000, 77]);
    expect(fake.machines().map((x) => x.id)).toEqual([m.machine_id]);
  });

  it('gets the original answer when a committed create loses its response', async () => {
    const fake = await useFakeDedalus();
    const client = clientFor(fake, { sleep: recordingSleep().sleep });
    fake.faults.inject({ route: 'machines.create', kind: 'drop-response' });
    const m = await client.machines.create(SIZE);
    expect(fake.machines()).toHaveLength(1);
    expect(fake.machines()[0]?.id).toBe(m.machine_id);
    const creates = fake.requests.filter((r) => r.route === 'machines.create');
    expect(creates).toHaveLength(2);
    expect(creates[0]?.idempotencyKey).toBe(creates[1]?.idempotencyKey);
  });

  it('surfaces IDEMPOTENCY_KEY_REUSED as a conflict without retrying', async () => {
    const fake = await useFakeDedalus();
    const http = new DedalusHttp({
      baseUrl: fake.url,
      apiKey: new Secret(fake.apiKey),
      sleep: recordingSleep().sleep,
    });
    const schema = Machine;
    const key = 'b1f7a7a4-8d1e-4c1e-9d5e-3d8c2a0f9e11';
    await http.send({ method: 'POST', path: '/v1/machines', body: SIZE, schema, idempotencyKey: key });
    const again = await http.send({
      method: 'POST',
      path: '/v1/machines',
      body: SIZE,
      schema,
      idempotencyKey: key,
    });
    expect(fake.machines()).toHaveLength(1);
    expect(again.machine_id).toBe(fake.machines()[0]?.id);
    const err = await http
      .send({ method: 'POST', path: '/v1/machines', body: { ...SIZE, vcpu: 2 }, schema, idempotencyKey: key })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'DEDALUS_CONFLICT',
      status: 409,
      errorCode: 'IDEMPOTENCY_KEY_REUSED',
      attempts: 1,
    });
  });

  it('gives up after the bounded retries with a typed error that carries the status and error_code', async () => {
    const fake = await useFakeDedalus();
    const rec = recordingSleep();
    const client = clientFor(fake, { sleep: rec.sleep, retry: { maxRetries: 2 } });
    fake.faults.inject({ route: 'machines.list', status: 503, times: 10, errorCode: 'DEPENDENCY_DOWN' });
    const err = await client.machines.list().catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'DEDALUS_UNAVAILABLE',
      status: 503,
      errorCode: 'DEPENDENCY_DOWN',
      attempts: 3,
    });
    expect(rec.waits).toHaveLength(2);
  });

  it('never retries a non-retryable answer, whatever its status, and names an error_code it does not know', async () => {
    const fake = await useFakeDedalus();
    const rec = recordingSleep();
    const client = clientFor(fake, { sleep: rec.sleep });
    fake.faults.inject({
      route: 'machines.list',
      status: 503,
      retryable: false,
      errorCode: 'BRAND_NEW_CODE',
    });
    const err = await client.machines.list().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DEDALUS_UNAVAILABLE', errorCode: 'BRAND_NEW_CODE', attempts: 1 });
    expect((err as Error).message).toContain('BRAND_NEW_CODE');
    expect(rec.waits).toEqual([]);
  });

  it('reads an error body field by field: an odd field is dropped, not the error_code with it', async () => {
    const server = await startServer((_req, res) =>
      reply(
        res,
        409,
        JSON.stringify({
          error_code: 'SOMETHING_UNHEARD_OF',
          message: 'who knows',
          retryable: 'perhaps',
          retry_after_ms: '50000',
          details: { next_sleep_eligible_at: '2026-02-27T00:05:10Z', remaining_ms: 50000 },
        }),
      ),
    );
    const http = createDedalusClient({
      baseUrl: server.url,
      apiKey: new Secret('dk-any-key-123'),
      retry: { maxRetries: 0 },
    });
    const err = await http.machines.sleep('dm-x').catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'DEDALUS_CONFLICT',
      errorCode: 'SOMETHING_UNHEARD_OF',
      retryable: undefined,
      retryAfterMs: 50_000,
      details: { next_sleep_eligible_at: '2026-02-27T00:05:10Z', remaining_ms: '50000' },
    });
    expect((err as Error).message).toContain('error_code="SOMETHING_UNHEARD_OF"');
  });

  it('takes execution ids as opaque strings: any id the API hands out works, escaped in the path', async () => {
    let n = 0;
    const fake = await useFakeDedalus({ newExecutionId: () => `Run:${++n}/ß+é.x` });
    const client = clientFor(fake);
    const m = await client.machines.create(SIZE);
    await running(client, m.machine_id);
    const e = await client.executions.create(m.machine_id, { command: ['/bin/sh', '-c', 'echo hi'] });
    expect(e.execution_id).toBe('Run:1/ß+é.x');
    await pollUntil(
      async () => (await client.executions.retrieve(m.machine_id, e.execution_id)).status === 'succeeded',
      { timeout: 5000, interval: 10, what: 'execution done' },
    );
    expect((await client.executions.output(m.machine_id, e.execution_id)).stdout).toBe('hi\n');
    expect((await client.executions.events(m.machine_id, e.execution_id)).items.length).toBeGreaterThan(0);
    await client.executions.delete(m.machine_id, e.execution_id);
    // Only what URL parsing would turn into another path is refused.
    expect(() => client.executions.retrieve(m.machine_id, '..')).toThrow(/invalid execution id/);
    expect(() => client.executions.retrieve(m.machine_id, '')).toThrow(/invalid execution id/);
  });

  it('refuses a sleep inside the hold window after a wake, with the documented body, and allows it once eligible', async () => {
    const fake = await useFakeDedalus({ sleepHoldWindowMs: 1500 });
    const rec = recordingSleep();
    const client = clientFor(fake, { sleep: rec.sleep });
    const m = await client.machines.create(SIZE);
    await running(client, m.machine_id);
    const err = await client.machines
      .sleep(m.machine_id, undefined, { maxRetries: 0 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'DEDALUS_CONFLICT',
      status: 409,
      errorCode: 'SLEEP_HOLD_WINDOW_ACTIVE',
      retryable: true,
      retryAfterMs: expect.any(Number),
      details: { next_sleep_eligible_at: expect.any(String), remaining_ms: expect.any(String) },
    });
    const { retryAfterMs, details } = err as { retryAfterMs: number; details: Record<string, string> };
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(1500);
    expect(Date.parse(details.next_sleep_eligible_at ?? '')).toBe(fake.sleepEligibleAt(m.machine_id));
    // Sent once: the caller decides when to ask again.
    expect(fake.requests.filter((r) => r.route === 'machines.sleep')).toHaveLength(1);
    expect(rec.waits).toEqual([]);
    await fake.waitFor(() => fake.sleepEligibleAt(m.machine_id) === undefined, { what: 'eligible' });
    await client.machines.sleep(m.machine_id, undefined, { maxRetries: 0 });
    await fake.waitFor(() => fake.machine(m.machine_id)?.phase === 'sleeping', { what: 'asleep' });
  });

  it('can report a destroyed machine with phase destroyed instead of 404', async () => {
    const fake = await useFakeDedalus({ destroyedMachines: 'listed' });
    const client = clientFor(fake);
    const m = await client.machines.create(SIZE);
    await running(client, m.machine_id);
    await client.machines.delete(m.machine_id);
    await fake.waitFor(() => fake.machine(m.machine_id)?.phase === 'destroyed', { what: 'destroyed' });
    expect((await client.machines.retrieve(m.machine_id)).status.phase).toBe('destroyed');
    const listed = [];
    for await (const x of client.machines.listAll()) listed.push(x.status.phase);
    expect(listed).toEqual(['destroyed']);
    await client.machines.delete(m.machine_id);
  });

  it('maps 401 and 404 to DEDALUS_AUTH and DEDALUS_NOT_FOUND, unretried', async () => {
    const fake = await useFakeDedalus();
    const bad = clientFor(fake, { apiKey: new Secret('dk-wrong-key-0000') });
    await expect(bad.machines.list()).rejects.toMatchObject({ code: 'DEDALUS_AUTH', status: 401 });
    const client = clientFor(fake);
    await expect(client.machines.retrieve('dm-nope')).rejects.toMatchObject({ code: 'DEDALUS_NOT_FOUND' });
    expect(fake.requests).toHaveLength(2);
  });

  it('refuses responses that do not match the documented shape', async () => {
    const server = await startServer((req, res) => {
      if (req.url.startsWith('/v1/machines/dm-bad'))
        reply(res, 200, JSON.stringify({ machine_id: 'dm-bad' }));
      else reply(res, 200, 'not json');
    });
    const http = createDedalusClient({ baseUrl: server.url, apiKey: new Secret('dk-any-key-123') });
    await expect(http.machines.retrieve('dm-bad')).rejects.toMatchObject({
      code: 'DEDALUS_INVALID_RESPONSE',
      message: expect.stringContaining('status'),
    });
    await expect(http.machines.list()).rejects.toMatchObject({ code: 'DEDALUS_INVALID_RESPONSE' });
    expect(() => http.machines.retrieve('../etc')).toThrow(/invalid machine id/);
  });

  it('runs executions with env and stdin, maps /home/machine, and reports output and events', async () => {
    const fake = await useFakeDedalus({ maxPageLimit: 3 });
    const client = clientFor(fake);
    const m = await client.machines.create(SIZE);
    await running(client, m.machine_id);
    const e = await client.executions.create(m.machine_id, {
      command: [
        '/bin/sh',
        '-c',
        'cat > /home/machine/in.txt; echo "$SECRET_X" > /home/machine/env.txt; echo out; echo err >&2; exit 3',
      ],
      env: { SECRET_X: 'from-env' },
      stdin: 'from-stdin',
    });
    const done = await pollUntil(
      async () => {
        const x = await client.executions.retrieve(m.machine_id, e.execution_id);
        return x.status === 'failed' ? x : undefined;
      },
      { timeout: 5000, interval: 10 },
    );
    expect(done.exit_code).toBe(3);
    const home = fake.machine(m.machine_id)?.dirs.home ?? '';
    expect(readFileSync(join(home, 'in.txt'), 'utf8')).toBe('from-stdin');
    expect(readFileSync(join(home, 'env.txt'), 'utf8')).toBe('from-env\n');
    expect((await client.executions.output(m.machine_id, e.execution_id)).stdout).toBe('out\n');
    const events = [];
    let cursor: string | undefined;
    do {
      const page = await client.executions.events(m.machine_id, e.execution_id, cursor ? { cursor } : {});
      events.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    expect(events.map((x) => x.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((x) => x.type === 'lifecycle').map((x) => x.status)).toEqual(['running', 'failed']);
    expect(events.find((x) => x.type === 'stdout')?.chunk).toBe('out\n');
    expect(fake.requests.filter((r) => r.route === 'executions.events').length).toBeGreaterThan(1);
    const list = await client.executions.list(m.machine_id);
    expect(list.items.map((x) => x.execution_id)).toEqual([e.execution_id]);
  });

  it('expires an execution at timeout_ms and cancels one on DELETE, killing the process', async () => {
    const fake = await useFakeDedalus();
    const client = clientFor(fake);
    const m = await client.machines.create(SIZE);
    await running(client, m.machine_id);
    const slow = ['/bin/sh', '-c', 'sleep 30'];
    const timed = await client.executions.create(m.machine_id, { command: slow, timeout_ms: 100 });
    const cancelled = await client.executions.create(m.machine_id, { command: slow });
    const gone = await client.executions.delete(m.machine_id, cancelled.execution_id);
    expect(gone?.status).toBe('cancelled');
    await pollUntil(
      async () => (await client.executions.retrieve(m.machine_id, timed.execution_id)).status === 'expired',
      { timeout: 5000, interval: 10, what: 'expired' },
    );
    await fake.waitFor(() => fake.executions(m.machine_id).every((x) => x.child === undefined), {
      what: 'processes gone',
    });
  });

  it('wakes a sleeping machine implicitly for an execution, and wipes the root filesystem but not home at sleep', async () => {
    const fake = await useFakeDedalus();
    const client = clientFor(fake);
    const m = await client.machines.create(SIZE);
    await running(client, m.machine_id);
    const write = await client.executions.create(m.machine_id, {
      command: ['/bin/sh', '-c', 'echo a > /home/machine/keep && echo b > /tmp/lose'],
    });
    await pollUntil(
      async () => (await client.executions.retrieve(m.machine_id, write.execution_id)).status === 'succeeded',
      {
        timeout: 5000,
        interval: 10,
      },
    );
    await client.machines.sleep(m.machine_id);
    const states: string[] = [];
    for await (const s of client.machines.watch(m.machine_id, AbortSignal.timeout(5000)))
      states.push(s.status.phase);
    expect(states.at(-1)).toBe('sleeping');
    const dirs = fake.machine(m.machine_id)?.dirs;
    expect(existsSync(join(dirs?.home ?? '', 'keep'))).toBe(true);
    expect(existsSync(join(dirs?.tmp ?? '', 'lose'))).toBe(false);
    const e = await client.executions.create(m.machine_id, { command: ['/bin/true'] });
    expect(e.status).toBe('wake_in_progress');
    expect(e.retry_after_ms).toBeGreaterThan(0);
    await pollUntil(
      async () => (await client.executions.retrieve(m.machine_id, e.execution_id)).status === 'succeeded',
      {
        timeout: 5000,
        interval: 10,
        what: 'execution after implicit wake',
      },
    );
  });

  it("freezes a running execution at sleep and resumes it at wake (the fake's pick for an [unknown])", async () => {
    const fake = await useFakeDedalus();
    const client = clientFor(fake);
    const m = await client.machines.create(SIZE);
    await running(client, m.machine_id);
    const e = await client.executions.create(m.machine_id, {
      command: ['/bin/sh', '-c', 'while [ ! -f /home/machine/go ]; do sleep 0.02; done'],
    });
    await client.machines.sleep(m.machine_id);
    await fake.waitFor(() => fake.machine(m.machine_id)?.phase === 'sleeping', { what: 'asleep' });
    const pid = fake.executions(m.machine_id)[0]?.child?.pid ?? -1;
    // Signal delivery is asynchronous: wait until the kernel shows the group stopped. A shell caught in
    // vfork() for a stopped child shows 'D' (waiting on it), which is just as frozen; a `sleep 0.02`
    // that ended as the group stopped stays 'Z' (a zombie: its stopped shell cannot reap it), which
    // runs nothing (the fresh-clone CI of 6d53075 waited 10 s for a group that was exactly that).
    await fake.waitFor(
      () => {
        const states = groupStates(pid);
        return states.includes('T') && states.every((st) => st === 'T' || st === 'D' || st === 'Z');
      },
      { what: 'process group stopped' },
    );
    expect((await client.executions.retrieve(m.machine_id, e.execution_id)).status).toBe('running');
    writeFileSync(join(fake.machine(m.machine_id)?.dirs.home ?? '', 'go'), '');
    await client.machines.wake(m.machine_id);
    await pollUntil(
      async () => (await client.executions.retrieve(m.machine_id, e.execution_id)).status === 'succeeded',
      {
        timeout: 5000,
        interval: 10,
        what: 'resumed execution done',
      },
    );
  });

  it('can answer 409 instead: sleep with a running execution, or an execution on a sleeping machine', async () => {
    const fake = await useFakeDedalus({ sleepWithRunning: 'conflict', execOnSleeping: 'conflict' });
    const client = clientFor(fake, { sleep: recordingSleep().sleep });
    const m = await client.machines.create(SIZE);
    await running(client, m.machine_id);
    const e = await client.executions.create(m.machine_id, { command: ['/bin/sh', '-c', 'sleep 30'] });
    await expect(client.machines.sleep(m.machine_id)).rejects.toMatchObject({
      code: 'DEDALUS_CONFLICT',
      errorCode: 'EXECUTIONS_RUNNING',
    });
    await client.executions.delete(m.machine_id, e.execution_id);
    await client.machines.sleep(m.machine_id);
    await fake.waitFor(() => fake.machine(m.machine_id)?.phase === 'sleeping', { what: 'asleep' });
    await expect(client.executions.create(m.machine_id, { command: ['/bin/true'] })).rejects.toMatchObject({
      code: 'DEDALUS_CONFLICT',
      errorCode: 'MACHINE_SLEEPING',
    });
  });

  it('autosleeps an idle machine, but not while an execution runs', async () => {
    const fake = await useFakeDedalus();
    const client = clientFor(fake);
    const m = await client.machines.create({ ...SIZE, autosleep: '1' });
    await running(client, m.machine_id);
    const e = await client.executions.create(m.machine_id, { command: ['/bin/sh', '-c', 'sleep 1.5'] });
    await pollUntil(
      async () => (await client.executions.retrieve(m.machine_id, e.execution_id)).status === 'succeeded',
      {
        timeout: 5000,
        interval: 20,
      },
    );
    expect(fake.machine(m.machine_id)?.history).not.toContain('stopping');
    await fake.waitFor(() => fake.machine(m.machine_id)?.phase === 'sleeping', {
      what: 'autosleep',
      timeout: 5000,
    });
    expect(fake.machine(m.machine_id)?.reason).toBe('autosleep');
  });

  it('reports compute usage rows with awake seconds', async () => {
    const fake = await useFakeDedalus();
    const client = clientFor(fake);
    const m = await client.machines.create(SIZE);
    await running(client, m.machine_id);
    const rows = await client.usage.compute({ machineId: m.machine_id });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ machine_id: m.machine_id, awake_seconds: expect.any(Number) });
  });
});

describe('dedalus api client against an API that accepts connections and never answers', () => {
  it('tells its AnswerWatch: silent from the first unanswered request, answering again after a reply', async () => {
    const stalled = await StallingServer.start();
    onTestFinished(() => stalled.close());
    const clock = { now: () => Date.now() };
    const answers = new AnswerWatch(clock);
    const sentAt = Date.now();
    const http = new DedalusHttp({
      baseUrl: stalled.url,
      apiKey: new Secret('dsk-stall-test'),
      retry: { maxRetries: 0 },
      timeoutMs: 300,
      answers,
    });
    await expect(
      http.send({ method: 'GET', path: '/v1/machines', schema: Machine.optional() }),
    ).rejects.toThrow();
    const silence = answers.silence();
    expect(silence?.since).toBeGreaterThanOrEqual(sentAt);
    expect(silence?.lastError).toMatch(/^GET \/v1\/machines: .*timeout/i);
    // The request's connection is not left open behind the deadline.
    await pollUntil(() => stalled.open === 0, { timeout: 2_000, what: 'the stalled connection closed' });

    // The same watch, told by an API that answers (even with an error), is no longer silent.
    const fake = await useFakeDedalus();
    const answering = new DedalusHttp({
      baseUrl: fake.url,
      apiKey: new Secret('wrong-key'),
      answers,
      retry: { maxRetries: 0 },
    });
    await expect(
      answering.send({ method: 'GET', path: '/v1/machines', schema: Machine.optional() }),
    ).rejects.toThrow();
    expect(answers.silence()).toBeUndefined();
  });
});
