import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/health/metrics.js';
import { startHealthServer } from '../../src/health/server.js';
import { Secret } from '../../src/secret.js';
import { launchBrowser } from '../support/browser.js';
import { syntheticDaemon } from './synthetic.js';

const SCREENSHOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/dashboard.png');

let browser: Awaited<ReturnType<typeof launchBrowser>>;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.dispose();
});

/** A page that fails the test on any script error, CSP violation or request leaving the server. */
async function openPage(origin: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('request', (req) => {
    if (!req.url().startsWith(origin)) problems.push(`external request: ${req.url()}`);
  });
  return { page, problems };
}

const text = (page: Page, selector: string) => page.locator(selector).first().textContent();

describe('dashboard in headless Chromium', () => {
  it('renders scale sets, runner counts, pool tiers, the job timeline and the latency chart, then updates live', async () => {
    const demo = syntheticDaemon();
    await using srv = await startHealthServer({ port: 0, status: demo.status, metrics: createMetrics() });
    const { page, problems } = await openPage(srv.url);
    await page.goto(`${srv.url}/`);
    await page.waitForSelector('body[data-loaded="true"]');

    expect(await text(page, '#overall')).toBe('healthy');
    const linux = '[data-testid="scale-set"][data-name="linux-docker"]';
    const macos = '[data-testid="scale-set"][data-name="macos-tart"]';
    await expect(page.locator('[data-testid="scale-set"]').count()).resolves.toBe(2);
    expect(await page.locator(linux).isVisible()).toBe(true);
    expect(await page.locator('[data-testid="latency-chart"]').isVisible()).toBe(true);
    expect(await text(page, `${linux} h2`)).toBe('linux-docker');
    expect(await text(page, `${linux} [data-testid="phase"]`)).toBe('listening');
    expect(await text(page, `${linux} [data-testid="health"]`)).toBe('healthy');
    expect(await text(page, `${macos} [data-testid="phase"]`)).toBe('reconnecting');
    expect(await text(page, `${macos} [data-testid="reason"]`)).toBe('session-error: ECONNRESET');
    expect(await text(page, `${linux} [data-testid="shape"]`)).toBe('shape cpu=2 ram=4 of linux');
    expect(await text(page, `${linux} [data-testid="waiting"][data-reason="older-job"]`)).toBe(
      '2 jobs without a runner: an older job of linux-cpu8-ram32 goes first on the shared budget',
    );
    expect(await page.locator(`${macos} [data-testid="waiting"]`).count()).toBe(0);
    expect(await text(page, `${linux} [data-testid="kpi-desired"] b`)).toBe('4');
    expect(await text(page, `${linux} [data-testid="kpi-max"] b`)).toBe('8');
    expect(await text(page, `${linux} [data-testid="runner-count"][data-state="busy"] b`)).toBe('2');
    expect(await text(page, `${linux} [data-testid="runner-count"][data-state="creating"] b`)).toBe('1');
    expect(await text(page, `${linux} [data-testid="runner-count"][data-state="failed"] b`)).toBe('0');
    expect(await page.locator(`${linux} [data-testid="runner-row"]`).count()).toBe(4);
    expect(await text(page, `${macos} [data-testid="pool-tier"][data-tier="sleeping"] b`)).toBe('2');
    // What a backend's runners cost beyond their jobs (Dedalus' hold window), where a backend says.
    expect(await text(page, `${macos} [data-testid="cost"][data-cause="hold-window"]`)).toBe(
      'hold-window 312.5 s ≈ $0.0079',
    );
    expect(await page.locator(`${linux} [data-testid="cost"]`).count()).toBe(0);
    expect(await text(page, `${macos} [data-testid="count-reconnects"] b`)).toBe('3');

    expect(await page.locator('[data-testid="job-row"]').count()).toBe(demo.jobCount);
    const deploy = page.locator('[data-testid="job-row"][data-request-id="150"]');
    expect(await deploy.locator('[data-testid="job-result"]').textContent()).toBe('running');
    expect(await deploy.locator('[data-testid="job-pickup"]').textContent()).toBe('3.8 s');
    expect(await deploy.locator('rect[data-seg="running"]').count()).toBe(1);
    const failed = page.locator('[data-testid="job-row"][data-request-id="106"]');
    expect(await failed.locator('[data-testid="job-result"]').textContent()).toBe('failed');
    expect(await failed.locator('rect[data-seg="failed"]').count()).toBe(1);
    expect(
      await page
        .locator('[data-testid="job-row"][data-request-id="350"] [data-testid="job-result"]')
        .textContent(),
    ).toBe('queued');
    expect(await page.locator('[data-testid="latency-bar"]').count()).toBe(demo.startedCount);
    expect(await text(page, '[data-testid="latency-summary"]')).toMatch(/p50 4\.2 s\s*p90 28 s\s*max 1m 01s/);

    // The hosts panel: a row per host with its state, cordon, runners and last error.
    const host = (name: string) => `[data-testid="host-row"][data-host="${name}"]`;
    expect(await page.locator('[data-testid="host-row"]').count()).toBe(3);
    expect(await page.locator(host('build-1')).getAttribute('data-state')).toBe('up');
    expect(await text(page, `${host('build-1')} [data-testid="host-runners"]`)).toBe('3 / 8');
    expect(await page.locator(host('build-1')).textContent()).toContain('6 / 16');
    expect(await page.locator(host('build-1')).textContent()).toContain('12GiB / 64GiB');
    expect(await page.locator(host('build-2')).getAttribute('data-cordoned')).toBe('true');
    expect(await text(page, `${host('build-2')} [data-testid="host-runners"]`)).toBe('1 / \u221e');
    expect(await page.locator(host('build-3')).getAttribute('data-state')).toBe('down');
    expect(await page.locator(host('build-3')).textContent()).toContain('no answer within 10s');

    // The README's screenshot is rewritten only on request (UPDATE_DOCS=1), so a test run leaves the tree clean.
    const png = await page.screenshot({ fullPage: true });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    if (process.env.UPDATE_DOCS === '1') {
      await mkdir(dirname(SCREENSHOT), { recursive: true });
      await writeFile(SCREENSHOT, png);
    }

    // Live: the page polls, so a change in the daemon shows up without a reload.
    demo.linux.runnerCounts = { ...demo.linux.runnerCounts, busy: 5 };
    await page.waitForFunction(
      (sel) => document.querySelector(sel)?.textContent === '5',
      `${linux} [data-testid="runner-count"][data-state="busy"] b`,
    );
    (demo.hosts[1] as { cordoned: boolean }).cordoned = false;
    await page.waitForFunction(
      (sel) => document.querySelector(sel)?.getAttribute('data-cordoned') === 'false',
      host('build-2'),
    );
    expect(problems).toEqual([]);
  });

  it('takes the token from ?token=, keeps it out of the address bar and authorizes its API calls', async () => {
    const demo = syntheticDaemon();
    const token = 'dashboard-token-0123456789';
    await using srv = await startHealthServer({
      port: 0,
      token: new Secret(token),
      status: demo.status,
      metrics: createMetrics(),
    });
    const { page, problems } = await openPage(srv.url);
    await page.goto(`${srv.url}/?token=${token}`);
    await page.waitForSelector('[data-testid="scale-set"][data-name="linux-docker"]');
    expect(new URL(page.url()).search).toBe('');
    expect(await page.evaluate(() => sessionStorage.getItem('runner-health-token'))).toBe(token);

    // A reload arrives without ?token=; the tab's stored token still authorizes the API calls.
    await page.reload();
    await page.waitForSelector('[data-testid="scale-set"][data-name="macos-tart"]');
    // A wrong token stored in the tab is reported on the page rather than failing silently.
    await page.evaluate(() => sessionStorage.setItem('runner-health-token', 'wrong'));
    await page.reload();
    await page.waitForSelector('#error:not([hidden])');
    expect(await text(page, '#error')).toMatch(/^Unauthorized/);
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
  });
});
