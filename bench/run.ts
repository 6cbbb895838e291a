import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startFakeActionsService } from '../test/fakes/actions-service/index.js';
import {
  dockerWorld,
  IMAGE,
  rawBurst,
  rawDockerRun,
  removeRaw,
  waitAll,
  watchStarts,
} from './figures/docker-pickup.js';
import { runThroughput } from './figures/throughput.js';
import { docsDir, repoRoot } from './lib/paths.js';
import { fmt, median, percentile } from './lib/stats.js';

/**
 * `npm run bench [-- --quick]`: the five figures of issue 8 against the fake Actions service and the real
 * Docker engine, beside raw Docker measured in the same run. Writes docs/benchmarks.md (keeping the soak
 * section) and docs/benchmarks.json.
 */
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = values.quick;
const log = (s: string) => process.stderr.write(`${s}\n`);
const state = (job: { history: { state: string; at: number }[] }, s: string) =>
  job.history.find((h) => h.state === s)?.at;

execFileSync('bash', [join(repoRoot, 'test/fakes/runner/build-image.sh')], { stdio: 'inherit' });

interface Row {
  figure: string;
  target: string;
  measured: string;
  met: boolean;
  note: string;
}
const rows: Row[] = [];
const json: Record<string, unknown> = { date: new Date().toISOString(), quick };

// 1. Cold pickup: job queued → runner container started, beside raw docker create+start.
{
  const n = quick ? 5 : 15;
  const w = await dockerWorld('max-runners = 4\nmin-runners = 0\n');
  const starts = await watchStarts(w.instanceId);
  const ours: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < n; i++) {
    raw.push(await rawDockerRun());
    await removeRaw();
    const before = starts.starts.length;
    const t0 = Date.now();
    const job = w.fake.queueJob({ scaleSet: 'bench' });
    const at = await waitAll(() => starts.starts[before], 30_000, 'runner container started');
    ours.push(at - t0);
    await waitAll(() => job.state === 'completed' && w.fake.runners().length === 0, 30_000, 'job done');
    await waitAll(() => w.daemon.status().scaleSets[0]!.runners.length === 0, 30_000, 'runner removed');
  }
  starts.stop();
  await w.close();
  const added = median(ours) - median(raw);
  json.cold = {
    ours,
    raw,
    p50: median(ours),
    p95: percentile(ours, 95),
    rawP50: median(raw),
    addedMs: added,
  };
  rows.push({
    figure: '1. cold pickup (queued → container running)',
    target: 'adds ≤ 50 ms at p50 over raw docker run -d',
    measured: `p50 ${fmt(median(ours), ' ms')}, p95 ${fmt(percentile(ours, 95), ' ms')}; raw p50 ${fmt(median(raw), ' ms')} → adds ${fmt(added, ' ms')}`,
    met: added <= 50,
    note: `${n} runs. Ours includes the long poll delivering the job, acquire, the next message with the assigned count, the JIT registration and the container create+start.`,
  });
  log(`cold: ${rows.at(-1)!.measured}`);
}

// 2. Warm pool: job queued → JobStarted on an already idle runner.
{
  const n = quick ? 5 : 15;
  const w = await dockerWorld('max-runners = 4\nmin-runners = 1\n');
  const pickups: number[] = [];
  for (let i = 0; i < n; i++) {
    await waitAll(() => w.fake.runners().some((r) => r.status === 'idle'), 30_000, 'an idle runner');
    const job = w.fake.queueJob({ scaleSet: 'bench' });
    await waitAll(() => job.state === 'completed', 30_000, 'job done');
    pickups.push(state(job, 'started')! - state(job, 'available')!);
  }
  await w.close();
  json.warm = { pickups, p50: median(pickups), p95: percentile(pickups, 95) };
  rows.push({
    figure: '2. warm pickup (queued → job started on an idle runner)',
    target: 'p50 ≤ 50 ms + the fake runner claim interval (0: its claim is a held request)',
    measured: `p50 ${fmt(median(pickups), ' ms')}, p95 ${fmt(percentile(pickups, 95), ' ms')}`,
    met: median(pickups) <= 50,
    note: `${n} runs; the fake assigns the job once the daemon acquires it, and the waiting claim returns at once.`,
  });
  log(`warm: ${rows.at(-1)!.measured}`);
}

// 3. Burst: 100 jobs at once, max-runners 100 → all started; beside 100 raw docker runs.
{
  const n = quick ? 30 : 100;
  const w = await dockerWorld(`max-runners = ${n}\nstart-concurrency = 16\n`);
  const t0 = Date.now();
  const jobs = Array.from({ length: n }, () => w.fake.queueJob({ scaleSet: 'bench', durationMs: 1000 }));
  await waitAll(() => jobs.every((j) => state(j, 'started') !== undefined), 300_000, 'all jobs started');
  const ours = Math.max(...jobs.map((j) => state(j, 'started')!)) - t0;
  await waitAll(() => jobs.every((j) => j.state === 'completed'), 300_000, 'all jobs done');
  await waitAll(() => w.daemon.status().scaleSets[0]!.runners.length === 0, 120_000, 'runners removed');
  await w.close();
  const raw: Record<number, number> = {};
  for (const c of [4, 8, 16, 32]) raw[c] = await rawBurst(n, c);
  const best = Math.min(...Object.values(raw));
  json.burst = { n, oursMs: ours, raw, ratio: ours / best };
  rows.push({
    figure: `3. burst (${n} jobs at once, max-runners ${n})`,
    target: '≤ 1.2× 100 raw docker run -d at the best concurrency',
    measured: `${fmt(ours / 1000, ' s')} vs raw best ${fmt(best / 1000, ' s')} (${Object.entries(raw)
      .map(([c, ms]) => `c${c}: ${fmt(ms / 1000, 's')}`)
      .join(', ')}) → ${fmt(ours / best, '×')}`,
    met: ours / best <= 1.2,
    note: 'ours = first queued → last job started (containers running their job); raw = create+start only.',
  });
  log(`burst: ${rows.at(-1)!.measured}`);
}

