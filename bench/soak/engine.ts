import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { pollUntil } from '../../src/util/poll-until.js';

/**
 * A dockerd of the soak's own (own data, exec root, pidfile and socket under a temp dir, no bridge,
 * no iptables), so the soak can restart "the Docker engine" without touching the machine's main
 * engine, which other suites use at the same time.
 */
export class PrivateEngine {
  readonly docker: Docker;
  #child: ChildProcess | undefined;
  #starts = 0;

  private constructor(readonly dir: string) {
    this.docker = new Docker({ socketPath: this.socket });
  }

  get socket(): string {
    return join(this.dir, 'docker.sock');
  }

  /** For the daemon's `[docker] host`. */
  get host(): string {
    return `unix://${this.socket}`;
  }

  /** Starts the engine and loads `image` into it from the main engine (no registry involved). */
  static async start(image: string): Promise<PrivateEngine> {
    const engine = new PrivateEngine(await mkdtemp(join(tmpdir(), 'runner-soak-dockerd-')));
    try {
      await engine.#up();
      // `docker save | docker load`: the image is already built on the main engine (useDocker).
      await execa('sh', ['-c', `docker save ${image} | docker -H ${engine.host} load`], { stdin: 'ignore' });
    } catch (err) {
      await engine.stop();
      throw err;
    }
    return engine;
  }

  async #up(): Promise<void> {
    this.#starts++;
    const log = openSync(join(this.dir, `dockerd-${this.#starts}.log`), 'a');
    const child = spawn(
      'dockerd',
      [
        `--data-root=${join(this.dir, 'data')}`,
        `--exec-root=${join(this.dir, 'exec')}`,
        `--pidfile=${join(this.dir, 'dockerd.pid')}`,
        `-H=${this.host}`,
        '--bridge=none',
        '--iptables=false',
        '--ip6tables=false',
      ],
      { stdio: ['ignore', log, log] },
    );
    this.#child = child;
    // A test runner that gives up on us (timeout) exits without our cleanup: the engine must not
    // outlive it (its directory is left behind then, which is harmless in tmp).
    const onExit = () => child.kill('SIGTERM');
    process.once('exit', onExit);
    child.once('exit', () => process.off('exit', onExit));
    const exited = once(child, 'exit').then(() => {
      throw new Error(`private dockerd exited during start-up; see ${this.dir}/dockerd-${this.#starts}.log`);
    });
    exited.catch(() => {});
    // Ready when the socket answers a ping; an early exit (bad flags, no privileges) fails at once.
    await Promise.race([
      exited,
      pollUntil(() => this.docker.ping().then(() => true), {
        timeout: 30_000,
        interval: 100,
        what: 'private dockerd to answer /_ping',
      }),
    ]);
  }

  /** SIGTERM (containers are stopped, as on a real engine restart), wait for exit, start again. */
  async restart(): Promise<void> {
    await this.#down();
    await this.#up();
  }

  async #down(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the engine and removes its directory (after unmounting the network namespaces it leaves). */
  async stop(): Promise<void> {
    await this.#down();
    const netns = join(this.dir, 'exec', 'netns');
    for (const f of await readdir(netns).catch(() => [])) {
      await execa('umount', [join(netns, f)], { reject: false });
    }
    await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }

  /** The engine's log of the current start, for failure reports. */
  log(): Promise<string> {
    return readFile(join(this.dir, `dockerd-${this.#starts}.log`), 'utf8').catch(() => '');
  }
}
