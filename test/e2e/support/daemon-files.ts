import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_IMAGE } from '../../setup/docker.js';

export interface DaemonFilesOptions {
  /** Prefix of the temp dir, e.g. `runner-e2e-`. */
  tmpPrefix: string;
  configUrl: string;
  name: string;
  minRunners: number;
  maxRunners: number;
  /** Further top-level TOML lines (keys before the first table). */
  top: string[];
  /** Further lines of the [docker] table. */
  docker: string[];
  /** Bind-mount a fresh gate directory at this path in every runner (jobs wait on a file in it). */
  gateMount?: string;
  /** 0 turns the health server off; default a free port. */
  healthPort?: number;
  /** The runner image; default the fake runner image. */
  image?: string;
  /** The state-dir (made if missing; e.g. a tmpfs mounted by the test); default `<dir>/state`. */
  stateDir?: string;
  /** `[docker] pull-policy`; default "never" (the fake runner image is built locally). */
  pullPolicy?: 'always' | 'if-not-present' | 'never';
}

export interface DaemonFiles {
  dir: string;
  stateDir: string;
  instanceId: string;
  gateDir: string | undefined;
  healthPort: number;
  configFile: string;
  toml: string;
}

/**
 * What a daemon under test needs on disk: a temp dir with the config file and the state dir, the
 * instance id written up front (as a previous run would have), so every Docker query can filter on its
 * label even when the daemon never gets to write it, and a free health port. The Docker backend runs
 * the fake runner image on the host network, so the runners reach the fake on loopback.
 */
export async function writeDaemonFiles(o: DaemonFilesOptions): Promise<DaemonFiles> {
  const dir = await mkdtemp(join(tmpdir(), o.tmpPrefix));
  const stateDir = o.stateDir ?? join(dir, 'state');
  await mkdir(stateDir, { recursive: true });
  const instanceId = randomUUID();
  await writeFile(join(stateDir, 'instance-id'), `${instanceId}\n`, { mode: 0o600 });
  const gateDir = o.gateMount ? join(dir, 'gate') : undefined;
  if (gateDir) await mkdir(gateDir);
  const healthPort = o.healthPort ?? (await freePort());
  const toml = [
    `url = "${o.configUrl}"`,
    `name = "${o.name}"`,
    'backend = "docker"',
    `runner-image = "${o.image ?? FAKE_IMAGE}"`,
    `min-runners = ${o.minRunners}`,
    `max-runners = ${o.maxRunners}`,
    `state-dir = "${stateDir}"`,
    'health-host = "127.0.0.1"',
    `health-port = ${healthPort}`,
    'log-format = "json"',
    ...o.top,
    '',
    '[docker]',
    'network = "host"',
    `pull-policy = "${o.pullPolicy ?? 'never'}"`,
    ...o.docker,
    ...(gateDir && o.gateMount
      ? ['', '[[docker.mounts]]', 'type = "bind"', `source = "${gateDir}"`, `target = "${o.gateMount}"`]
      : []),
    '',
  ].join('\n');
  const configFile = join(dir, 'config.toml');
  await writeFile(configFile, toml);
  return { dir, stateDir, instanceId, gateDir, healthPort, configFile, toml };
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}
