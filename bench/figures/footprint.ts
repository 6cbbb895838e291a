import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { delay } from '../../src/kernel/abort.js';
import { NODE_FLAGS } from '../../src/runtime-flags.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { cliBundle, node24 } from '../../test/cmd/support/built-cli.js';
import { FAKE_IMAGE } from '../lib/docker.js';
import { freePort } from '../lib/docker-world.js';
import { repoRoot } from '../lib/paths.js';

/** How the CLI is run: the tsc build (`dist/cmd/runner.js`, the npm bin) or the esbuild bundle the single binary embeds. */
export type CliFlavour = 'dist' | 'bundle';

export interface FootprintSample {
  flavour: CliFlavour;
  scaleSets: number;
  /** TCP connections the daemon holds open to the fake at the end of the window (long polls + pool). */
  connections: number;
  /** Length of the measured idle window, s. */
  windowSec: number;
  /** Largest VmRSS sampled (once a second) in the window, MB (MiB). */
  rssMaxMb: number;
  /** VmRSS at the end of the window, MB. */
  rssEndMb: number;
  /** At the end: RssAnon (heap, JIT code, buffers: private to the process) and RssFile (mapped files, mostly the node binary's own pages, shared and clean). */
  rssAnonMb: number;
  rssFileMb: number;
  /** VmHWM: peak RSS since the process started, start-up included, MB. */
  rssPeakLifetimeMb: number;
  /** utime+stime over the window / window length, % of one core. */
  cpuPct: number;
}

export interface FootprintRun {
  samples: FootprintSample[];
}

/**
 * Figure 5: the real CLI with three scale sets (Docker backend, min-runners 0, health server on)
 * against the standalone fake with the default 50 s long-poll hold, in both shapes users run it: the
 * tsc build and the bundle. Both run at once against one fake (their own scale sets), so they share
 * the same window. After every scale set is listening and `settleSec` has passed (start-up excluded),
 * RSS and CPU are read from /proc for `windowSec`.
 */
