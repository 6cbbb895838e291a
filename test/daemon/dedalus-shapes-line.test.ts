import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { startFakeActionsService } from '../fakes/actions-service/index.js';
import { TEST_DELAYS } from '../fakes/dedalus/harness.js';
import { startFakeDedalus } from '../fakes/dedalus/index.js';
import { provisionInstalling } from '../fakes/dedalus/provision-script.js';
import { startTestDaemon } from './harness.js';

/**
 * Job shapes on Dedalus through the whole daemon (issue 16): two shapes share the account's quota of
 * awake vCPUs (`[dedalus] quota-vcpu`), jobs start in the order GitHub queued them across the shapes,
 * and the quota is never exceeded — against the fake Actions service and the fake Dedalus API.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('job shapes on Dedalus, through the daemon', () => {
  it("a big job waiting for the account's vCPUs is not passed by a later small one, and the quota is never exceeded", async () => {
    const f = await startFakeActionsService({ holdMs: 300, runnerClaimHoldMs: 2_000 });
    cleanups.push(() => f.close());
    const d = await startFakeDedalus({ delays: TEST_DELAYS });
    cleanups.push(() => d.close());
    const dir = await mkdtemp(join(tmpdir(), 'dedalus-line-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const provision = join(dir, 'provision.sh');
    await writeFile(
      provision,
      provisionInstalling(fileURLToPath(new URL('../fakes/runner/run.sh', import.meta.url))),
    );
    const gate = (name: string) => {
      const file = join(dir, `gate-${name}`);
      return { script: `until [ -e ${file} ]; do sleep 0.05; done`, open: () => writeFile(file, '') };
    };
    // 4 vCPUs awake at once: a 2-vCPU job leaves room for another 2, not for a 4.
    const toml = `url = "${f.configUrl()}"
state-dir = "${join(dir, 'state')}"
health-port = 0
name = "cloud"
backend = "dedalus"
max-runners = 2
[dedalus]
base-url = "${d.url}"
provision-script = "${provision}"
quota-vcpu = 4
[[shape]]
cpu = 2
ram = 2
[[shape]]
cpu = 4
ram = 4
`;
    const config = await parseConfigText(toml, 'test.toml', {
      RUNNER_TOKEN: f.pat,
      DEDALUS_API_KEY: d.apiKey,
    });
    const { daemon } = await startTestDaemon(config);
    cleanups.push(async () => {
      daemon.abort();
      await daemon.done;
    });
    const small = 'cloud-cpu2-ram2';
    const big = 'cloud-cpu4-ram4';
    const of = (dm: Daemon, name: string) => dm.status().scaleSets.find((s) => s.name === name);
    const history = (id: number, state: string) =>
      f
        .jobs()
        .find((j) => j.requestId === id)
        ?.history.find((h) => h.state === state)?.at;
    // vCPUs of the machines awake now, from the fake's own records.
    const awakeVcpus = () =>
      d
        .machines()
        .filter((m) => m.phase === 'running' || m.phase === 'starting')
        .reduce((sum, m) => sum + m.vcpu, 0);
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, awakeVcpus());
    }, 10);
    cleanups.push(async () => clearInterval(watch));
    await f.waitFor(() => f.sessions().length === 2, { what: 'both shapes listening', timeout: 20_000 });

    const g1 = gate('small-1');
    const s1 = f.queueJob({ labels: ['cloud', 'cpu=2'], script: g1.script });
    await f.waitFor(() => history(s1.requestId, 'started') !== undefined, {
      what: 'the first small job running',
      timeout: 30_000,
    });
    const gb = gate('big');
    const b = f.queueJob({ labels: ['cloud', 'cpu=4'], script: gb.script });
    await f.waitFor(() => of(daemon, big)?.waiting?.reason === 'budget', {
      what: "the big job waiting for the account's vCPUs",
      timeout: 30_000,
    });
    // 2 vCPUs are free, enough for a second small job: but they are the big job's, which is older.
    const g2 = gate('small-2');
    const s2 = f.queueJob({ labels: ['cloud', 'cpu=2'], script: g2.script });
    const waits = await f.waitFor(
      () => of(daemon, small)?.waiting?.reason === 'older-job' && of(daemon, small)?.waiting,
      { what: 'the later small job waiting behind the big one', timeout: 30_000 },
    );
    expect(waits).toMatchObject({ jobs: 1, detail: big });
    expect(history(b.requestId, 'started')).toBeUndefined();
    expect(history(s2.requestId, 'started')).toBeUndefined();

    // The first small job ends and its machine sleeps: the big one takes the quota, the second small
    // one waits until the big one's machine sleeps in turn.
    await g1.open();
    await f.waitFor(() => history(b.requestId, 'started') !== undefined, {
      what: 'the big job running',
      timeout: 30_000,
    });
    await g2.open();
    await gb.open();
    await f.waitFor(() => f.jobs().every((j) => j.state === 'completed'), {
      what: 'every job done',
      timeout: 60_000,
    });
    expect(history(b.requestId, 'started')).toBeGreaterThan(
      history(s1.requestId, 'completed') ?? Number.POSITIVE_INFINITY,
    );
    expect(history(s2.requestId, 'started')).toBeGreaterThan(
      history(b.requestId, 'completed') ?? Number.POSITIVE_INFINITY,
    );
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(4);
    // Each machine was made at its shape's size.
    expect(
      d
        .machines()
        .map((m) => m.vcpu)
        .sort(),
    ).toEqual([2, 4]);
    await daemon.shutdown();
  }, 120_000);
});
