import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { afterEach, beforeAll, expect } from 'vitest';
import type { DaemonStatus } from '../../../src/health/status-types.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_SCALE_SET, MANAGED_BY_VALUE } from '../../../src/labels.js';
import { pollUntil } from '../../../src/util/poll-until.js';
import { type CliResult, cliBundle, runCli, runFile } from '../../cmd/support/built-cli.js';
import {
  type FakeActionsService,
  type FakeOptions,
  startFakeActionsService,
} from '../../fakes/actions-service/index.js';
import { removeByInstance, testDocker, useDocker } from '../../setup/docker.js';
import { writeDaemonFiles } from './daemon-files.js';
import { DaemonProcess } from './daemon-process.js';

/** The scale set every e2e test registers (each test has its own fake, so names never collide). */
export const SCALE_SET = 'e2e';

/** Where a gated job's script looks for the file that lets it finish (see E2eEnv.gatedScript). */
const GATE_MOUNT = '/e2e-gate';

export interface E2eOptions {
  /** Scale set name; default SCALE_SET. */
  name?: string;
  minRunners?: number;
  maxRunners?: number;
  /** Extra top-level TOML (keys before the first table). */
  top?: string;
  /** Extra keys of the [docker] table. */
  docker?: string;
  /** Mount a gate directory into every runner, so jobs can be held running until the test opens it. */
  gate?: boolean;
  /** 0 turns the health server off (status() then has nothing to ask); default a free port. */
  healthPort?: number;
  /** The runner image; default the fake runner image (FAKE_IMAGE). */
  image?: string;
  /** See DaemonFilesOptions: a state-dir of the test's choosing, the image pull policy. */
  stateDir?: string;
  pullPolicy?: 'always' | 'if-not-present' | 'never';
  fake?: FakeOptions;
}

/**
 * One test's world: a fake Actions service in this process, a temp dir with the config file and the
 * state dir, a free health port, and the instance id (written to state-dir before the daemon starts,
 * as a previous run would have, so the test knows its container label even when the daemon never gets
 * to write it). Every Docker query of the test filters on that label, so concurrent suites never count
 * each other's containers.
 */
export class E2eEnv {
  readonly daemons: DaemonProcess[] = [];
  readonly #stoppers: (() => Promise<void>)[] = [];

  private constructor(
    readonly fake: FakeActionsService,
    readonly dir: string,
    readonly configFile: string,
    readonly stateDir: string,
    readonly instanceId: string,
    readonly healthPort: number,
    readonly gateDir: string | undefined,
  ) {}

  static async create(opts: E2eOptions = {}): Promise<E2eEnv> {
    const fake = await startFakeActionsService({
      holdMs: 500,
      // A killed daemon's session must go away quickly, or the restart waits on 409s.
      sessionIdleTimeoutMs: 2_000,
      reannounceMs: 1_000,
      ...opts.fake,
    });
    const f = await writeDaemonFiles({
      tmpPrefix: 'runner-e2e-',
      configUrl: fake.configUrl(),
      name: opts.name ?? SCALE_SET,
      minRunners: opts.minRunners ?? 0,
      maxRunners: opts.maxRunners ?? 3,
      top: ['log-level = "debug"', opts.top ?? ''],
      docker: [opts.docker ?? ''],
      ...(opts.gate ? { gateMount: GATE_MOUNT } : {}),
      ...(opts.healthPort === undefined ? {} : { healthPort: opts.healthPort }),
      ...(opts.image === undefined ? {} : { image: opts.image }),
      ...(opts.stateDir === undefined ? {} : { stateDir: opts.stateDir }),
      ...(opts.pullPolicy === undefined ? {} : { pullPolicy: opts.pullPolicy }),
    });
    return new E2eEnv(fake, f.dir, f.configFile, f.stateDir, f.instanceId, f.healthPort, f.gateDir);
  }

  /**
   * Starts `runner run --config <file>` with the token in RUNNER_TOKEN, as the docs tell users to.
   * `env` adds to (or overrides) that environment, e.g. RUNNER_HEALTH_PORT for a second daemon on
   * the same config and state-dir; `configFile` replaces the config (a variant of this env's).
   */
  async startDaemon(opts: { env?: NodeJS.ProcessEnv; configFile?: string } = {}): Promise<DaemonProcess> {
    const d = await DaemonProcess.start(opts.configFile ?? this.configFile, {
      ...childEnv(this.fake.pat),
      ...opts.env,
    });
    this.daemons.push(d);
    return d;
  }

