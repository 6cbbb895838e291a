import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { FakeActionsService } from '../fakes/actions-service/index.js';

/**
 * Issue 16's line on a full budget, the same scenario for every backend: a small job runs, a big job
 * that does not fit waits for the budget, a later small job that would fit waits behind it, and once
 * the first small job ends the big one starts, the second small one only after the big one ended.
 * `labels(cpu)` are a job's runs-on for a shape; `gateDir` holds the files that release the jobs.
 */
export async function jobsInLineOnFullBudget(o: {
  fake: FakeActionsService;
  daemon: Daemon;
  small: { set: string; cpu: number };
  big: { set: string; cpu: number };
  labels: (cpu: number) => string[];
  gateDir: string;
  /** The budget, for the wait's message (e.g. "the Mac's CPUs"). */
  budget: string;
}): Promise<void> {
  const { fake: f, daemon } = o;
  const waiting = (set: string) => daemon.status().scaleSets.find((s) => s.name === set)?.waiting;
  const at = (id: number, state: string) =>
    f
      .jobs()
      .find((j) => j.requestId === id)
      ?.history.find((h) => h.state === state)?.at;
  const gate = (name: string) => {
    const file = join(o.gateDir, `gate-${name}`);
    return { script: `until [ -e ${file} ]; do sleep 0.05; done`, open: () => writeFile(file, '') };
  };
  await f.waitFor(() => f.sessions().length === 2, { what: 'both shapes listening', timeout: 20_000 });

  const g1 = gate('small-1');
  const s1 = f.queueJob({ labels: o.labels(o.small.cpu), script: g1.script });
  await f.waitFor(() => at(s1.requestId, 'started') !== undefined, {
    what: 'the first small job running',
    timeout: 30_000,
  });
  const gb = gate('big');
  const b = f.queueJob({ labels: o.labels(o.big.cpu), script: gb.script });
  await f.waitFor(() => waiting(o.big.set)?.reason === 'budget', {
    what: `the big job waiting for ${o.budget}`,
    timeout: 30_000,
  });
  // There is room for a second small job: but it is the big job's, which is older.
  const g2 = gate('small-2');
  const s2 = f.queueJob({ labels: o.labels(o.small.cpu), script: g2.script });
  const waits = await f.waitFor(() => waiting(o.small.set)?.reason === 'older-job' && waiting(o.small.set), {
    what: 'the later small job waiting behind the big one',
    timeout: 30_000,
  });
  expect(waits).toMatchObject({ jobs: 1, detail: o.big.set });
  expect(at(b.requestId, 'started')).toBeUndefined();
  expect(at(s2.requestId, 'started')).toBeUndefined();

  // The first small job ends: the big one takes the budget, and the second small one waits for it.
  await g1.open();
  await f.waitFor(() => at(b.requestId, 'started') !== undefined, {
    what: 'the big job running',
    timeout: 30_000,
  });
  await g2.open();
  await gb.open();
  await f.waitFor(() => f.jobs().every((j) => j.state === 'completed'), {
    what: 'every job done',
    timeout: 60_000,
  });
  expect(at(b.requestId, 'started')).toBeGreaterThan(
    at(s1.requestId, 'completed') ?? Number.POSITIVE_INFINITY,
  );
  expect(at(s2.requestId, 'started')).toBeGreaterThan(
    at(b.requestId, 'completed') ?? Number.POSITIVE_INFINITY,
  );
}
