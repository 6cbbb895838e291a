import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { docsDir } from './lib/paths.js';
import { runSoak, type SoakResult } from './soak/run-soak.js';

export { runSoak, type SoakOptions, type SoakResult } from './soak/run-soak.js';

const START = '<!-- soak:start -->';
const END = '<!-- soak:end -->';

/** The "## Soak" section of docs/benchmarks.md, between markers another engineer's report leaves alone. */
export function soakSection(r: SoakResult, cmd: string): string {
  const fl = r.faults;
  const rows = [
    ['jobs', `${r.jobs} (${r.succeeded} succeeded, ${r.failed} failed)`],
    ['failed by a kill', `${r.failedByKill}`],
    ['max-runners', `${r.maxRunners}`],
    ['wall time', `${(r.wallMs / 1000).toFixed(1)} s`],
    ['jobs/min', r.jobsPerMin.toFixed(1)],
    ['peak runners (containers / registrations)', `${r.peakContainers} / ${r.peakRegistrations}`],
    ['503 + Retry-After injected', `${fl.http503Injected}`],
    ['queue / admin token expiries', `${fl.queueTokenExpiries} / ${fl.adminTokenExpiries}`],
    ['session conflicts', `${fl.sessionConflicts}`],
    ['kill -9 restarts', `${r.restarts}`],
    ['docker kill busy / idle', `${fl.dockerKillsBusy} / ${fl.dockerKillsIdle}`],
    [
      'engine restarts (private dockerd) / runners busy then',
      `${fl.engineRestarts} / ${fl.busyAtEngineRestart}`,
    ],
    ...r.faultNotes.map((n) => [n.fault, n.note]),
  ];
  return [
    START,
    '## Soak',
    '',
    `\`${cmd}\`, ${new Date().toISOString().slice(0, 10)}: the real daemon on a private Docker engine, faults injected throughout: GitHub's and Docker's (503s, token expiries, a session conflict, kill -9 restarts, docker kills, an engine restart) and its surroundings' (its log reader gone, a second daemon on its state-dir, a full state-dir disk, an engine that stalls, SIGTERM in each start-up phase). Wall time and jobs/min include the stall and the full disk.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '| check | result | detail |',
    '| --- | --- | --- |',
    ...r.checks.map(
      (c) =>
        `| ${c.name} | ${c.pass ? 'pass' : '**FAIL**'} | ${c.detail.replace(/\n/g, ' ').replace(/\|/g, '\\|')} |`,
    ),
    END,
  ].join('\n');
}

/** Replaces our section (or appends it; or creates the file with just it), leaving the rest as it is. */
async function writeSection(section: string): Promise<void> {
  const file = join(docsDir, 'benchmarks.md');
  await mkdir(docsDir, { recursive: true });
  const old = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  let next: string;
  if (old === undefined) next = `${section}\n`;
  else {
    const a = old.indexOf(START);
    const b = old.indexOf(END);
    next =
      a >= 0 && b > a
        ? old.slice(0, a) + section + old.slice(b + END.length)
        : `${old.replace(/\n*$/, '\n\n')}${section}\n`;
  }
  await writeFile(file, next);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { jobs: { type: 'string' }, quick: { type: 'boolean' }, 'max-runners': { type: 'string' } },
  });
  const quick = values.quick ?? false;
  const jobs = Number(values.jobs ?? (quick ? 100 : 1000));
  const maxRunners = Number(values['max-runners'] ?? 8);
  if (!Number.isInteger(jobs) || jobs < 10)
    throw new Error(`--jobs: want an integer ≥ 10, got ${values.jobs}`);
  const t0 = Date.now();
  const result = await runSoak({
    jobs,
    maxRunners,
    // Quick mode cannot wait a minute between token expiries: the plan's own expiry is enough. Its
    // engine stall outlasts the engine's call deadline (30 s), as the reduced fault suite's does.
    faults: quick ? { tokenExpiryEveryMs: 0, dockerKills: 1, engineStallMs: 35_000, fullDiskMs: 5_000 } : {},
    log: (m) => process.stderr.write(`[soak +${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}\n`),
  });
  const cmd = `npm run soak -- --jobs ${jobs}${quick ? ' --quick' : ''}`;
  const section = soakSection(result, cmd);
  process.stdout.write(`${section}\n`);
  // A quick run is a smoke test: it must not replace the published 1,000-job figures.
  if (quick) process.stderr.write('quick run: docs/benchmarks.md left alone\n');
  else await writeSection(section);
  process.exitCode = result.passed ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
