/**
 * `npm run bench:decode [-- --seconds N]`
 *
 * Micro-benchmark of the hot decode path: a 200 from the message queue, turned into a batch by
 * `decodeScaleSetMessage` (envelope JSON, body JSON, per-job-message schema). Two shapes: a full batch of
 * 50 job messages (a burst) and a batch of 4 (steady state: one job's four messages). Prints µs per
 * batch and per job message; compare runs before and after a change on the same machine.
 */
import { parseArgs } from 'node:util';
import { decodeScaleSetMessage } from '../../src/github/messages.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);

const UNSET = '0001-01-01T00:00:00Z';
const TYPES = ['JobAvailable', 'JobAssigned', 'JobStarted', 'JobCompleted'] as const;

function jobMessage(i: number): Record<string, unknown> {
  const type = TYPES[i % 4]!;
  const requestId = 100_000 + Math.floor(i / 4);
  const base: Record<string, unknown> = {
    messageType: type,
    runnerRequestId: requestId,
    repositoryName: 'my-repo',
    ownerName: 'my-org',
    jobId: `8f1c2a3b-0000-4000-8000-${String(requestId).padStart(12, '0')}`,
    jobWorkflowRef: 'my-org/my-repo/.github/workflows/ci.yml@refs/heads/main',
    jobDisplayName: `build (${requestId})`,
    workflowRunId: requestId * 10,
    eventName: 'push',
    requestLabels: ['linux'],
    queueTime: '2026-05-01T10:00:00.1234567Z',
    scaleSetAssignTime: type === 'JobAvailable' ? UNSET : '2026-05-01T10:00:00.2234567Z',
    runnerAssignTime: type === 'JobStarted' || type === 'JobCompleted' ? '2026-05-01T10:00:01.5Z' : UNSET,
    finishTime: type === 'JobCompleted' ? '2026-05-01T10:00:09Z' : UNSET,
  };
  if (type === 'JobAvailable') base.acquireJobUrl = 'https://broker.example/acquire';
  if (type === 'JobStarted' || type === 'JobCompleted') {
    base.runnerId = 17 + i;
    base.runnerName = `runner-${(i * 2654435761).toString(16).slice(-8)}`;
  }
  if (type === 'JobCompleted') base.result = 'succeeded';
  return base;
}

function envelope(jobs: number, messageId: number): string {
  return JSON.stringify({
    messageId,
    messageType: 'RunnerScaleSetJobMessages',
    body: JSON.stringify(Array.from({ length: jobs }, (_, i) => jobMessage(i + messageId))),
    statistics: {
      totalAvailableJobs: 3,
      totalAcquiredJobs: 1,
      totalAssignedJobs: 12,
      totalRunningJobs: 9,
      totalRegisteredRunners: 12,
      totalBusyRunners: 9,
      totalIdleRunners: 3,
    },
  });
}

function measure(jobs: number): { perBatchUs: number; perJobUs: number } {
  // Distinct bodies, as on the wire (the time memo sees repeats, as it does in a real burst).
  const bodies = Array.from({ length: 64 }, (_, i) => Buffer.from(envelope(jobs, 1000 + i * jobs)));
  let sink = 0;
  const run = (ms: number) => {
    let n = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      for (const body of bodies) sink += decodeScaleSetMessage(body, 'bench').messageId;
      n += bodies.length;
    }
    return n;
  };
  run(500); // warm-up: JIT and memo
  const t0 = performance.now();
  const n = run(seconds * 1000);
  const elapsedUs = (performance.now() - t0) * 1000;
  if (sink === 0) throw new Error('unreachable');
  return { perBatchUs: elapsedUs / n, perJobUs: elapsedUs / n / jobs };
}

for (const jobs of [50, 4]) {
  const r = measure(jobs);
  console.log(
    `batch of ${String(jobs).padStart(2)}: ${r.perBatchUs.toFixed(1).padStart(7)} µs/batch  ${r.perJobUs.toFixed(2).padStart(6)} µs/job message`,
  );
}
