import { existsSync } from 'node:fs';
import { describe, expect, it, onTestFailed } from 'vitest';
import { runSoak } from '../../bench/soak.js';
import { useDocker } from '../setup/docker.js';

// Needs the engine (CI fails without one) and builds the fake runner image before the test.
useDocker();

// Enough for one fault of each kind at its point of progress; the full count is `npm run soak`'s.
const JOBS = 60;

describe(`soak (reduced): ${JOBS} jobs through the real daemon on a private Docker engine, one fault of each kind`, () => {
  it('every job completes exactly once, max-runners holds, nothing is left, the daemon exits 0', async () => {
    // The soak's timeline (when each fault happened), shown only when the test fails.
    const t0 = Date.now();
    // The private engine and its restarts must leave the machine's own engine alone: a dockerd started
    // with --bridge=none deletes docker0, which broke every later container on the default network.
    const hadDocker0 = existsSync('/sys/class/net/docker0');
    const timeline: string[] = [];
    onTestFailed(() => {
      process.stderr.write(`soak timeline:\n${timeline.join('\n')}\n`);
    });
    const result = await runSoak({
      jobs: JOBS,
      maxRunners: 8,
      faults: {
        // One expiry of each token comes from the plan; a one-minute timer would not fire in this run.
        tokenExpiryEveryMs: 0,
        restarts: 1,
        dockerKills: 1,
        // A private dockerd is restarted, never the machine's engine other test files are using.
        engineRestart: true,
        // The faults of the daemon's surroundings have their own reduced run (faults.test.ts).
        logPipe: false,
        secondDaemon: false,
        fullDiskMs: 0,
        engineStallMs: 0,
        startupSigterm: false,
      },
      // 25–45 s alone on two cores, up to ~70 s with the rest of the suite beside it on a loaded
      // machine. Past this bound the soak fails with its own account (which jobs, which runners);
      // the test's timeout leaves room for that account and the teardown after it.
      timeoutMs: 100_000,
      log: (m) => timeline.push(`+${((Date.now() - t0) / 1000).toFixed(1)} s ${m}`),
    });
    timeline.push(`+${((Date.now() - t0) / 1000).toFixed(1)} s done: ${JSON.stringify(result.faults)}`);
    // Each fault really happened (a soak that injected nothing proves nothing).
    expect(result.faults).toMatchObject({
      queueTokenExpiries: 1,
      adminTokenExpiries: 1,
      sessionConflicts: 1,
      dockerKillsBusy: 1,
      dockerKillsIdle: 1,
      engineRestarts: 1,
    });
    expect(result.faults.http503Injected).toBeGreaterThan(0);
    expect(result.restarts).toBe(1);
    // The busy runner's job at least failed; every failure is explained by a kill.
    expect(result.failedByKill).toBeGreaterThanOrEqual(1);
    expect(result.succeeded + result.failed).toBe(JOBS);
    for (const check of result.checks) expect(check.pass, `${check.name}: ${check.detail}`).toBe(true);
    expect(existsSync('/sys/class/net/docker0')).toBe(hadDocker0);
  }, 150_000);
});
