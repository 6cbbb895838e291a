import { describe, expect, it, onTestFailed } from 'vitest';
import { runSoak } from '../../bench/soak.js';
import { useDocker } from '../setup/docker.js';
import { useTmpfs } from '../setup/tmpfs.js';

// The engine (CI fails without one) and a tmpfs for the state-dir (CI fails when it cannot mount one).
useDocker();
useTmpfs();

const JOBS = 30;
/**
 * The full soak stalls the engine for 2 minutes; this run for 35 s, which still proves the point: it
 * outlasts the 30 s deadline of every Docker call, so each call made during the stall is given up at
 * its deadline (starts fail and back off, removals are retried), /healthz names the stall after 10 s,
 * and the daemon carries on after it. What the longer stall adds is repetition (more deadlines, the
 * once-a-minute reminder in the log), which test/daemon/backend-stall.test.ts covers on a manual clock.
 */
const STALL_MS = 35_000;

describe(`fault suite (reduced): ${JOBS} jobs through the real daemon while its surroundings fail`, () => {
  it('log pipe closed, second daemon, full state-dir disk, engine stalled: nothing lost, nothing leaked, exit 0', async () => {
    const t0 = Date.now();
    const timeline: string[] = [];
    const show = () => {
      process.stderr.write(`fault suite timeline:\n${timeline.join('\n')}\n`);
    };
    onTestFailed(show);
    const result = await runSoak({
      jobs: JOBS,
      maxRunners: 4,
      faults: {
        // Today's faults have their own reduced run (soak.test.ts); 503s stay on, they cost nothing.
        tokenExpiryEveryMs: 0,
        restarts: 0,
        dockerKills: 0,
        engineRestart: false,
        logPipe: true,
        secondDaemon: true,
        fullDiskMs: 5_000,
        engineStallMs: STALL_MS,
        // Each start-up phase has its own test (startup-sigterm.test.ts), through the same code.
        startupSigterm: false,
      },
      timeoutMs: 140_000,
      log: (m) => timeline.push(`+${((Date.now() - t0) / 1000).toFixed(1)} s ${m}`),
    });
    timeline.push(`+${((Date.now() - t0) / 1000).toFixed(1)} s done: ${JSON.stringify(result.faults)}`);
    // SOAK_DUMP=1 (the soak's switch to keep a passing run's evidence) shows it on success too.
    if (process.env.SOAK_DUMP === '1') show();
    // Each fault really happened (a suite that injected nothing proves nothing).
    expect(result.faults).toMatchObject({
      logPipesClosed: 1,
      secondDaemons: 1,
      fullDisks: 1,
      engineStalls: 1,
    });
    // The disk was full while jobs wanted runners: at 65 % of 30 jobs on 4 runners, more jobs are
    // queued than there are runners to take them, so the hold on new starts was put to the test.
    expect(result.fullDisk?.jobsHeld).toBeGreaterThan(0);
    // The stall was named in /healthz after 10 s of silence, well before it ended.
    expect(result.engineStall?.namedAfterMs).toBeGreaterThanOrEqual(10_000);
    expect(result.engineStall?.namedAfterMs).toBeLessThan(STALL_MS);
    // No fault here kills a runner: every job must succeed, exactly once.
    expect(result.succeeded).toBe(JOBS);
    for (const check of result.checks) expect(check.pass, `${check.name}: ${check.detail}`).toBe(true);
  }, 150_000);
});
