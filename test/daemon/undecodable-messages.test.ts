import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { DaemonStatus, ScaleSetStatus } from '../../src/health/status-types.js';
import { UNDECODABLE_DELIVERIES } from '../../src/listener/listener.js';
import { freePort } from '../e2e/support/daemon-files.js';
import {
  type FakeActionsService,
  type RecordedRequest,
  startFakeActionsService,
} from '../fakes/actions-service/index.js';
import { InProcessBackend } from '../fakes/inprocess-backend.js';
import { configFor, type LogSink, startTestDaemon } from './harness.js';

/**
 * What the daemon does with what it cannot decode (README "Messages runner cannot read", §8.2), against
 * the fake Actions service over HTTP. The fake's poisoned messages are broken on every delivery, as a
 * message broken at the source is: before this policy each one made the listener reconnect for ever.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ f: FakeActionsService; daemon: Daemon; sink: LogSink }> {
  // A job whose announcement was lost is announced again after reannounceMs (as GitHub does when a job
  // stays unassigned): short, so the tests also see the lost job run in the end.
  const f = await startFakeActionsService({ holdMs: 300, sessionIdleTimeoutMs: 1500, reannounceMs: 300 });
  cleanups.push(() => f.close());
  const config = {
    ...(await configFor(f, 'name = "linux"\nmax-runners = 4\n')),
    healthPort: await freePort(),
  };
  const backend = new InProcessBackend();
  const { daemon, sink } = await startTestDaemon(config, { backend: () => backend });
  cleanups.push(async () => {
    daemon.abort();
    await daemon.done;
  });
  await f.waitFor(() => f.sessions().length === 1, { what: 'a session' });
  return { f, daemon, sink };
}

const linux = (d: Daemon): ScaleSetStatus => d.status().scaleSets[0]!;

/** The queue traffic from `from` on, as `poll <lastMessageId or ->` and `ack <messageId>`. */
function queueTraffic(f: FakeActionsService, from: number): string[] {
  return f.requests
    .slice(from)
    .filter((r) => r.route === 'poll' || r.route === 'ack')
    .map((r) => (r.route === 'poll' ? `poll ${r.query.lastMessageId ?? '-'}` : `ack ${ackedId(r)}`));
}

const ackedId = (r: RecordedRequest): number => Number(r.path.split('/').pop());
const sessionCreates = (f: FakeActionsService) =>
  f.requests.filter((r) => r.route === 'sessions' && r.method === 'POST').length;

async function apiStatus(d: Daemon): Promise<DaemonStatus> {
  const res = await fetch(`${d.healthUrl}/api/status`);
  return (await res.json()) as DaemonStatus;
}

/** Log lines at error level whose message matches. */
function errorLines(sink: LogSink, pattern: RegExp): Record<string, unknown>[] {
  return sink.lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.level === 'error' && pattern.test(String(l.msg)));
}

