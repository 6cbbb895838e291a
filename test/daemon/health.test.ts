import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/util/poll-until.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { InProcessBackend } from '../fakes/inprocess-backend.js';
import { scrapeAgreeing } from '../health/daemon-scrape.js';
import { parseExposition } from '../health/prom-text.js';
import { launchBrowser } from '../support/browser.js';
import { configFor, LogSink, startTestDaemon } from './harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

async function daemonWithHealth(f: FakeActionsService, extra = '') {
  const port = await freePort();
  const base = await configFor(f, `name = "linux"\nmax-runners = 3\n${extra}`);
  const config = { ...base, healthPort: port };
  const backend = new InProcessBackend();
  const sink = new LogSink();
  const { daemon } = await startTestDaemon(config, {
    backend: () => backend,
    sink,
    healthStaleAfterMs: 1500,
  });
  cleanups.push(async () => {
    daemon.abort();
    await daemon.done;
  });
  return { daemon, url: `http://127.0.0.1:${port}`, backend, sink };
}

async function fake(): Promise<FakeActionsService> {
  const f = await startFakeActionsService({ holdMs: 300, sessionIdleTimeoutMs: 1500 });
  cleanups.push(() => f.close());
  return f;
}

const status = async (url: string) => (await fetch(url)).status;

describe('health, metrics and telemetry of a daemon running jobs against the fake', () => {
  it('/healthz turns 503 when the Actions service stops answering and 200 when it returns', async () => {
    const f = await fake();
    const { url } = await daemonWithHealth(f);
    await pollUntil(async () => (await status(`${url}/healthz`)) === 200, {
      timeout: 10_000,
      what: 'healthy',
    });
    expect(await status(`${url}/readyz`)).toBe(200);
    f.faults.down();
    const downAt = Date.now();
    await pollUntil(async () => (await status(`${url}/healthz`)) === 503, { timeout: 10_000, what: '503' });
    // Bounded: the stale limit (1.5 s) plus one long-poll hold and the client's retries.
    expect(Date.now() - downAt).toBeLessThan(8000);
    const body = (await (await fetch(`${url}/healthz`)).json()) as {
      scaleSets: { name: string; reason?: string }[];
    };
    expect(body.scaleSets[0]!.name).toBe('linux');
    expect(body.scaleSets[0]!.reason).toMatch(/no successful poll/);
    f.faults.up();
    await pollUntil(async () => (await status(`${url}/healthz`)) === 200, {
      timeout: 15_000,
      what: 'healthy again',
    });
  });

  it('exports every metric with the right values after a known sequence of jobs, and logs one line per job', async () => {
    const f = await fake();
    const { url, sink, daemon } = await daemonWithHealth(f);
    await f.waitFor(() => f.sessions().length === 1);
    for (let i = 0; i < 3; i++) f.queueJob({ scaleSet: 'linux', durationMs: 20 });
    f.queueJob({ scaleSet: 'linux', script: 'exit 3' });
    await f.waitFor(() => f.jobs().every((j) => j.state === 'completed'), {
      what: 'jobs done',
      timeout: 15_000,
    });
    await f.waitFor(() => daemon.status().scaleSets[0]!.counters.jobsCompleted === 4, {
      what: 'daemon saw completions',
    });
    await f.waitFor(() => daemon.status().scaleSets[0]!.runners.length === 0, { what: 'runners removed' });
    // The status counters and the metrics come from the same events: they agree.
    await scrapeAgreeing(daemon);
    const text = await (await fetch(`${url}/metrics`)).text();
    const { samples } = parseExposition(text);
    const sum = (name: string, labels: Record<string, string> = {}) =>
      samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((a, s) => a + s.value, 0);
    expect(sum('gha_started_jobs_total', { name: 'linux' })).toBe(4);
    expect(sum('gha_completed_jobs_total', { job_result: 'succeeded' })).toBe(3);
    expect(sum('gha_completed_jobs_total', { job_result: 'failed' })).toBe(1);
    expect(sum('gha_job_execution_duration_seconds_count')).toBe(4);
    expect(sum('gha_job_startup_duration_seconds_count')).toBe(4);
    expect(sum('gha_max_runners', { name: 'linux' })).toBe(3);
    expect(sum('gha_min_runners', { name: 'linux' })).toBe(0);
    expect(sum('gha_assigned_jobs', { name: 'linux' })).toBe(0);
    expect(sum('gha_desired_runners', { name: 'linux' })).toBe(0);
    expect(sum('runner_start_duration_seconds_count', { backend: 'noop', tier: 'cold' })).toBe(4);
    expect(sum('runner_runners', { state: 'busy' })).toBe(0);
    expect(sum('runner_last_successful_poll_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    for (const name of [
      'gha_running_jobs',
      'gha_registered_runners',
      'gha_busy_runners',
      'gha_idle_runners',
      'runner_adopted_total',
      'runner_listener_reconnects_total',
      'runner_start_failures_total',
      'runner_cleaned_up_total',
      'runner_pool_size',
    ]) {
      expect(text, name).toContain(name);
    }
    const jobLines = sink.lines
      .map((l) => JSON.parse(l) as { msg: string; pickupMs?: number })
      .filter((l) => l.msg === 'job completed');
    expect(jobLines).toHaveLength(4);
    expect(jobLines.every((l) => typeof l.pickupMs === 'number')).toBe(true);
  });

  describe('dashboard', () => {
    let browser: Awaited<ReturnType<typeof launchBrowser>>;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.dispose();
    });

    it('shows the live daemon: the scale set, its runners and the jobs it ran', async () => {
      const f = await fake();
      const { url } = await daemonWithHealth(f, 'min-runners = 1\n');
      await f.waitFor(() => f.sessions().length === 1);
      const jobs = [
        f.queueJob({ scaleSet: 'linux', durationMs: 50 }),
        f.queueJob({ scaleSet: 'linux', durationMs: 50 }),
      ];
      await f.waitFor(() => jobs.every((j) => j.state === 'completed'), {
        what: 'jobs done',
        timeout: 15_000,
      });
      const page = await browser.newPage();
      await page.goto(url);
      await page.waitForSelector('[data-testid="scale-set"][data-name="linux"]');
      for (const j of jobs) {
        await page.waitForSelector(`[data-testid="job-row"][data-request-id="${j.requestId}"]`, {
          timeout: 10_000,
        });
      }
      const result = await page
        .locator(
          `[data-testid="job-row"][data-request-id="${jobs[0]!.requestId}"] [data-testid="job-result"]`,
        )
        .textContent();
      expect(result).toBe('succeeded');
      await page.close();
    });
  });
});
