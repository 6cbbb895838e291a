import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { pollUntil } from '../../../src/util/poll-until.js';
import { unusedPort } from '../../cmd/support/config-file.js';
import { findExecutable } from '../../setup/network-tools.js';
import { type Bridge, createBridge, deleteBridge } from './bridge.js';
import {
  cmdline,
  containerdNamespace,
  isLive,
  killProcessesUnder,
  mountsUnder,
  ownedDir,
  processesUnder,
  unmountUnder,
} from './owned.js';
import { sweepLeftoversOnce } from './sweep.js';

export interface PrivateEngineOptions {
  /** Images to load: a tar made by saveImages (one `docker save` for many engines) or names on the main engine. */
  images?: { tar: string } | string[];
  /**
   * Also listen on tcp://127.0.0.1:<free port> with mutual TLS: the server's certificate and key, and
   * the CA file the clients' certificates must be issued by (Docker's --tlsverify).
   */
  tls?: { ca: string; cert: string; key: string };
}

/**
 * A dockerd of a test's own, beside the machine's main engine (which other suites use at the same
 * time and which must never be stopped): own data root, exec root, pid file, unix socket, containerd
 * namespace and bridge; no iptables, so it changes nothing of the machine's firewall.
 *
 * Nothing outlives its owner: dockerd runs under `setpriv --pdeathsig SIGTERM` (it shuts down when
 * the test process dies, however it dies), and what a killed run leaves anyway (its bridge, mounts,
 * directory) is removed by the next run's sweepLeftovers, before its own first engine starts.
 */
