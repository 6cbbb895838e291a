/**
 * The throughput benchmark's "world", in its own process: the fake Actions service and its runners
 * (LinkedBackend: async tasks playing the fake runner protocol through the fake's in-process runner link,
 * so jobs start and complete in the fake's model without a runner's HTTP round trips). The daemon under
 * test runs in the parent, speaks real HTTP to the fake, and reaches the runners through RemoteBackend
 * over IPC, so the parent's CPU time is the daemon's own: no fake, no runner.
 *
 * Started with fork(); argv[2] is JSON `{ holdMs?: number }`.
 */
import { Secret } from '../../src/secret.js';
import { type FakeJob, startFakeActionsService } from '../../test/fakes/actions-service/index.js';
import { LinkedBackend } from './linked-backend.js';
import { type FromWorld, type Request, toWireEvent, type Verdict } from './protocol.js';

const send = process.send?.bind(process);
if (!send) throw new Error('world.ts must be started with an IPC channel (fork)');
const post = (m: FromWorld) => void send(m);

const opts = JSON.parse(process.argv[2] ?? '{}') as { holdMs?: number };
// Requests are counted by route, not kept: a 10,000-job run makes tens of thousands of them.
const fake = await startFakeActionsService({ holdMs: opts.holdMs ?? 50_000, recordRequests: false });
const backend = new LinkedBackend(fake);
const events = new AbortController();

// Forward every runner exit to the daemon, as a real backend's event stream would.
void (async () => {
  for await (const ev of backend.events(events.signal)) post(toWireEvent(ev));
})();

/** The jobs of the current batch, in queue order: completion is tracked by walking a cursor over them. */
let batch: FakeJob[] = [];
let cursor = 0;
let watching = false;

/**
 * Walks the cursor past completed jobs on every state change of the fake. Jobs complete roughly in
 * queue order, so this is O(1) amortised per change; a scan of fake.jobs() would cost O(jobs) per
 * change and make the benchmark measure itself.
 */
function watchCompletion(firstQueuedAt: number): void {
  if (watching) return;
  watching = true;
  void fake
    .waitFor(
      () => {
        while (cursor < batch.length && batch[cursor]!.state === 'completed') cursor++;
        return cursor === batch.length || undefined;
      },
      { timeout: 3_600_000, what: 'every job of the batch completed' },
    )
    .then(() => {
      watching = false;
      let last = 0;
      for (const j of batch) last = Math.max(last, j.history.at(-1)?.at ?? 0);
      post({ t: 'allCompleted', firstQueuedAt, lastCompletedAt: last });
    });
}

function verify(): Verdict {
  let completed = 0;
  let succeeded = 0;
  let duplicated = 0;
  for (const j of batch) {
    if (j.state === 'completed') completed++;
    if (j.result === 'succeeded') succeeded++;
    const starts = j.history.filter((h) => h.state === 'started').length;
    const ends = j.history.filter((h) => h.state === 'completed').length;
    if (starts > 1 || ends > 1) duplicated++;
  }
  const requests = fake.requestCounts();
  return {
    jobs: batch.length,
    completed,
    succeeded,
    duplicated,
    lost: batch.length - completed,
    registrationsLeft: fake.runners().length,
    requests,
  };
}

async function handle(m: Request): Promise<unknown> {
  switch (m.t) {
    case 'start':
      return backend.start({ name: m.name, runnerId: 0, jitConfig: new Secret(m.jit) });
    case 'remove':
      return backend.remove(m.name);
    case 'listOwned':
      return (await backend.listOwned()).map(({ name, resourceId, state, exitCode }) => ({
        name,
        resourceId,
        state,
        exitCode,
      }));
    case 'queue': {
      batch = [];
      cursor = 0;
      const at = Date.now();
      for (let i = 0; i < m.jobs; i++) batch.push(fake.queueJob({ scaleSet: m.scaleSet }));
      watchCompletion(at);
      return at;
    }
    case 'verify':
      return verify();
    case 'cpu':
      return process.cpuUsage();
  }
}

process.on('message', (m: Request) => {
  handle(m).then(
    (value) => post({ t: 'reply', id: m.id, ok: true, value }),
    (err: unknown) =>
      post({ t: 'reply', id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => {
  events.abort();
  void fake.close().then(() => process.exit(0));
});
post({ t: 'ready', url: fake.url, configUrl: fake.configUrl(), pat: fake.pat });
