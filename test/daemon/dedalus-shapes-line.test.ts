import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { startFakeActionsService } from '../fakes/actions-service/index.js';
import { TEST_DELAYS } from '../fakes/dedalus/harness.js';
import { startFakeDedalus } from '../fakes/dedalus/index.js';
import { provisionInstalling } from '../fakes/dedalus/provision-script.js';
import { startTestDaemon } from './harness.js';
import { jobsInLineOnFullBudget } from './shapes-line.js';

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
    await jobsInLineOnFullBudget({
      fake: f,
      daemon,
      small: { set: 'cloud-cpu2-ram2', cpu: 2 },
      big: { set: 'cloud-cpu4-ram4', cpu: 4 },
      labels: (cpu) => ['cloud', `cpu=${cpu}`],
      gateDir: dir,
      budget: "the account's vCPUs",
    });
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
