import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { renderStatus } from '../../src/status/render.js';
import { shownStatus } from '../../src/status/schema.js';
import { cliBundle, node24, runCli } from './support/built-cli.js';
import { daemonStatus, FIXTURE_NOW, startStatusServer } from './support/status-fixture.js';

const ESC = '\u001b[';

describe('renderStatus', () => {
  it('one block per scale set: counts, pool tiers, runners sorted by name, newest jobs first', () => {
    const text = renderStatus(shownStatus(daemonStatus()), { color: false, now: FIXTURE_NOW });
    expect(text).toBe(
      [
        'runner 1.2.3 · up 3h4m · unhealthy · ready',
        '',
        'linux-x64  docker  listening  healthy',
        '  runners  3/10 (min 1, desired 3)  idle 1 · busy 2',
        '  pool     warm 2 · sleeping 3',
        '  NAME       STATE  TIER  FOR    JOB',
        '  runner-aa  busy   warm  1m15s  4711',
        '  runner-mm  busy   -     10m    4712',
        '  runner-zz  idle   cold  30s    -',
        '  recent jobs',
        '  JOB   RESULT     REPOSITORY  NAME    PICKUP  DURATION  FINISHED',
        '  4703  queued     org/api     deploy  -       -         -',
        '  4702  succeeded  org/web     build   0.8s    1m5s      2m ago',
        '  4701  failed     org/api     test    4.2s    3m10s     10m ago',
        '',
        'gpu  dedalus  reconnecting  unhealthy',
        '  reason   no successful poll for 120 s (limit 95 s)',
        '  runners  0/2 (min 0, desired 0)  idle 0 · busy 0',
        '',
      ].join('\n'),
    );
  });

  it('a queued job reads "queued", as on the dashboard, also from a daemon that sends no state', () => {
    const status = shownStatus(daemonStatus());
    const row = (text: string) => text.split('\n').find((l) => l.includes('4703'));
    expect(row(renderStatus(status, { color: false, now: FIXTURE_NOW }))).toMatch(/^ {2}4703 {2}queued /);
    for (const job of status.scaleSets[0]?.recentJobs ?? []) delete job.state;
    expect(row(renderStatus(status, { color: false, now: FIXTURE_NOW }))).toMatch(/^ {2}4703 {2}queued /);
  });

  it('shows labels GitHub dropped and what could not be decoded, in red when jobs were lost', () => {
    const status = shownStatus(daemonStatus());
    const gpu = status.scaleSets[1]!;
    gpu.droppedLabels = ['gpu', 'x64'];
    gpu.counters = { ...gpu.counters, undecodableMessages: 2, invalidJobMessages: 1 };
    gpu.lastUndecodable = {
      kind: 'job-message',
      messageId: 17,
      jobIndex: 3,
      runnerRequestId: 4711,
      reason: 'runnerId: integer beyond ±(2^53 − 1)',
      at: new Date(FIXTURE_NOW - 180_000).toISOString(),
    };
    const block = (color: boolean) => renderStatus(status, { color, now: FIXTURE_NOW }).split('\n\n')[2]!;
    expect(block(false).split('\n').slice(2, 5)).toEqual([
      '  runners  0/2 (min 0, desired 0)  idle 0 · busy 0',
      '  labels   dropped by GitHub: gpu, x64 (jobs that need them wait; on GHES 3.18–3.20 turn on DistributedTask.AllowRunnerScaleSetCustomLabels)',
      '  decoding 2 messages acknowledged unread (their jobs lost) · 1 job message skipped · last: job message 3 of message 17 (job 4711), 3m ago: runnerId: integer beyond ±(2^53 − 1)',
    ]);
    expect(block(true)).toContain(`${ESC}31mdecoding 2 messages`);
    // Only job messages skipped: nothing was lost for good, so yellow, not red.
    gpu.counters = { ...gpu.counters, undecodableMessages: 0 };
    expect(block(true)).toContain(`${ESC}33mdecoding 1 job message skipped`);
    // A daemon that sends none of it shows neither line.
    expect(renderStatus(shownStatus(daemonStatus()), { color: false, now: FIXTURE_NOW })).not.toMatch(
      /labels {3}|decoding /,
    );
  });

  it("shows what a backend's runners cost beyond their jobs (Dedalus' hold window), after the pool", () => {
    const status = shownStatus(daemonStatus());
    const gpu = status.scaleSets[1]!;
    gpu.pool = { warm: 1, sleeping: 2 };
    gpu.costs = [{ cause: 'hold-window', seconds: 312.5, usd: 0.0079 }];
    const block = renderStatus(status, { color: false, now: FIXTURE_NOW }).split('\n\n')[2]!;
    expect(block.split('\n').slice(2, 5)).toEqual([
      '  runners  0/2 (min 0, desired 0)  idle 0 · busy 0',
      '  pool     warm 1 · sleeping 2',
      '  costs    hold-window 312.5 s awake ≈ $0.0079',
    ]);
  });

  it('colours only when asked, and they do not shift the columns', () => {
    const plain = renderStatus(shownStatus(daemonStatus()), { color: false, now: FIXTURE_NOW });
    const coloured = renderStatus(shownStatus(daemonStatus()), { color: true, now: FIXTURE_NOW });
    expect(plain).not.toContain(ESC);
    expect(coloured).toContain(`${ESC}31munhealthy${ESC}0m`);
    expect(stripVTControlCharacters(coloured)).toBe(plain);
  });
});

