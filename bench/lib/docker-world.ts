import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { DockerConfig } from '../../backends/docker/config.js';
import { parseConfigText } from '../../src/config/index.js';
import { LABEL_INSTANCE } from '../../src/labels.js';
import { writeDaemonFiles } from '../../test/e2e/support/daemon-files.js';
import { DaemonProcess } from '../../test/e2e/support/daemon-process.js';
import {
  type FakeActionsService,
  type FakeOptions,
  startFakeActionsService,
} from '../../test/fakes/actions-service/index.js';
import { removeLabelled } from './docker.js';

export interface DockerWorldOptions {
  scaleSet: string;
  minRunners?: number;
  maxRunners: number;
  startConcurrency?: number;
  /** Engine the daemon uses, e.g. `unix:///tmp/x/docker.sock`; default the system's. */
  dockerHost?: string;
  /** Further lines of the [docker] table, e.g. `[[docker.hosts]]` tables (instead of dockerHost). */
  docker?: string[];
  /** Bind-mount a gate directory at /bench-gate, so jobs can be held running until it is opened. */
  gate?: boolean;
  /** Extra top-level TOML. */
  top?: string;
  logLevel?: 'debug' | 'info';
  fake?: FakeOptions;
}

export const GATE_MOUNT = '/bench-gate';

/**
 * One daemon under test as users run it (`runner run --config <file>`, the shipped CLI bundle, in its
 * own process) against a fake Actions service in this process and a real Docker engine. The instance
 * id is written to the state dir up front, so every query can filter on our container label even
 * across daemon restarts.
 */
export class DockerWorld {
  readonly daemons: DaemonProcess[] = [];

  private constructor(
    readonly fake: FakeActionsService,
    readonly docker: Docker,
    readonly dir: string,
    readonly configFile: string,
    readonly instanceId: string,
    readonly healthPort: number,
    readonly gateDir: string | undefined,
    readonly dockerConfig: DockerConfig,
    readonly opts: DockerWorldOptions,
  ) {}

  static async create(opts: DockerWorldOptions): Promise<DockerWorld> {
    const fake = await startFakeActionsService({
      // A kill -9'd daemon's session must go away quickly, or its restart waits on 409s for a minute.
      sessionIdleTimeoutMs: 3_000,
      reannounceMs: 1_000,
      ...opts.fake,
    });
    const f = await writeDaemonFiles({
      tmpPrefix: 'runner-bench-',
      configUrl: fake.configUrl(),
      name: opts.scaleSet,
      minRunners: opts.minRunners ?? 0,
      maxRunners: opts.maxRunners,
      top: [
        ...(opts.startConcurrency ? [`start-concurrency = ${opts.startConcurrency}`] : []),
        `log-level = "${opts.logLevel ?? 'info'}"`,
        // A graceful stop at the end must not wait half an hour for a job a fault left hanging.
        'drain-timeout = "60s"',
        opts.top ?? '',
      ],
      docker: [...(opts.dockerHost ? [`host = "${opts.dockerHost}"`] : []), ...(opts.docker ?? [])],
      ...(opts.gate ? { gateMount: GATE_MOUNT } : {}),
    });
    const parsed = await parseConfigText(f.toml, f.configFile, { RUNNER_TOKEN: fake.pat });
    const docker = opts.dockerHost
      ? new Docker({ socketPath: opts.dockerHost.replace(/^unix:\/\//, '') })
      : new Docker();
    return new DockerWorld(
      fake,
      docker,
      f.dir,
      f.configFile,
      f.instanceId,
      f.healthPort,
      f.gateDir,
      parsed.scaleSets[0]!.docker,
      opts,
    );
  }

  get label(): string {
    return `${LABEL_INSTANCE}=${this.instanceId}`;
  }

  /** Starts `runner run --config <file>` with the token in RUNNER_TOKEN, as the docs tell users to. */
  async startDaemon(): Promise<DaemonProcess> {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RUNNER_')) env[k] = v;
    env.RUNNER_TOKEN = this.fake.pat;
    env.NO_COLOR = '1';
    const d = await DaemonProcess.start(this.configFile, env);
    this.daemons.push(d);
    return d;
  }

  /** Resolves once the daemon has a message session at the fake. */
  async listening(timeout = 60_000): Promise<void> {
    await this.fake.waitFor(() => this.fake.sessions().length > 0, { what: 'a message session', timeout });
  }

  /** Our containers (any state). */
  async containers(opts: { running?: boolean } = {}): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({ all: !opts.running, filters: { label: [this.label] } });
  }

  /**
   * A job script that runs until `openGate()`. It looks every 2 s: a hundred containers looking every
   * 0.1 s fork a thousand `sleep`s a second, a load that would slow the very starts being measured.
   */
  gatedScript(): string {
    return `until [ -e ${GATE_MOUNT}/open ]; do sleep 2; done`;
  }

  async openGate(): Promise<void> {
    if (!this.gateDir) throw new Error('DockerWorld created without gate');
    await writeFile(join(this.gateDir, 'open'), '');
  }

  async closeGate(): Promise<void> {
    if (!this.gateDir) throw new Error('DockerWorld created without gate');
    await rm(join(this.gateDir, 'open'), { force: true });
  }

  /** SIGTERM and wait for the drain to end; returns the exit. */
  async stopGracefully(timeoutMs = 90_000): Promise<{ code: number | null; signal: string | null }> {
    const d = this.daemons.at(-1);
    if (!d || d.exit) return d?.exit ?? { code: null, signal: null };
    d.signal('SIGTERM');
    return d.waitForExit(timeoutMs);
  }

  /** Kills what is still running, removes whatever carries our label, closes the fake. */
  async cleanup(): Promise<void> {
    await Promise.all(this.daemons.map((d) => d.kill()));
    await removeLabelled(this.docker, this.label).catch(() => {});
    await this.fake.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A port nothing listens on right now (the daemon binds it a moment later). */
export { freePort } from '../../test/e2e/support/daemon-files.js';
