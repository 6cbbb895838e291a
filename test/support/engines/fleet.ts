import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { pollUntil } from '../../../src/util/poll-until.js';
import { TestPki } from '../pki.js';
import { PrivateEngine, saveImages, spawnOwned } from './dockerd.js';
import { killProcessesUnder, ownedDir } from './owned.js';
import { PrivateSshd } from './sshd.js';
import { sweepLeftoversOnce } from './sweep.js';

export interface FleetOptions {
  /** How many engines; default 3. */
  engines?: number;
  /** Images from the main engine loaded into every engine (one `docker save`, parallel loads). */
  images?: string[];
  /** Index of the engine reached over tcp://127.0.0.1 with mutual TLS; default 1; false: none. */
  tls?: number | false;
  /** Index of the engine reached over ssh:// (a private sshd); default 2; false: none. */
  ssh?: number | false;
}

/** Client-side TLS files of a Docker host: what `tls-ca`, `tls-cert` and `tls-key` name. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export type Transport = 'unix' | 'tls' | 'ssh';

/** One engine of the fleet, as a daemon would be configured to reach it. */
export interface FleetEngine {
  /** engine-<i>: a host name for config. */
  name: string;
  transport: Transport;
  /** unix://…, tcp://127.0.0.1:<port> or ssh://<user>@127.0.0.1:<port>. */
  url: string;
  /** For transport 'tls': the right client files. */
  tls?: TlsFiles;
  /** For transport 'ssh': the server (its authorized client key, a stranger key, its host key). */
  sshd?: PrivateSshd;
  engine: PrivateEngine;
}

/**
 * Several private dockerd side by side (PrivateEngine: each its own data, exec root, pid file,
 * socket, containerd namespace and bridge), one of them also on tcp://127.0.0.1 with mutual TLS
 * (certificates made with openssl now), one also behind a private sshd: the machines of a fleet.
 *
 * For a daemon reaching the ssh engine: `sshAuthSock` is an ssh-agent holding the authorized key
 * (SSH_AUTH_SOCK is what the Docker backend's ssh:// transport authenticates with).
 */
