import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonEvent } from '../../src/events.js';
import { ActionsClient } from '../../src/github/index.js';
import type { JobCompleted, JobStarted } from '../../src/github/types.js';
import { Listener } from '../../src/listener/listener.js';
import { superviseListener } from '../../src/listener/supervisor.js';
import type { Scaler } from '../../src/listener/types.js';
import { Secret } from '../../src/secret.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { runnerUrlOf } from '../fakes/inprocess-backend.js';

const fakes: FakeActionsService[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

/** Records every scaler call in order; can be told to throw on a kind of event. */
class RecordingScaler implements Scaler {
  readonly calls: string[] = [];
  failOn = new Set<string>();
  async handleJobStarted(job: JobStarted) {
    this.calls.push(`started ${job.runnerName}`);
    if (this.failOn.has('started')) throw new Error('scaler failed on purpose');
  }
  async handleJobCompleted(job: JobCompleted) {
    this.calls.push(`completed ${job.runnerName} ${job.result}`);
  }
  async handleDesiredRunnerCount(count: number) {
    this.calls.push(`desired ${count}`);
    return count;
  }
}

async function setup(opts: { holdMs?: number } = {}) {
  const fake = await startFakeActionsService({ holdMs: opts.holdMs ?? 200, sessionIdleTimeoutMs: 60_000 });
  fakes.push(fake);
  const client = new ActionsClient({
    configUrl: fake.configUrl(),
    auth: { kind: 'pat', token: new Secret(fake.pat) },
    retryWaitMin: 5,
    retryWaitMax: 20,
  });
  const ss = await client.createRunnerScaleSet({ name: 'linux', runnerGroupId: 1 });
  return { fake, client, scaleSetId: ss.id! };
}

/** Plays a runner over the fake runner protocol (claim → complete), like run.sh does. */
async function playRunner(client: ActionsClient, scaleSetId: number, name: string) {
  const jit = await client.generateJitRunnerConfig({ name, workFolder: '' }, scaleSetId);
  const url = runnerUrlOf(jit.encodedJITConfig);
  for (;;) {
    const res = await fetch(`${url}/claim`, { method: 'POST' });
    if (res.status === 200) break;
    await res.text();
  }
  await (await fetch(`${url}/complete?exit=0`, { method: 'POST' })).text();
}

describe('listener against the fake Actions service', () => {
  it('drives a job cycle in protocol order, surviving 409 at start, token expiry and a 503 burst', async () => {
    const { fake, client, scaleSetId } = await setup();
    const scaler = new RecordingScaler();
    const ac = new AbortController();
    fake.faults.sessionConflict(2);
    const phases: string[] = [];
    const events: DaemonEvent[] = [];
    const done = superviseListener({
      scaleSet: 'linux',
      signal: ac.signal,
      emit: (ev) => events.push(ev),
      backoff: { initial: 10, max: 50, jitter: 0 },
      openSession: (s) => client.createMessageSession(scaleSetId, 'test-owner', s),
      listen: (session, s) =>
        new Listener(session, scaler, {
          scaleSet: 'linux',
          maxCapacity: () => 3,
          emit: (ev) => events.push(ev),
        }).run(s),
      onPhase: (p) => phases.push(p),
    });
    await fake.waitFor(() => fake.sessions().length === 1, { what: 'a session after two conflicts' });
    expect(fake.requests.filter((r) => r.route === 'sessions').map((r) => r.route)).toHaveLength(3);

    fake.faults.expireQueueTokens();
    fake.faults.expireAdminTokens();
    fake.faults.inject({ route: 'poll', status: 503, times: 3, retryAfter: '0' });
    const job = fake.queueJob({ scaleSet: 'linux' });
    await fake.waitFor(() => fake.jobs()[0]?.state === 'assigned', { what: 'job acquired and assigned' });
    await playRunner(client, scaleSetId, 'runner-a');
    await fake.waitFor(() => scaler.calls.includes('completed runner-a succeeded'), {
      what: 'completion handled',
    });

    // Protocol order (§8.2 / §13.45–48): initial desired count, then started before completed.
    expect(scaler.calls[0]).toBe('desired 0');
    const started = scaler.calls.indexOf('started runner-a');
    expect(started).toBeGreaterThan(0);
    expect(scaler.calls.indexOf('completed runner-a succeeded')).toBeGreaterThan(started);
    // The queue saw a 401 → refresh (PATCH session) → success; the admin token was re-fetched.
    expect(fake.requests.some((r) => r.route === 'session' && r.method === 'PATCH')).toBe(true);
    expect(fake.requests.filter((r) => r.route === 'runner-registration').length).toBeGreaterThan(1);
    expect(job.state).toBe('completed');
    // Every message was acknowledged, and X-ScaleSetMaxCapacity carried our capacity.
    const polls = fake.requests.filter((r) => r.route === 'poll');
    expect(polls.every((r) => r.headers['x-scalesetmaxcapacity'] === '3')).toBe(true);
    expect(phases).toContain('reconnecting');

    ac.abort(new Error('test done'));
    await done;
    expect(fake.sessions()).toHaveLength(0); // the session is deleted on shutdown
    // Two conflicts before the first session; the faults after it may cost a session or more.
    const reasons = events.flatMap((e) => (e.type === 'listener-reconnect' ? [e.reason] : []));
    expect(reasons.slice(0, 2)).toEqual(['session-conflict', 'session-conflict']);
    expect(reasons.slice(2).every((r) => r === 'listener-error')).toBe(true);
    // Every session opened was deleted, and said so once.
    const cleaned = events.filter((e) => e.type === 'cleaned-up');
    expect(cleaned.every((e) => e.kind === 'session' && e.count === 1)).toBe(true);
    expect(cleaned).toHaveLength(reasons.length - 2 + 1);
    // The job's messages, each once, in protocol order.
    const jobEvents = events.filter((e) => e.type.startsWith('job-')).map((e) => e.type);
    expect(jobEvents).toEqual(['job-available', 'job-assigned', 'job-started', 'job-completed']);
    expect(events.every((e) => e.scaleSet === 'linux' && Number.isFinite(e.at))).toBe(true);
  });

  it('a scaler error on one event does not lose the rest of the batch', async () => {
    const { fake, client, scaleSetId } = await setup();
    const scaler = new RecordingScaler();
    scaler.failOn.add('started');
    const session = await client.createMessageSession(scaleSetId, 'owner');
    const listener = new Listener(session, scaler, { scaleSet: 'linux', maxCapacity: () => 5 });
    const ac = new AbortController();
    const run = listener.run(ac.signal).catch((e: unknown) => e);
    fake.queueJob({ scaleSet: 'linux' });
    await fake.waitFor(() => fake.jobs()[0]?.state === 'assigned');
    await playRunner(client, scaleSetId, 'runner-b');
    await fake.waitFor(() => scaler.calls.includes('completed runner-b succeeded'), { what: 'completion' });
    expect(listener.handlerErrors).toBe(1);
    ac.abort(new Error('stop'));
    await run;
    await session.close();
  });

  it('cancelling aborts a held long poll promptly', async () => {
    const { fake, client, scaleSetId } = await setup({ holdMs: 30_000 });
    const session = await client.createMessageSession(scaleSetId, 'owner');
    const listener = new Listener(session, new RecordingScaler(), {
      scaleSet: 'linux',
      maxCapacity: () => 1,
    });
    const ac = new AbortController();
    const run = listener.run(ac.signal);
    await fake.waitFor(() => fake.requests.some((r) => r.route === 'poll'), { what: 'poll in flight' });
    const t0 = Date.now();
    ac.abort(new Error('cancelled'));
    await expect(run).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(1000);
    await session.close();
    expect(fake.sessions()).toHaveLength(0);
  });

  it('survives malformed copies of a message (reconnecting only when a copy has no id) and handles it when it comes back intact', async () => {
    const { fake, client, scaleSetId } = await setup();
    const scaler = new RecordingScaler();
    const ac = new AbortController();
    const events: DaemonEvent[] = [];
    const done = superviseListener({
      scaleSet: 'linux',
      signal: ac.signal,
      emit: (ev) => events.push(ev),
      backoff: { initial: 10, max: 50, jitter: 0 },
      openSession: (s) => client.createMessageSession(scaleSetId, 'owner', s),
      listen: (session, s) =>
        new Listener(session, scaler, { scaleSet: 'linux', maxCapacity: () => 2 }).run(s),
    });
    await fake.waitFor(() => fake.sessions().length === 1);
    for (const kind of ['empty-body', 'bad-json', 'wrong-type', 'null-statistics'] as const)
      fake.faults.malformedMessage(kind);
    fake.faults.malformedMessage('unknown-inner');
    fake.queueJob({ scaleSet: 'linux' });
    await fake.waitFor(() => fake.jobs()[0]?.state === 'assigned', {
      what: 'job acquired despite malformed messages',
      timeout: 15_000,
    });
    ac.abort(new Error('stop'));
    await done;
    // The copies without a usable id (empty, truncated) each ended a session: a listener error, and the
    // session deleted each time. The two that named the message (wrong type, null statistics) were
    // polled for again in the same session, below the arrivals after which it would be acknowledged
    // unread; the unknown inner job message was skipped.
    const reconnects = events.filter((e) => e.type === 'listener-reconnect');
    expect(reconnects.map((e) => e.reason)).toEqual(Array(2).fill('listener-error'));
    expect(events.filter((e) => e.type === 'message-undecodable')).toEqual([]);
    const sessions = events.filter((e) => e.type === 'cleaned-up' && e.kind === 'session');
    expect(sessions).toHaveLength(reconnects.length + 1);
  });
});