describe('runner status (CLI against a local health server)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runner-status-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the server through the config (health-port, health-token) and prints the table without colour', async () => {
    const server = await startStatusServer({ token: 'health-secret-123' });
    onTestFinished(() => server.close());
    const config = join(dir, 'config.toml');
    const port = new URL(server.url).port;
    await writeFile(
      config,
      `url = "https://github.com/my-org"\nname = "linux"\ntoken = "env:GH_PAT"\nhealth-port = ${port}\nhealth-token = "env:HEALTH_TOKEN"\n`,
    );
    const r = await runCli(['status', '--config', config], {
      env: { ...process.env, GH_PAT: 'ghp_x', HEALTH_TOKEN: 'health-secret-123' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^runner 1\.2\.0 · up /);
    expect(r.stdout).toContain('  runner-aa  busy   warm');
    expect(r.stdout).not.toContain(ESC);
    expect(server.requests).toEqual([{ path: '/api/status', authorization: 'Bearer health-secret-123' }]);
  });

  it('needs none of the scale sets’ secrets: the GitHub token’s variable may be unset', async () => {
    const server = await startStatusServer({});
    onTestFinished(() => server.close());
    const config = join(dir, 'token-elsewhere.toml');
    const port = new URL(server.url).port;
    await writeFile(
      config,
      `url = "https://github.com/my-org"\nname = "linux"\ntoken = "env:UNSET_PAT_FOR_TEST"\nhealth-port = ${port}\n[dedalus]\napi-key = "env:UNSET_KEY_FOR_TEST"\n[github-app]\n`,
    );
    const env = { ...process.env };
    delete env.RUNNER_TOKEN;
    const r = await runCli(['status', '--config', config], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^runner 1\.2\.0 · up /);
  });

  it('a config it cannot load names the problem and offers --url', async () => {
    const config = join(dir, 'needs-env.toml');
    await writeFile(
      config,
      'url = "https://github.com/my-org"\nname = "linux"\nhealth-token = "env:UNSET_HEALTH_TOKEN_FOR_TEST"\nmax-runners = 0\n',
    );
    const r = await runCli(['status', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('health-token: environment variable UNSET_HEALTH_TOKEN_FOR_TEST is not set');
    // A mistake anywhere in the file is still reported: it is the file the daemon reads.
    expect(r.stderr).toContain('max-runners: expected an integer from 1 to 10000, got 0');
    expect(r.stderr).toContain('or pass --url http://HOST:PORT');
    expect(r.stderr).not.toContain('--help');
  });

  it('--json prints the body as the daemon sent it', async () => {
    const body = `${JSON.stringify({ ...daemonStatus(), extra: { kept: true } })}\n`;
    const server = await startStatusServer({ body: () => body });
    onTestFinished(() => server.close());
    const r = await runCli(['status', '--json', '--url', server.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(body);
  });

  it('nothing listening: says so and how to start runner', async () => {
    const port = await freePort();
    const r = await runCli(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nothing answers at http://127.0.0.1:${port} (--url): is runner running?`);
    expect(r.stderr).toContain('runner run --config');
  });

  it('a token is required: names where it comes from', async () => {
    const server = await startStatusServer({ token: 'needed-token-xyz' });
    onTestFinished(() => server.close());
    const r = await runCli(['status', '--url', server.url], {
      env: { ...process.env, RUNNER_HEALTH_TOKEN: '' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('wants the health token');
    const ok = await runCli(['status', '--url', server.url], {
      env: { ...process.env, RUNNER_HEALTH_TOKEN: 'needed-token-xyz' },
    });
    expect(ok.code).toBe(0);
  });

  it('a server that never answers hits the --timeout', async () => {
    const server = await startStatusServer({ stall: true });
    onTestFinished(() => server.close());
    const started = Date.now();
    const r = await runCli(['status', '--url', server.url, '--timeout', '0.3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('got no answer within 0.3 s');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('something that is not runner on that port is called out', async () => {
    const server = await startStatusServer({ body: () => '{"hello":"world"}' });
    onTestFinished(() => server.close());
    const r = await runCli(['status', '--url', server.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /did not return a runner status \(version: .*\); is that port runner's health server\?/,
    );
  });

  it('--watch --json prints one line per refresh and stops cleanly on SIGINT', async () => {
    const server = await startStatusServer();
    onTestFinished(() => server.close());
    const child = spawn(
      node24,
      [await cliBundle(), 'status', '--url', server.url, '--watch', '0.1', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    onTestFinished(() => void child.kill('SIGKILL'));
    const versions: string[] = [];
    for await (const line of createInterface({ input: child.stdout })) {
      versions.push((JSON.parse(line) as { version: string }).version);
      if (versions.length === 3) break;
    }
    expect(versions).toEqual(['1.2.0', '1.2.1', '1.2.2']);
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('a --timeout no one can mean is refused, not turned into a timer that fires at once', async () => {
    const r = await runCli(['status', '--url', 'http://127.0.0.1:9', '--timeout', '1e12']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "option '--timeout <seconds>' argument '1e12' is invalid. expected a number of seconds > 0, at most 2073600 (24 days)",
    );
  });

  it('--help has examples', async () => {
    const r = await runCli(['status', '--help']);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--watch');
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