describe('decoding never poisons the listener (fake Actions service over HTTP)', () => {
  it('an integer past 2^63 in fields nobody reads: the message is handled on its first delivery', async () => {
    const { f, daemon } = await setup();
    const from = f.requests.length;
    f.faults.poisonMessage('unsafe-unknown-field');
    const job = f.queueJob({ scaleSet: 'linux' });
    await f.waitFor(() => job.state === 'completed', { what: 'the job completed', timeout: 15_000 });

    const acks = f.requests.slice(from).filter((r) => r.route === 'ack');
    expect(acks.length).toBeGreaterThan(0);
    // Every message came once and was acknowledged once: none was refused and delivered again.
    expect(new Set(acks.map(ackedId)).size).toBe(acks.length);
    const acquired = f.requests.slice(from).filter((r) => r.route === 'acquire-jobs');
    expect(acquired.map((r) => JSON.parse(r.body))).toEqual([[job.requestId]]);
    expect(linux(daemon).counters).toMatchObject({
      reconnects: 0,
      undecodableMessages: 0,
      invalidJobMessages: 0,
    });
    expect(sessionCreates(f)).toBe(1);
  });

  it('an integer past 2^53 in a field runner uses fails only that job message; the rest of the batch goes on', async () => {
    const { f, daemon, sink } = await setup();
    // Two jobs in one message: held polls let both announcements pile up into one batch.
    f.faults.holdPolls();
    const broken = f.queueJob({ scaleSet: 'linux' });
    const fine = f.queueJob({ scaleSet: 'linux' });
    f.faults.poisonMessage('unsafe-used-field'); // the first job message's runnerRequestId
    const from = f.requests.length;
    f.faults.releasePolls();

    await f.waitFor(() => fine.state === 'completed', { what: 'the intact job completed', timeout: 15_000 });
    const firstAcquire = f.requests.slice(from).find((r) => r.route === 'acquire-jobs');
    expect(JSON.parse(firstAcquire!.body)).toEqual([fine.requestId]);
    const [ack] = f.requests.slice(from).filter((r) => r.route === 'ack');
    const messageId = ackedId(ack!);

    const record = {
      kind: 'job-message',
      messageId,
      jobIndex: 0,
      reason: expect.stringMatching(/^runnerRequestId: integer beyond/),
    };
    expect(linux(daemon)).toMatchObject({
      counters: { invalidJobMessages: 1, undecodableMessages: 0, reconnects: 0 },
      lastUndecodable: record,
    });
    expect((await apiStatus(daemon)).scaleSets[0]).toMatchObject({
      counters: { invalidJobMessages: 1 },
      lastUndecodable: record,
    });
    expect(errorLines(sink, /^job message 0 of message \d+ cannot be decoded/)).toEqual([
      expect.objectContaining({ messageId, index: 0, messageType: 'JobAvailable' }),
    ]);
    // The broken announcement is lost; GitHub announces the job again, and it runs.
    await f.waitFor(() => broken.state === 'completed', {
      what: 'the other job, announced again',
      timeout: 15_000,
    });
    expect(sessionCreates(f)).toBe(1);
  });

  it('a message that cannot be decoded at all: polled for again, then recorded, shown in status, and acknowledged; the listener never cycles', async () => {
    const { f, daemon, sink } = await setup();
    // A poll in flight, then held: it is the one that gets the first copy.
    await f.waitFor(() => f.sessions()[0]?.activePolls === 1, { what: 'a poll in flight' });
    f.faults.holdPolls();
    const job = f.queueJob({ scaleSet: 'linux' });
    f.faults.poisonMessage('undecodable-body');
    // What the daemon shows at the moment its acknowledgement reaches GitHub (same process: in step).
    let statusAtAck: ScaleSetStatus | undefined;
    const stop = f.onChange(() => {
      const last = f.requests.at(-1);
      if (!statusAtAck && last?.route === 'ack') statusAtAck = structuredClone(linux(daemon));
    });
    cleanups.push(async () => stop());
    const from = f.requests.length;
    f.faults.releasePolls();

    await f.waitFor(() => statusAtAck, { what: 'the acknowledgement', timeout: 15_000 });
    await f.waitFor(() => queueTraffic(f, from).length >= 4, { what: 'the poll after the ack' });
    const traffic = queueTraffic(f, from);
    const messageId = Number(traffic.find((t) => t.startsWith('ack '))!.split(' ')[1]);
    // The held poll (sent before `from`) got the first copy; two more polls got the others; then the ack,
    // and the next poll asks for what comes after it.
    expect(UNDECODABLE_DELIVERIES).toBe(3);
    expect(traffic.slice(0, 4)).toEqual(['poll -', 'poll -', `ack ${messageId}`, `poll ${messageId}`]);

    const record = {
      kind: 'message',
      messageId,
      reason: 'body: not a JSON array',
    };
    expect(statusAtAck).toMatchObject({ counters: { undecodableMessages: 1 }, lastUndecodable: record });
    expect((await apiStatus(daemon)).scaleSets[0]).toMatchObject({
      counters: { undecodableMessages: 1, invalidJobMessages: 0, reconnects: 0 },
      lastUndecodable: record,
    });
    expect(errorLines(sink, new RegExp(`^message ${messageId} cannot be decoded`))).toEqual([
      expect.objectContaining({ messageId, reason: 'body: not a JSON array', deliveries: 3 }),
    ]);
    // The job announced in that message is lost with it; announced again, it runs: later messages flow.
    await f.waitFor(() => job.state === 'completed', { what: 'the job, announced again', timeout: 15_000 });
    expect(linux(daemon).counters.reconnects).toBe(0);
    expect(sessionCreates(f)).toBe(1);
  });
});