export class EngineFleet {
  #agent: ChildProcess | undefined;
  #stopped: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    readonly engines: FleetEngine[],
    readonly pki: {
      /** The CA the TLS engine's server and client certificates are issued by. */
      ca: string;
      caPem: string;
      /** A client certificate and key from another CA, with the right CA file: the server refuses it. */
      wrongClient: TlsFiles;
      /** A CA that did not issue the server certificate: with it the client refuses the server. */
      otherCa: string;
    },
    /** The TLS engine's right client files as Docker's DOCKER_CERT_PATH has them: ca.pem, cert.pem, key.pem. */
    readonly tlsCertPath: string,
    /**
     * ms from start(): until the last engine answered, until the images were in every engine, until
     * start() returned (sshd and agent included).
     */
    readonly timings: { enginesUp: number; imagesLoaded: number; total: number },
  ) {}

  /** SSH_AUTH_SOCK of an ssh-agent holding the ssh engine's authorized key. */
  sshAuthSock: string | undefined;

  static async start(opts: FleetOptions = {}): Promise<EngineFleet> {
    const began = performance.now();
    const count = opts.engines ?? 3;
    const tlsAt = opts.tls === undefined ? (count > 1 ? 1 : false) : opts.tls;
    const sshAt = opts.ssh === undefined ? (count > 2 ? 2 : false) : opts.ssh;
    if (sshAt !== false) {
      const why = PrivateSshd.unavailable();
      if (why) throw new Error(`the fleet's ssh engine cannot run: ${why}`);
    }
    await sweepLeftoversOnce();
    const dir = await ownedDir();
    const started: PrivateEngine[] = [];
    let sshd: PrivateSshd | undefined;
    try {
      const ca = await TestPki.create(dir, 'fleet-ca');
      const other = await TestPki.create(dir, 'other-ca');
      const server = await ca.issue('engine-server', ['127.0.0.1', 'localhost']);
      const client = await ca.issue('client', ['runner-client'], 'client');
      const stranger = await other.issue('stranger', ['runner-client'], 'client');
      const certPath = join(dir, 'docker-certs');
      await mkdir(certPath);
      await copyFile(ca.caFile, join(certPath, 'ca.pem'));
      await copyFile(client.certFile, join(certPath, 'cert.pem'));
      await copyFile(client.keyFile, join(certPath, 'key.pem'));
      const tar = join(dir, 'images.tar');
      const saved = opts.images?.length ? saveImages(opts.images, tar).then(() => ({ tar })) : undefined;
      saved?.catch(() => {});
      let up = 0;
      let loaded = 0;
      // All settled before going on: an engine still starting when another failed is stopped too.
      const settled = await Promise.allSettled(
        Array.from({ length: count }, async (_, i) => {
          const tls = i === tlsAt ? { ca: ca.caFile, cert: server.certFile, key: server.keyFile } : undefined;
          const engine = await PrivateEngine.start(tls ? { tls } : {});
          started.push(engine);
          up = Math.max(up, performance.now() - began);
          if (saved) await engine.load(await saved);
          loaded = Math.max(loaded, performance.now() - began);
          return engine;
        }),
      );
      const engines = settled.map((r) => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      });
      await rm(tar, { force: true });
      const fleet: FleetEngine[] = [];
      for (const [i, engine] of engines.entries()) {
        const name = `engine-${i}`;
        if (i === tlsAt) {
          const tls = { ca: ca.caFile, cert: client.certFile, key: client.keyFile };
          fleet.push({ name, transport: 'tls', url: engine.tlsHost, tls, engine });
        } else if (i === sshAt) {
          sshd = await PrivateSshd.start(join(engine.dir, 'sshd'), engine.host);
          fleet.push({ name, transport: 'ssh', url: sshd.url, sshd, engine });
        } else {
          fleet.push({ name, transport: 'unix', url: engine.host, engine });
        }
      }
      const result = new EngineFleet(
        dir,
        fleet,
        {
          ca: ca.caFile,
          caPem: ca.caPem,
          wrongClient: { ca: ca.caFile, cert: stranger.certFile, key: stranger.keyFile },
          otherCa: other.caFile,
        },
        certPath,
        { enginesUp: up, imagesLoaded: loaded, total: 0 },
      );
      if (sshd) await result.#startAgent(sshd);
      result.timings.total = performance.now() - began;
      return result;
    } catch (err) {
      await sshd?.stop();
      await Promise.all(started.map((e) => e.stop()));
      await killProcessesUnder(dir);
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  async #startAgent(sshd: PrivateSshd): Promise<void> {
    const sock = join(this.dir, 'agent.sock');
    // -D: foreground (our child, dies with us).
    this.#agent = spawnOwned('ssh-agent', ['-D', '-a', sock], 'ignore');
    await pollUntil(
      () =>
        execa('ssh-add', ['-l'], { env: { SSH_AUTH_SOCK: sock }, reject: false, stdin: 'ignore' }).then(
          // 1: the agent answers and holds no key yet; 2: no agent on the socket (yet).
          (r) => r.exitCode === 1 || r.exitCode === 0,
        ),
      { timeout: 10_000, what: 'ssh-agent to answer' },
    );
    await execa('ssh-add', ['-q', sshd.clientKey.file], { env: { SSH_AUTH_SOCK: sock }, stdin: 'ignore' });
    this.sshAuthSock = sock;
  }

  engine(transport: Transport): FleetEngine {
    const e = this.engines.find((x) => x.transport === transport);
    if (!e) throw new Error(`the fleet has no ${transport} engine`);
    return e;
  }

  /**
   * A dockerode client reaching `e` the way a daemon configured with its url would: the unix socket,
   * TLS with `tls` (default: the right client files), or ssh with `sshKey` (default: the authorized key).
   */
  client(e: FleetEngine, over: { tls?: TlsFiles; sshKey?: string } = {}): Docker {
    const url = new URL(e.url);
    switch (e.transport) {
      case 'unix':
        return new Docker({ socketPath: url.pathname });
      case 'tls': {
        const tls = over.tls ?? e.tls;
        if (!tls) throw new Error(`${e.name} has no TLS files`);
        return new Docker({
          protocol: 'https',
          host: url.hostname,
          port: url.port,
          ca: readFileSync(tls.ca),
          cert: readFileSync(tls.cert),
          key: readFileSync(tls.key),
        });
      }
      case 'ssh': {
        if (!e.sshd) throw new Error(`${e.name} has no sshd`);
        return new Docker({
          protocol: 'ssh',
          host: url.hostname,
          port: url.port,
          username: decodeURIComponent(url.username),
          sshOptions: { privateKey: over.sshKey ?? e.sshd.clientKey.privateKey },
        });
      }
    }
  }

  /** Stops every engine, sshd and agent, and removes their bridges, mounts and directories. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      const agent = this.#agent;
      if (agent && agent.exitCode === null && agent.signalCode === null) {
        const exited = once(agent, 'exit');
        agent.kill('SIGTERM');
        await exited;
      }
      for (const e of this.engines) await e.sshd?.stop();
      await Promise.all(this.engines.map((e) => e.engine.stop()));
      await killProcessesUnder(this.dir);
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.#stopped;
  }
}
