import { mkdir, readdir } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { pollUntil } from '../../src/util/poll-until.js';
import type { DaemonProcess, Exit } from '../../test/e2e/support/daemon-process.js';
import { containerNames, type E2eEnv } from '../../test/e2e/support/e2e-env.js';
import { testDocker } from '../../test/setup/docker.js';
import type { DockerProxy } from '../../test/setup/docker-proxy.js';

/**
 * SIGTERM during each phase of a daemon's start-up, each phase held open by a fault so the signal is
 * sure to land in it (found by an event, never by a sleep):
 *
 * - `at-spawn`: the moment the process exists, before it has read its config (nothing exists yet);
 * - `taking-the-lock`: while it asks a lock entry that accepts and never answers (2 s at most);
 * - `authenticating`: while GitHub holds the admin-token chain (its first requests) unanswered;
 * - `registering`: while GitHub holds the lookup of the scale set unanswered (the token was issued);
 * - `pulling-the-image`: during an image pull that streams progress and never ends (pull-policy always);
 * - `engine-stalled`: while preparing the backend on an engine that accepts and never answers;
 * - `adopting`: while the listing of a previous run's runners (left by a kill -9) goes unanswered;
 * - `just-listening`: the moment its message session opens, with its first runner starting.
 *
 * In every phase the process must end within STARTUP_STOP_BOUND_MS, with exit code 0 (at-spawn: 0 or
 * killed by the signal, which is the default action before runner has installed its handlers;
 * taking-the-lock: 1, since a lock held by someone else is refused whatever else happens), leaving
 * nothing it made behind: no container, registration or session, no entry of its own in the lock
 * directory, no temp file in the state-dir. What a previous run left (adopting) stays untouched for
 * the next start, which then cleans it up.
 *
 * And it must end because nothing was left open, not by the after-shutdown guard (LINGER_MS), except
 * in `authenticating`: the admin-token chain is shared by every caller of the GitHub client and by
 * design bound to none of their signals (src/github/auth.ts), so a shutdown cannot abort a chain
 * request GitHub never answers; the guard ends the process 2 s after the shutdown, exit code 0, with a
 * warning naming what was open. Aborting it needs a way to close the client (src/github).
 */
export const STARTUP_PHASES = [
  'at-spawn',
  'taking-the-lock',
  'authenticating',
  'registering',
  'pulling-the-image',
  'engine-stalled',
  'adopting',
  'just-listening',
] as const;
export type StartupPhase = (typeof STARTUP_PHASES)[number];

/**
 * Nothing is busy at start-up, so a stop has nothing to drain: the process must end within seconds.
 * Well under the 30 s deadline of a Docker call, so an exit that waited for a stalled call to time out
 * fails; the documented hard bound (drain-timeout + 20 s) is far above it.
 */
export const STARTUP_STOP_BOUND_MS = 15_000;

/** The world the scenarios run in: an env whose `[docker] host` is `proxy`, with min-runners ≥ 1. */
export interface StartupWorld {
  env: E2eEnv;
  proxy: DockerProxy;
  /** The engine behind the proxy, asked directly (the soak's private one); default the machine's. */
  docker?: Docker;
}

/** Names of the env's containers (stopped ones included) on the world's engine. */
async function containersOf(world: StartupWorld): Promise<string[]> {
  const docker = world.docker ?? testDocker;
  return containerNames(
    await docker.listContainers({ all: true, filters: { label: world.env.labelFilter } }),
  );
}

export interface StartupOutcome {
  phase: StartupPhase;
  exit: Exit | { error: string };
  /** From the SIGTERM to the exit. */
  stopMs: number;
  /** Everything wrong with how it ended; empty when it ended as it must. */
  problems: string[];
}

interface Snapshot {
  containers: Set<string>;
  registrations: Set<string>;
  sessions: Set<string>;
}

async function snapshot(world: StartupWorld): Promise<Snapshot> {
  const { env } = world;
  return {
    containers: new Set(await containersOf(world)),
    registrations: new Set(env.fake.runners().map((r) => r.name)),
    sessions: new Set(env.fake.sessions().map((s) => s.sessionId)),
  };
}

const minus = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x));

/**
 * Runs one phase's scenario in `world`; the fault is undone whatever happens. Never throws: a scenario
 * that could not even reach its phase says so in `problems`.
 */