export class PrivateEngine {
  /** A client on the unix socket: the test's own view of the engine. */
  readonly docker: Docker;
  #child: ChildProcess | undefined;
  #starts = 0;
  #frozen = false;
  #stopped: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    readonly bridge: Bridge,
    readonly tls: PrivateEngineOptions['tls'],
    /** The TLS port on 127.0.0.1 (0 without TLS); the same across restarts. */
    readonly tlsPort: number,
  ) {
    this.docker = new Docker({ socketPath: this.socket });
  }

  get socket(): string {
    return join(this.dir, 'docker.sock');
  }

  /** `unix://…/docker.sock`, for `[docker] host` and `docker -H`. */
  get host(): string {
    return `unix://${this.socket}`;
  }

  /** `tcp://127.0.0.1:<port>` of the TLS listener. */
  get tlsHost(): string {
    if (!this.tls) throw new Error('this engine has no TLS listener');
    return `tcp://127.0.0.1:${this.tlsPort}`;
  }

  /** dockerd's pid while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  static async start(opts: PrivateEngineOptions = {}): Promise<PrivateEngine> {
    await sweepLeftoversOnce();
    const dir = await ownedDir();
    let bridge: Bridge;
    try {
      bridge = await createBridge(dir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const engine = new PrivateEngine(dir, bridge, opts.tls, opts.tls ? await unusedPort() : 0);
    try {
      await engine.#firstUp();
      if (opts.images) await engine.load(opts.images);
    } catch (err) {
      await engine.stop();
      throw err;
    }
    return engine;
  }

  /** Loads images from a saveImages tar, or from the main engine by name (`docker save | docker load`). */
  async load(images: { tar: string } | string[]): Promise<void> {
    if (Array.isArray(images)) {
      if (images.length === 0) return;
      const tar = join(this.dir, 'images.tar');
      await saveImages(images, tar);
      await this.load({ tar });
      await rm(tar, { force: true });
      return;
    }
    await execa('docker', ['-H', this.host, 'load', '-q', '-i', images.tar], { stdin: 'ignore' });
  }

  /**
   * Not /etc/docker/daemon.json: the machine's engine settings are not ours. Docker 20.10 keeps the
   * engine's identity (the ID `docker info` reports) in /etc/docker/key.json unless told otherwise:
   * every engine would share the main engine's ID, and the first one would create that file if the
   * machine had none. Later Docker versions keep the ID in the data root and reject the key.
   */
  async #firstUp(): Promise<void> {
    const config = join(this.dir, 'daemon.json');
    await writeFile(config, `${JSON.stringify({ 'deprecated-key-path': join(this.dir, 'key.json') })}\n`);
    try {
      await this.#up();
    } catch (err) {
      if (!(await this.log()).includes("don't match any configuration option")) throw err;
      await writeFile(config, '{}\n');
      await this.#up();
    }
  }

  async #up(): Promise<void> {
    this.#starts++;
    await this.#clearStalePidFiles();
    const log = openSync(join(this.dir, `dockerd-${this.#starts}.log`), 'a');
    const ns = containerdNamespace(this.dir);
    const args = [
      `--config-file=${join(this.dir, 'daemon.json')}`,
      `--data-root=${join(this.dir, 'data')}`,
      `--exec-root=${join(this.dir, 'exec')}`,
      `--pidfile=${join(this.dir, 'dockerd.pid')}`,
      `--containerd-namespace=${ns}`,
      `--containerd-plugins-namespace=${ns}-plugins`,
      `-H=${this.host}`,
      `--bridge=${this.bridge.name}`,
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
    ];
    if (this.tls) {
      args.push(
        `-H=${this.tlsHost}`,
        '--tlsverify',
        `--tlscacert=${this.tls.ca}`,
        `--tlscert=${this.tls.cert}`,
        `--tlskey=${this.tls.key}`,
      );
    }
    const child = spawnOwned('dockerd', args, log);
    closeSync(log);
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    const exited = once(child, 'exit').then(() => {
      throw new Error(`private dockerd exited during start-up; see ${this.dir}/dockerd-${this.#starts}.log`);
    });
    exited.catch(() => {});
    // Ready when the socket answers a ping; an early exit (bad flags, no privileges) fails at once.
    await Promise.race([
      exited,
      pollUntil(() => this.docker.ping().then(() => true), {
        timeout: 30_000,
        interval: 50,
        what: `private dockerd ${this.dir} to answer /_ping`,
      }),
    ]);
  }

  /**
   * dockerd refuses to start while its pid file names a process that exists, and reuses the
   * containerd its pid file names: after a kill both may name a zombie (a process nobody reaped yet,
   * which signal 0 still finds). A pid file whose process does not run is removed.
   */
  async #clearStalePidFiles(): Promise<void> {
    for (const file of [
      join(this.dir, 'dockerd.pid'),
      join(this.dir, 'exec', 'containerd', 'containerd.pid'),
    ]) {
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (pid > 0 && !isLive(pid)) await rm(file, { force: true });
    }
  }

  /**
   * SIGTERM (containers are stopped, as on a real engine restart), wait for exit, start again.
   *
   * Docker 20.10 leaves the root filesystem of a container whose start the shutdown cut short
   * mounted (its start's own clean-up never runs), and the engine that comes back does not know of
   * that mount: it mounts the layer again on top at restore, unmounts only its own, and every removal
   * of that container then fails with "failed to remove root filesystem … device or resource busy",
   * for as long as the machine runs (reproduced: containers started in a loop while the engine
   * restarts). That is the engine's defect, not one the daemon under test could work around, so the
   * restart detaches what the stopped engine left under its data root before the new one starts, as
   * a reboot would. Returns the mount points it detached, for the fault's note.
   */
  async restart(): Promise<string[]> {
    await this.#down();
    const data = join(this.dir, 'data');
    const left = mountsUnder(data).filter((point) => point !== data);
    for (const point of left) await unmountUnder(point);
    await this.#up();
    return left;
  }

  /**
   * kill -9. By default the whole machine dies: dockerd, its containerd, the shims and every container
   * process. `dockerdOnly`: only dockerd (its containerd dies with it); the containers keep running
   * under their shims until revive(), when dockerd stops them (no live-restore).
   */
  async kill(opts: { dockerdOnly?: boolean } = {}): Promise<void> {
    const child = this.#child;
    if (!child) throw new Error(`private dockerd ${this.dir} is not running`);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    this.#frozen = false;
    if (!opts.dockerdOnly) {
      await killProcessesUnder(this.dir);
      return;
    }
    // The engine's containerd gets SIGKILL from the kernel when dockerd dies (its parent-death signal).
    const containerd = processesUnder(this.dir).filter((pid) => cmdline(pid).startsWith('containerd '));
    await pollUntil(() => containerd.every((pid) => !isLive(pid)), {
      timeout: 10_000,
      what: 'the engine’s containerd to die with its dockerd',
    });
  }

  /** Starts the engine again after kill(): same data root, bridge, socket and TLS port. */
  async revive(): Promise<void> {
    if (this.#child) throw new Error(`private dockerd ${this.dir} is running`);
    await this.#up();
  }

  /** SIGSTOP to dockerd: connections are accepted and never answered (a hung host), until thaw(). */
  freeze(): void {
    if (!this.#child?.pid) throw new Error(`private dockerd ${this.dir} is not running`);
    process.kill(this.#child.pid, 'SIGSTOP');
    this.#frozen = true;
  }

  thaw(): void {
    if (this.#child?.pid && this.#frozen) process.kill(this.#child.pid, 'SIGCONT');
    this.#frozen = false;
  }

  async #down(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.thaw();
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops the engine and removes all it had: processes left by a kill, mounts, the bridge, the
   * directory. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await this.#down();
      await killProcessesUnder(this.dir);
      await unmountUnder(this.dir);
      await deleteBridge(this.bridge);
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.#stopped;
  }

  /** The engine's log of the current start, for failure reports. */
  log(): Promise<string> {
    return readFile(join(this.dir, `dockerd-${this.#starts}.log`), 'utf8').catch(() => '');
  }
}

/** `docker save` of images on the machine's main engine into one tar, for PrivateEngine.load. */
export async function saveImages(images: string[], tar: string): Promise<void> {
  await execa('docker', ['save', '-o', tar, ...images], { stdin: 'ignore' });
}

/**
 * Spawns a daemon that dies with this process: with SIGTERM from the kernel when this process exits
 * (setpriv's parent-death signal, which survives exec), and from an exit handler as a fallback.
 */
export function spawnOwned(cmd: string, args: string[], log: number | 'ignore'): ChildProcess {
  const setpriv = findExecutable('setpriv');
  const child = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'SIGTERM', cmd, ...args], { stdio: ['ignore', log, log] })
    : spawn(cmd, args, { stdio: ['ignore', log, log] });
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  child.once('exit', () => process.off('exit', onExit));
  return child;
}