  /**
   * The daemon started by another command (npx, a shell pipeline) in a process group of its own; see
   * DaemonProcess.spawn. The environment is the daemon's (RUNNER_TOKEN set) plus `env`.
   */
  spawnDaemon(
    file: string,
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ): DaemonProcess {
    const d = DaemonProcess.spawn(file, args, {
      env: { ...childEnv(this.fake.pat), ...opts.env },
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    this.daemons.push(d);
    return d;
  }

  /**
   * `runner <args> --config <file>` (doctor, validate…) with the daemon's environment, run to its end;
   * `binary`: the single executable (seaBinary()) instead of the npm install's bundle.
   */
  cli(args: readonly string[], opts: { binary?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
    const full = [...args, '--config', this.configFile];
    const run = { env: { ...childEnv(this.fake.pat), ...opts.env } };
    return opts.binary ? runFile(opts.binary, full, run) : runCli(full, run);
  }

  /** A copy of this env's config file with `[docker] pull-policy` changed; returns its path. */
  async configVariant(change: { pullPolicy: 'always' | 'if-not-present' | 'never' }): Promise<string> {
    const text = (await readFile(this.configFile, 'utf8')).replace(
      /^pull-policy = ".*"$/m,
      `pull-policy = "${change.pullPolicy}"`,
    );
    const file = join(this.dir, `config-pull-${change.pullPolicy}.toml`);
    await writeFile(file, text);
    return file;
  }

  /** A job script that runs until `openGate()`: how tests hold a job busy without guessing durations. */
  gatedScript(): string {
    if (!this.gateDir) throw new Error('E2eEnv created without gate: true');
    return `until [ -e ${GATE_MOUNT}/open ]; do sleep 0.05; done`;
  }

  async openGate(): Promise<void> {
    if (!this.gateDir) throw new Error('E2eEnv created without gate: true');
    await writeFile(join(this.gateDir, 'open'), '');
  }

  get labelFilter(): string[] {
    return [`${LABEL_INSTANCE}=${this.instanceId}`];
  }

  /** Containers carrying our instance label, stopped ones included. */
  containers(opts: { running?: boolean } = {}): Promise<Docker.ContainerInfo[]> {
    return testDocker.listContainers({
      all: !opts.running,
      filters: { label: this.labelFilter },
    });
  }

  /** Polls the engine until `fn` of our containers holds; says what it saw last on timeout. */
  waitContainers<T>(
    fn: (cs: Docker.ContainerInfo[]) => T | undefined | false,
    opts: { what: string; timeout?: number; running?: boolean },
  ): Promise<T> {
    return pollUntil(async () => fn(await this.containers({ running: opts.running })), {
      timeout: opts.timeout ?? 20_000,
      interval: 100,
      what: opts.what,
    });
  }

  /**
   * Waits until our containers are exactly the runners named. A runner can reach the fake before the
   * engine reports its container as running (start returns after the process is up), so even
   * "these containers exist now" is a wait, not a snapshot.
   */
  async waitContainerNames(
    expected: string[],
    opts: { what: string; running?: boolean; timeout?: number },
  ): Promise<void> {
    const want = JSON.stringify([...expected].sort());
    await this.waitContainers((cs) => JSON.stringify(containerNames(cs)) === want || undefined, {
      ...opts,
      what: `${opts.what}: containers ${want}`,
    });
  }

  async status(): Promise<DaemonStatus> {
    const res = await fetch(`http://127.0.0.1:${this.healthPort}/api/status`);
    if (!res.ok) throw new Error(`/api/status answered ${res.status}`);
    return (await res.json()) as DaemonStatus;
  }

  /**
   * The end state every test must reach: no container with our label, no registration at the fake,
   * and (after a graceful stop) no session.
   */
  async expectNothingLeft(opts: { sessions: boolean }): Promise<void> {
    expect(await this.containers()).toEqual([]);
    expect(this.fake.runners()).toEqual([]);
    if (opts.sessions) expect(this.fake.sessions()).toEqual([]);
  }

  /**
   * Calls `fn` now and after every state change of the fake, until the returned function is called:
   * sees every registration the moment it is made, without sampling.
   */
  observeFake(fn: () => void): () => void {
    const off = this.fake.onChange(fn);
    fn();
    this.onCleanup(off);
    return off;
  }

  /** What a failed test leaves for whoever reads the output: daemon logs, fake state, runner output. */
  async #dump(): Promise<void> {
    const out: string[] = [];
    for (const [i, d] of this.daemons.entries()) {
      out.push(`--- daemon ${i + 1} log (exit ${JSON.stringify(d.exit)}) ---`, d.text);
    }
    const jobs = this.fake
      .jobs()
      .map((j) => ({ id: j.requestId, state: j.state, result: j.result, runner: j.runnerName }));
    const runners = this.fake.runners().map((r) => ({ id: r.id, name: r.name, status: r.status }));
    out.push(`--- fake: jobs ${JSON.stringify(jobs)}`, `--- fake: runners ${JSON.stringify(runners)}`);
    for (const c of await this.containers().catch(() => [])) {
      const logs = await testDocker
        .getContainer(c.Id)
        .logs({ stdout: true, stderr: true })
        .then(demux, (err: unknown) => String(err));
      out.push(`--- container ${c.Names?.[0]} (${c.Status}) ---`, logs);
    }
    process.stderr.write(`${out.join('\n')}\n`);
  }

  /** Runs `fn` first thing in cleanup() (watchers and observers that must stop before the fake closes). */
  onCleanup(fn: () => Promise<void> | void): void {
    this.#stoppers.push(async () => fn());
  }

  /**
   * afterEach: kill what is still running, remove whatever carries our label, close the fake. Every
   * step runs even if an earlier one failed (an engine gone away must not leave the fake listening).
   */
  async cleanup(opts: { dumpLogs?: boolean } = {}): Promise<void> {
    try {
      // A failed test's daemon logs are the first thing anyone debugging it needs: first, so a cleanup
      // step that fails (an engine a test killed) cannot keep them from being printed.
      if (opts.dumpLogs) await this.#dump();
      await Promise.all(this.#stoppers.map((s) => s()));
      await Promise.all(this.daemons.map((d) => d.kill()));
      await removeByInstance(this.instanceId);
    } finally {
      await this.fake.close();
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * Call at the top of an e2e test file. Needs the engine (CI fails without one, see useDocker), builds
 * the CLI before the first test so no test's time includes it, and after each test removes whatever
 * that test made, printing the daemon logs and fake state first when it failed. Returns `setup`.
 */
export function useE2e(): (opts?: E2eOptions) => Promise<E2eEnv> {
  useDocker();
  beforeAll(async () => {
    await cliBundle();
  }, 120_000);
  const envs: E2eEnv[] = [];
  afterEach(async (ctx) => {
    const failed = ctx.task.result?.state === 'fail';
    await Promise.all(envs.splice(0).map((e) => e.cleanup({ dumpLogs: failed })));
  });
  return async (opts = {}) => {
    const env = await E2eEnv.create(opts);
    envs.push(env);
    return env;
  };
}

/** SIGTERM, then the exit a graceful drain must end in. */
export async function stopGracefully(d: DaemonProcess, timeout = 30_000): Promise<void> {
  d.signal('SIGTERM');
  const exit = await d.waitForExit(timeout);
  expect(exit, d.tail()).toEqual({ code: 0, signal: null });
}

/**
 * The daemon's environment: ours minus RUNNER_* (a developer's shell must not change the config) and
 * minus npm_* (the tests run under npm, the daemon under test as a supervisor starts it; a test that
 * starts it through npx gets npm's own variables from npx).
 */
export function childEnv(token: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('RUNNER_') && !k.startsWith('npm_')) env[k] = v;
  env.RUNNER_TOKEN = token;
  env.NO_COLOR = '1';
  return env;
}

/** A port nothing listens on right now (the daemon binds it a moment later). */

/**
 * The text of a non-TTY container's log, whose stdout/stderr come in frames: an 8-byte header (stream
 * type, 3 zero bytes, big-endian payload length) then the payload.
 */
function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Sorted container names, without the engine's leading slash. */
export function containerNames(cs: Docker.ContainerInfo[]): string[] {
  return cs.map((c) => (c.Names?.[0] ?? '').replace(/^\//, '')).sort();
}

export interface ContainerEvent {
  action: string;
  id: string;
  name: string;
}

/**
 * Every create/destroy of a container with our instance label, as the engine reports it. Counting
 * from events (not from samples) sees even a container that exists for a few milliseconds.
 */
export class ContainerWatch {
  readonly events: ContainerEvent[] = [];
  live = 0;
  peak = 0;
  readonly #stream: Readable;
  readonly #listeners: ((e: ContainerEvent) => void)[] = [];

  private constructor(stream: Readable) {
    this.#stream = stream;
    createInterface({ input: stream }).on('line', (line) => {
      const e = toEvent(line);
      if (!e) return;
      this.events.push(e);
      if (e.action === 'create') this.live++;
      if (e.action === 'destroy') this.live--;
      this.peak = Math.max(this.peak, this.live);
      for (const l of this.#listeners) l(e);
    });
    // Destroyed by stop(); an engine hiccup shows up as missing events, which the assertions catch.
    stream.on('error', () => {});
  }

  /** Resolves once the engine has accepted the subscription: nothing after this is missed. */
  static async start(env: E2eEnv): Promise<ContainerWatch> {
    const stream = (await testDocker.getEvents({
      filters: { type: ['container'], event: ['create', 'destroy'], label: env.labelFilter },
    })) as Readable;
    const w = new ContainerWatch(stream);
    env.onCleanup(() => w.stop());
    return w;
  }

  /** Calls `fn` on every event from now on. */
  onEvent(fn: (e: ContainerEvent) => void): void {
    this.#listeners.push(fn);
  }

  /**
   * Resolves when `pred` holds, checked now and at every event: the engine can answer a listing
   * before it has delivered the events of the same changes.
   */
  waitFor(pred: () => boolean, opts: { what: string; timeout?: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      if (pred()) return resolve();
      const timeout = opts.timeout ?? 20_000;
      const timer = setTimeout(() => {
        this.#listeners.splice(this.#listeners.indexOf(check), 1);
        reject(
          new Error(`timed out after ${timeout} ms waiting for ${opts.what} (events: ${this.events.length})`),
        );
      }, timeout);
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.#listeners.splice(this.#listeners.indexOf(check), 1);
        resolve();
      };
      this.#listeners.push(check);
    });
  }

  count(action: string): number {
    return this.events.filter((e) => e.action === action).length;
  }

  stop(): void {
    this.#stream.destroy();
  }
}

/**
 * Container events with `label` between two instants, from the engine's own history: proves that
 * nothing with our label appeared while a process ran, without having to watch at the right moment.
 */
export async function containerEventsBetween(
  label: string[],
  sinceMs: number,
  untilMs: number,
): Promise<ContainerEvent[]> {
  const stream = (await testDocker.getEvents({
    // Fractional seconds are honoured by the engine. An `until` in the future would keep the stream
    // open until then, so the window ends exactly at `untilMs` (same host, same clock).
    since: sinceMs / 1000 - 1,
    until: untilMs / 1000,
    filters: { type: ['container'], label },
  })) as Readable;
  const out: ContainerEvent[] = [];
  for await (const line of createInterface({ input: stream })) {
    const e = toEvent(line);
    if (e) out.push(e);
  }
  return out;
}

/** Labels every container a daemon makes for scale set `name` carries, whatever its instance id. */
export function scaleSetFilter(name: string): string[] {
  return [`${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`, `${LABEL_SCALE_SET}=${name}`];
}

function toEvent(line: string): ContainerEvent | undefined {
  if (!line.trim()) return undefined;
  const ev = JSON.parse(line) as {
    Action?: string;
    status?: string;
    Actor?: { ID?: string; Attributes?: Record<string, string> };
  };
  return {
    action: ev.Action ?? ev.status ?? '',
    id: ev.Actor?.ID ?? '',
    name: ev.Actor?.Attributes?.name ?? '',
  };
}