export async function sigtermDuring(phase: StartupPhase, world: StartupWorld): Promise<StartupOutcome> {
  const started = world.env.daemons.length;
  try {
    return await scenario(phase, world);
  } catch (err) {
    // A daemon the scenario started and could not see through is stopped as gracefully as it will
    // go, so what it made does not count against the scenarios (or the soak's end checks) after it.
    for (const d of world.env.daemons.slice(started)) {
      if (d.exit) continue;
      d.signal('SIGTERM');
      await d.waitForExit(60_000).catch(() => d.kill());
    }
    return {
      phase,
      exit: { error: 'not reached' },
      stopMs: -1,
      problems: [`scenario failed: ${String(err).split('\n')[0]}`],
    };
  }
}

async function scenario(phase: StartupPhase, world: StartupWorld): Promise<StartupOutcome> {
  const { env, proxy } = world;
  // Requests and sessions of earlier scenarios (or of the soak's run) are not this daemon's.
  const asked = env.fake.requests.length;
  const undo: (() => Promise<void> | void)[] = [];
  const problems: string[] = [];
  try {
    let before = await snapshot(world);
    let daemon: DaemonProcess;
    let acceptable: (e: Exit) => boolean = (e) => e.code === 0 && e.signal === null;
    let guardTolerated = false;
    switch (phase) {
      case 'at-spawn':
        daemon = await env.startDaemon();
        acceptable = (e) => (e.code === 0 && e.signal === null) || e.signal === 'SIGTERM';
        break;
      case 'taking-the-lock': {
        const rival = await SilentLockEntry.open(join(env.stateDir, 'lock'));
        undo.push(() => rival.close());
        daemon = await env.startDaemon();
        await rival.asked(20_000);
        acceptable = (e) => e.code === 1 && e.signal === null;
        break;
      }
      case 'authenticating':
        env.fake.faults.stall('*');
        undo.push(() => env.fake.faults.unstall());
        daemon = await env.startDaemon();
        await env.fake.waitFor(() => env.fake.requests.length > asked, {
          what: 'the daemon’s first request to GitHub',
          timeout: 20_000,
        });
        guardTolerated = true;
        break;
      case 'registering': {
        env.fake.faults.stall('scale-sets');
        undo.push(() => env.fake.faults.unstall());
        daemon = await env.startDaemon();
        await env.fake.waitFor(() => env.fake.requests.slice(asked).some((r) => r.route === 'scale-sets'), {
          what: 'the lookup of the scale set',
          timeout: 20_000,
        });
        break;
      }
      case 'pulling-the-image': {
        proxy.intercept = (req) =>
          req.method === 'POST' && /\/images\/create/.test(req.url)
            ? {
                status: 200,
                body: '{"status":"Pulling fs layer","id":"layer"}\n{"status":"Downloading","id":"layer","progressDetail":{"current":1048576,"total":943718400}}\n',
                endless: true,
              }
            : undefined;
        undo.push(() => {
          proxy.intercept = undefined;
        });
        daemon = await env.startDaemon({ configFile: await env.configVariant({ pullPolicy: 'always' }) });
        await pollUntil(() => proxy.requestsTo('POST', '/images/create').length > 0, {
          what: 'the image pull under way',
          timeout: 20_000,
          interval: 20,
        });
        break;
      }
      case 'engine-stalled':
        proxy.stall();
        undo.push(() => proxy.recover());
        daemon = await env.startDaemon();
        await pollUntil(() => proxy.waiting > 0, {
          what: 'a request held by the stalled engine',
          timeout: 20_000,
          interval: 20,
        });
        break;
      case 'adopting': {
        // A previous run killed with its idle runner up: what the next start adopts.
        const previous = await env.startDaemon();
        const idle = await env.fake.waitFor(() => env.fake.runners().find((r) => r.status === 'idle')?.name, {
          what: 'the previous run’s idle runner',
          timeout: 30_000,
        });
        await pollUntil(async () => (await containersOf(world)).includes(idle), {
          what: 'its container',
          timeout: 20_000,
          interval: 100,
        });
        previous.signal('SIGKILL');
        await previous.waitForExit(10_000);
        before = await snapshot(world);
        proxy.stall((req) => req.method === 'GET' && /\/containers\/json/.test(req.url));
        undo.push(() => proxy.recover());
        daemon = await env.startDaemon();
        await pollUntil(() => proxy.waitingOn('GET', '/containers/json') > 0, {
          what: 'the listing of the previous run’s runners held by the engine',
          timeout: 30_000,
          interval: 20,
        });
        break;
      }
      case 'just-listening':
        daemon = await env.startDaemon();
        // A new session, by id: a killed daemon's session may expire meanwhile.
        await env.fake.waitFor(() => env.fake.sessions().some((x) => !before.sessions.has(x.sessionId)), {
          what: 'the message session open',
          timeout: 30_000,
        });
        break;
    }

    const signalled = Date.now();
    daemon.signal('SIGTERM');
    const exit = await daemon
      .waitForExit(STARTUP_STOP_BOUND_MS + 30_000)
      .catch((err: unknown) => ({ error: String(err) }));
    const stopMs = Date.now() - signalled;
    for (const u of undo.splice(0).reverse()) await u();

    if ('error' in exit || !acceptable(exit)) problems.push(`exit ${JSON.stringify(exit)}`);
    if (stopMs > STARTUP_STOP_BOUND_MS)
      problems.push(`ended ${stopMs} ms after the SIGTERM (bound ${STARTUP_STOP_BOUND_MS} ms)`);
    const after = await snapshot(world);
    const made = {
      containers: minus(after.containers, before.containers),
      registrations: minus(after.registrations, before.registrations),
      sessions: minus(after.sessions, before.sessions),
    };
    for (const [what, names] of Object.entries(made))
      if (names.length > 0) problems.push(`${what} left: ${names.join(', ')}`);
    // What a previous run left is the next start's to adopt, not this one's to remove half-way.
    const removed = minus(before.containers, after.containers);
    if (removed.length > 0) problems.push(`containers of a previous run removed: ${removed.join(', ')}`);
    const entries = (await readdir(join(env.stateDir, 'lock')).catch(() => [] as string[])).filter((n) =>
      n.replace(/^\./, '').startsWith(`${daemon.pid}-`),
    );
    if (entries.length > 0) problems.push(`lock entries left: ${entries.join(', ')}`);
    const temps = await tempFiles(env.stateDir);
    if (temps.length > 0) problems.push(`temp files left: ${temps.join(', ')}`);
    // It ended because nothing was left open, not because the after-shutdown guard stepped in.
    if (!guardTolerated && daemon.logs('exiting with handles still open after shutdown').length > 0)
      problems.push('it ended only by the after-shutdown guard: something was still open');
    if ('code' in exit && daemon.lines.some((l) => /unhandled|uncaught/i.test(l.raw)))
      problems.push('an unhandled rejection or uncaught exception was logged');

    if (phase === 'adopting') problems.push(...(await adoptAndStop(world)));
    return { phase, exit, stopMs, problems };
  } finally {
    for (const u of undo.reverse()) await u();
  }
}