// 4. Control-plane throughput with the no-op backend.
{
  const jobs = quick ? 2000 : 10_000;
  const t = await runThroughput({ jobs, maxRunners: 200, startConcurrency: 64, log });
  json.throughput = t;
  rows.push({
    figure: `4. control plane (${jobs} jobs, in-process no-op backend)`,
    target: '≥ 500 jobs/s, 0 lost',
    measured: `${fmt(t.jobsPerSec, ' jobs/s')}, daemon CPU ${fmt(t.daemonCpuMsPerJob, ' ms/job')}, lost ${t.verdict.lost}, duplicated ${t.verdict.duplicated}`,
    met: t.jobsPerSec >= 500 && t.verdict.lost === 0 && t.verdict.duplicated === 0,
    note: 'daemon in this process; the fake and the runners in a child process, sharing the 2 cores.',
  });
  log(`throughput: ${rows.at(-1)!.measured}`);
}

// 5. Footprint: the real CLI idle-polling with 3 scale sets.
{
  const seconds = quick ? 15 : 60;
  if (!existsSync(join(repoRoot, 'dist/cmd/runner.js')))
    execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  const fake = await startFakeActionsService();
  const dir = await mkdtemp(join(tmpdir(), 'runner-footprint-'));
  const cfg = join(dir, 'config.toml');
  await writeFile(
    cfg,
    [
      `url = "${fake.configUrl()}"`,
      `state-dir = "${dir}/state"`,
      'health-port = 0',
      `runner-image = "${IMAGE}"`,
      '[docker]',
      'pull-policy = "never"',
      '[[scaleset]]',
      'name = "a"',
      '[[scaleset]]',
      'name = "b"',
      '[[scaleset]]',
      'name = "c"',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [join(repoRoot, 'dist/cmd/runner.js'), 'run', '--config', cfg], {
    env: { ...process.env, RUNNER_TOKEN: fake.pat },
    stdio: 'ignore',
  });
  await fake.waitFor(() => fake.sessions().length === 3, { timeout: 60_000, what: 'three sessions' });
  const cpu = async () => {
    const f = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks (100/s) → ms
  };
  const rss = async () =>
    Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
  const c0 = await cpu();
  const t0 = Date.now();
  const samples: number[] = [];
  while (Date.now() - t0 < seconds * 1000) {
    samples.push(await rss());
    await new Promise((r) => setTimeout(r, 1000)); // a sampling period, not a synchronisation
  }
  const cpuPct = (((await cpu()) - c0) / (Date.now() - t0)) * 100;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  await fake.close();
  const peak = Math.max(...samples);
  json.footprint = { seconds, rssMb: samples, peakRssMb: peak, cpuPct };
  rows.push({
    figure: `5. footprint (3 scale sets idle-polling, ${seconds} s)`,
    target: 'RSS ≤ 80 MB, CPU ≤ 1 %',
    measured: `RSS peak ${fmt(peak, ' MB')} (median ${fmt(median(samples), ' MB')}), CPU ${fmt(cpuPct, ' %')}`,
    met: peak <= 80 && cpuPct <= 1,
    note: 'the built CLI (node dist/cmd/runner.js run), long-poll hold 50 s as at GitHub.',
  });
  log(`footprint: ${rows.at(-1)!.measured}`);
}

const table = [
  '| figure | target | measured | met | notes |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) => `| ${r.figure} | ${r.target} | ${r.measured} | ${r.met ? 'yes' : '**no**'} | ${r.note} |`,
  ),
].join('\n');
const doc = join(docsDir, 'benchmarks.md');
const old = existsSync(doc) ? await readFile(doc, 'utf8') : '';
const soak = /<!-- soak:start -->[\s\S]*<!-- soak:end -->/.exec(old)?.[0] ?? '';
const header = `# Benchmarks\n\n\`npm run bench${quick ? ' -- --quick' : ''}\`, ${new Date().toISOString().slice(0, 10)}, on this project's 2-core machine: the fake Actions service on loopback, the real Docker engine with the local \`${IMAGE}\` image (busybox + the fake runner script). Raw Docker figures are measured in the same run.\n\n`;
await writeFile(doc, `${header}${table}\n\n${soak}\n`);
await writeFile(join(docsDir, 'benchmarks.json'), `${JSON.stringify(json, null, 2)}\n`);
log(`\n${table}\n\nwrote ${doc}`);