export async function runFootprint(o: {
  windowSec: number;
  settleSec: number;
  log(s: string): void;
  /** Which CLIs run (default both, side by side). */
  flavours?: readonly CliFlavour[];
  /**
   * The scale sets of each daemon, as TOML after its `[docker]` table, and how many scale sets that
   * makes (default three `[[scaleset]]` entries).
   */
  scaleSets?: (flavour: CliFlavour) => { toml: string[]; count: number };
}): Promise<FootprintRun> {
  const threeSets = (flavour: CliFlavour) => ({
    toml: ['a', 'b', 'c'].flatMap((s) => ['', '[[scaleset]]', `name = "fp-${flavour}-${s}"`]),
    count: 3,
  });
  const setsOf = o.scaleSets ?? threeSets;
  const flavours = o.flavours ?? (['dist', 'bundle'] as const);
  const dist = await ensureDist(o.log);
  const bundle = await cliBundle();
  const fake = spawn(
    node24,
    ['--import', 'tsx', join(repoRoot, 'test/fakes/actions-service/main.ts'), '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: repoRoot },
  );
  const dir = await mkdtemp(join(tmpdir(), 'runner-bench-fp-'));
  const daemons: {
    flavour: CliFlavour;
    child: ChildProcess;
    healthPort: number;
    tail: string[];
    count: number;
  }[] = [];
  try {
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: fake.stdout! }).once('line', resolve);
      fake.once('exit', (code) =>
        reject(new Error(`standalone fake exited (${code}) before printing its URL`)),
      );
    });
    const { configUrl, pat } = JSON.parse(first) as { configUrl: string; pat: string };
    const fakePort = Number(new URL(configUrl).port);
    const entries = { dist, bundle };
    for (const flavour of flavours) {
      const entry = entries[flavour];
      const sets = setsOf(flavour);
      const stateDir = join(dir, flavour, 'state');
      await mkdir(stateDir, { recursive: true });
      await writeFile(join(stateDir, 'instance-id'), `${randomUUID()}\n`);
      const healthPort = await freePort();
      const toml = [
        `url = "${configUrl}"`,
        `name = "fp-${flavour}"`,
        'backend = "docker"',
        `runner-image = "${FAKE_IMAGE}"`,
        'min-runners = 0',
        `state-dir = "${stateDir}"`,
        'health-host = "127.0.0.1"',
        `health-port = ${healthPort}`,
        'log-format = "json"',
        'log-level = "info"',
        '',
        '[docker]',
        'network = "host"',
        'pull-policy = "never"',
        ...sets.toml,
        '',
      ].join('\n');
      const configFile = join(dir, flavour, 'config.toml');
      await writeFile(configFile, toml);
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RUNNER_')) env[k] = v;
      env.RUNNER_TOKEN = pat;
      // As users start it: the npm bin through its shebang (which carries NODE_FLAGS), the bundle with
      // the execArgv the single binary embeds.
      env.PATH = `${dirname(node24)}${delimiter}${env.PATH ?? ''}`;
      const child =
        flavour === 'dist'
          ? spawn(entry, ['run', '--config', configFile], { env, stdio: ['ignore', 'ignore', 'pipe'] })
          : spawn(node24, [...NODE_FLAGS, entry, 'run', '--config', configFile], {
              env,
              stdio: ['ignore', 'ignore', 'pipe'],
            });
      // The logs are read (a full pipe would stall the daemon) and the last lines kept for errors.
      const tail: string[] = [];
      createInterface({ input: child.stderr! }).on('line', (l) => {
        tail.push(l);
        if (tail.length > 20) tail.shift();
      });
      daemons.push({ flavour, child, healthPort, tail, count: sets.count });
    }
    for (const d of daemons) {
      await pollUntil(
        async () => {
          if (d.child.exitCode !== null) throw new Error(`${d.flavour} daemon exited: ${d.tail.join('\n')}`);
          const res = await fetch(`http://127.0.0.1:${d.healthPort}/api/status`);
          if (!res.ok) return false;
          const s = (await res.json()) as { ready: boolean; scaleSets: { phase: string }[] };
          return (
            s.ready && s.scaleSets.length === d.count && s.scaleSets.every((x) => x.phase === 'listening')
          );
        },
        { timeout: 120_000, interval: 200, what: `${d.count} scale sets listening` },
      );
    }
    // The status requests cost CPU too; settling after them keeps them out of the window.
    await delay(o.settleSec * 1000);

    const tick = Number((await execa('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
    const pids = daemons.map((d) => d.child.pid!);
    const cpu0 = await Promise.all(pids.map(cpuTicks));
    const t0 = performance.now();
    const rssMax = pids.map(() => 0);
    // One sample a second: reading /proc costs this process, not the daemons.
    const endAt = t0 + o.windowSec * 1000;
    while (performance.now() < endAt) {
      const now = await Promise.all(pids.map((p) => statusKb(p, 'VmRSS')));
      now.forEach((v, i) => {
        rssMax[i] = Math.max(rssMax[i]!, v);
      });
      await delay(Math.min(1000, Math.max(0, endAt - performance.now())));
    }
    const cpu1 = await Promise.all(pids.map(cpuTicks));
    const wallSec = (performance.now() - t0) / 1000;
    const samples: FootprintSample[] = [];
    for (const [i, d] of daemons.entries()) {
      const pid = pids[i]!;
      if (d.child.exitCode !== null)
        throw new Error(`${d.flavour} daemon exited in the window: ${d.tail.join('\n')}`);
      const end = await statusKb(pid, 'VmRSS');
      const s: FootprintSample = {
        flavour: d.flavour,
        scaleSets: d.count,
        connections: await connectionsTo(pid, fakePort),
        windowSec: wallSec,
        rssMaxMb: Math.max(rssMax[i]!, end) / 1024,
        rssEndMb: end / 1024,
        rssAnonMb: (await statusKb(pid, 'RssAnon')) / 1024,
        rssFileMb: (await statusKb(pid, 'RssFile')) / 1024,
        rssPeakLifetimeMb: (await statusKb(pid, 'VmHWM')) / 1024,
        cpuPct: ((cpu1[i]! - cpu0[i]!) / tick / wallSec) * 100,
      };
      samples.push(s);
      o.log(
        `footprint (${d.flavour}, ${d.count} scale sets, ${s.connections} connections): RSS max ${s.rssMaxMb.toFixed(1)} MB (anon ${s.rssAnonMb.toFixed(1)}, file ${s.rssFileMb.toFixed(1)}; lifetime peak ${s.rssPeakLifetimeMb.toFixed(1)}), CPU ${s.cpuPct.toFixed(2)} % over ${wallSec.toFixed(0)} s`,
      );
    }
    return { samples };
  } finally {
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGTERM');
    await Promise.all(
      daemons.map((d) =>
        d.child.exitCode !== null ? undefined : new Promise((resolve) => d.child.once('exit', resolve)),
      ),
    );
    fake.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * dist/cmd/runner.js, rebuilt with `npm run build` when a source is newer. Other engineers' work in
 * progress may not type-check: tsc still emits, so a failed check is reported, not fatal.
 */
async function ensureDist(log: (s: string) => void): Promise<string> {
  const entry = join(repoRoot, 'dist/cmd/runner.js');
  const built = await stat(entry).then(
    () => true,
    () => false,
  );
  const { stdout } = built
    ? await execa('find', ['cmd', 'src', 'backends', '-name', '*.ts', '-newer', entry], { cwd: repoRoot })
    : { stdout: 'no build' };
  if (stdout.trim() === '') return entry;
  log('footprint: dist/ is older than the sources; npm run build');
  const r = await execa('npm', ['run', 'build'], { cwd: repoRoot, reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0)
    log(`footprint: npm run build reported errors (emitted anyway):\n${r.stdout.slice(-1000)}`);
  await stat(entry);
  return entry;
}

/** utime + stime of `pid`, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function statusKb(pid: number, key: string): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!m) throw new Error(`/proc/${pid}/status has no ${key}`);
  return Number(m[1]);
}

/**
 * Established TCP connections of `pid` to local port `port`: its sockets (/proc/<pid>/fd) matched by
 * inode against /proc/net/tcp and tcp6, state 01 (ESTABLISHED).
 */
export async function connectionsTo(pid: number, port: number): Promise<number> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  const inodes = new Set<string>();
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m?.[1]) inodes.add(m[1]);
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const remote = cols[2];
      if (cols[3] === '01' && remote?.endsWith(`:${hexPort}`) && inodes.has(cols[9] ?? '')) n++;
    }
  }
  return n;
}