/** The start after an interrupted adoption: adopts the previous run's runner and stops, leaving nothing. */
async function adoptAndStop(world: StartupWorld): Promise<string[]> {
  const { env } = world;
  const d = await env.startDaemon();
  await d.waitForLog((l) => l.json?.msg === 'adopted runners of a previous run', {
    what: 'the adoption',
    timeout: 30_000,
  });
  d.signal('SIGTERM');
  const exit = await d.waitForExit(60_000);
  const problems: string[] = [];
  if (exit.code !== 0)
    problems.push(`the start after the interrupted adoption: exit ${JSON.stringify(exit)}`);
  const containers = await containersOf(world);
  const registrations = env.fake.runners().map((r) => r.name);
  if (containers.length > 0 || registrations.length > 0)
    problems.push(
      `left after the next start's stop: containers [${containers.join(', ')}], registrations [${registrations.join(', ')}]`,
    );
  return problems;
}

/** `*.tmp` files anywhere under the state-dir: an atomic write that failed and left its temp file. */
export async function tempFiles(stateDir: string): Promise<string[]> {
  const all = await readdir(stateDir, { recursive: true }).catch(() => [] as string[]);
  return all.filter((f) => f.endsWith('.tmp'));
}

/**
 * A lock entry of a live process (this one) that accepts every connection and never says who it is:
 * a contender asking it waits for its answer timeout, then counts it as the holder.
 */
class SilentLockEntry {
  readonly #sockets = new Set<Socket>();
  #onAsk: (() => void) | undefined;
  #askedOnce = false;

  private constructor(
    readonly server: Server,
    readonly path: string,
  ) {
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => this.#sockets.delete(s));
      this.#askedOnce = true;
      this.#onAsk?.();
    });
  }

  static async open(dir: string): Promise<SilentLockEntry> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${process.pid}-${'5'.repeat(8)}`);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    return new SilentLockEntry(server, path);
  }

  /** Resolves at the first connection (already made or yet to come). */
  asked(timeoutMs: number): Promise<void> {
    if (this.#askedOnce) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('nobody asked the silent lock entry')), timeoutMs);
      this.#onAsk = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
