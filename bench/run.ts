/**
 * `npm run bench [-- --quick] [--only cold,warm,burst,throughput,footprint,placement,fleet-burst,scale] [--runs N] [--profile] [--out DIR]`
 *
 * Measures the five figures of the benchmark issue against the fake Actions service and the real
 * Docker engine, each beside its baseline from the same run, and the cost of Docker host placement
 * (a micro-benchmark with simulated hosts, against its absolute target) and a 100-job burst over three
 * private engines (issue 15, beside raw create+starts over the same engines), and what each added scale set
 * costs an idle daemon (issue 16: 1, 10 and 50 job-shape scale sets), and writes docs/benchmarks.md and
 * docs/benchmarks.json. A quick or partial run writes to a temporary directory instead (or --out), so
 * it never replaces the published report with smoke-test numbers.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { type BurstRun, runBurst } from './figures/burst.js';
import { type ColdRun, runCold } from './figures/cold.js';
import { type FleetBurstRun, runFleetBurst } from './figures/fleet-burst.js';
import { type FootprintRun, runFootprint } from './figures/footprint.js';
import { runScale, type ScaleRun } from './figures/scale.js';
import { runThroughput, type ThroughputRun } from './figures/throughput.js';
import { runWarm, type WarmRun } from './figures/warm.js';
import { EngineEvents, ensureImage } from './lib/docker.js';
import type { ProfileSummary } from './lib/profile.js';
import {
  type BenchReport,
  type FigureReport,
  load1,
  machine,
  renderMarkdown,
  writeBenchReport,
} from './lib/report.js';
import {
  burstReport,
  coldReport,
  fleetBurstReport,
  footprintReport,
  placementReport,
  scaleReport,
  throughputReport,
  warmReport,
} from './lib/summaries.js';
import { type PlacementRun, runPlacement } from './micro/placement.js';

const FIGURES = [
  'cold',
  'warm',
  'burst',
  'throughput',
  'footprint',
  'placement',
  'fleet-burst',
  'scale',
] as const;
type FigureKey = (typeof FIGURES)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const quick = values.quick;
const only = (values.only?.split(',').map((s) => s.trim()) ?? [...FIGURES]) as FigureKey[];
for (const k of only)
  if (!FIGURES.includes(k)) throw new Error(`--only: unknown figure ${k} (${FIGURES.join(', ')})`);
const runsOverride = values.runs ? Number(values.runs) : undefined;

/**
 * Sizes per mode. Full: about 10 minutes on 2 cores, plus about 5 per fleet-burst run (three engines,
 * five raw bursts and a runner burst of 100 each) and about 2 per scale run (three idle daemons of 1,
 * 10 and 50 scale sets). Quick: a few minutes, for a smoke run.
 */
const P = quick
  ? {
      cold: { runs: 1, samples: 5 },
      warm: { runs: 1, samples: 5 },
      burst: { runs: 1, jobs: 20, concurrencies: [4, 16] },
      'fleet-burst': { runs: 1, jobs: 30, concurrencies: [4, 16] },
      throughput: { runs: 1, jobs: 1000 },
      footprint: { runs: 1, windowSec: 10, settleSec: 2 },
      placement: { runs: 1, seconds: 1 },
      scale: { runs: 1, windowSec: 5, settleSec: 2 },
    }
  : {
      cold: { runs: 3, samples: 20 },
      warm: { runs: 3, samples: 20 },
      burst: { runs: 3, jobs: 100, concurrencies: [4, 8, 16, 32] },
      'fleet-burst': { runs: 3, jobs: 100, concurrencies: [4, 8, 16, 32] },
      throughput: { runs: 3, jobs: 10_000 },
      footprint: { runs: 3, windowSec: 60, settleSec: 5 },
      placement: { runs: 3, seconds: 3 },
      scale: { runs: 3, windowSec: 30, settleSec: 5 },
    };
const runsOf = (k: FigureKey) => runsOverride ?? P[k].runs;

const log = (s: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

async function main(): Promise<void> {
  const t0 = performance.now();
  const docker = new Docker();
  await docker.ping().catch((err: unknown) => {
    throw new Error(`no Docker engine reachable: ${err instanceof Error ? err.message : String(err)}`);
  });
  log('building the fake runner image if needed');
  await ensureImage();
  const events = await EngineEvents.open(docker);
  const figures: BenchReport['figures'] = [];
  const measure = async <R>(
    key: FigureKey,
    one: (i: number) => Promise<R>,
    report: (runs: R[]) => FigureReport | Promise<FigureReport>,
  ) => {
    if (!only.includes(key)) return;
    const start = load1();
    const runs: R[] = [];
    for (let i = 0; i < runsOf(key); i++) {
      log(`${key}: run ${i + 1}/${runsOf(key)}`);
      runs.push(await one(i));
    }
    figures.push({ ...(await report(runs)), load: { start, end: load1() } });
  };

  try {
    await measure<ColdRun>('cold', () => runCold({ samples: P.cold.samples, events, log }), coldReport);
    await measure<WarmRun>('warm', () => runWarm({ samples: P.warm.samples, log }), warmReport);
    await measure<BurstRun>(
      'burst',
      () => runBurst({ jobs: P.burst.jobs, concurrencies: P.burst.concurrencies, events, log }),
      burstReport,
    );
    await measure<ThroughputRun>(
      'throughput',
      () => runThroughput({ jobs: P.throughput.jobs, maxRunners: 200, startConcurrency: 200, log }),
      async (runs) => {
        let profile: ProfileSummary | undefined;
        // A missed target is profiled: one more run (not counted, profiling slows it) with the inspector on.
        if (values.profile || !throughputReport(runs).met) {
          const dir = await mkdtemp(join(tmpdir(), 'runner-bench-profile-'));
          log(`throughput: extra run with a CPU profile of the daemon (${dir})`);
          const run = await runThroughput({
            jobs: P.throughput.jobs,
            maxRunners: 200,
            startConcurrency: 200,
            profileFile: join(dir, 'daemon.cpuprofile'),
            log,
          });
          profile = run.profile;
        }
        return throughputReport(runs, profile);
      },
    );
    await measure<FootprintRun>(
      'footprint',
      () => runFootprint({ windowSec: P.footprint.windowSec, settleSec: P.footprint.settleSec, log }),
      footprintReport,
    );
    await measure<PlacementRun>(
      'placement',
      async () => runPlacement({ seconds: P.placement.seconds, hosts: 50 }),
      placementReport,
    );
    await measure<FleetBurstRun>(
      'fleet-burst',
      () =>
        runFleetBurst({
          jobs: P['fleet-burst'].jobs,
          concurrencies: P['fleet-burst'].concurrencies,
          log,
        }),
      fleetBurstReport,
    );
    await measure<ScaleRun>(
      'scale',
      () => runScale({ windowSec: P.scale.windowSec, settleSec: P.scale.settleSec, log }),
      scaleReport,
    );
  } finally {
    events.close();
  }

  const partial = quick || only.length < FIGURES.length;
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: await machine(docker),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    durationSec: (performance.now() - t0) / 1000,
    figures,
  };
  const dir = values.out ?? (partial ? await mkdtemp(join(tmpdir(), 'runner-bench-report-')) : undefined);
  if (dir) await mkdir(dir, { recursive: true });
  const written = await writeBenchReport(report, dir);
  process.stdout.write(`\n${renderMarkdown(report).split('\n## ')[0]}\n`);
  log(`report: ${written.md} and ${written.json}${partial ? ' (quick/partial run: docs/ left alone)' : ''}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
