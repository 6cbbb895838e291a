import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { dockerOptionsFor } from '../../backends/docker/host.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { FAKE_IMAGE, useDocker } from '../setup/docker.js';
import { bridgeExists } from '../support/engines/bridge.js';
import type { FleetEngine } from '../support/engines/fleet.js';
import { cmdline, isLive, mountsUnder, processesUnder } from '../support/engines/owned.js';
import { sweepLeftovers } from '../support/engines/sweep.js';
import { useEngineFleet } from '../support/engines/use-fleet.js';

// The fleet of real engines the multi-host tests run on (issue 15): three private dockerd, one over
// TLS, one over ssh, each on its own bridge. These tests prove the fleet itself.
useDocker();
const fleetOf = useEngineFleet({ images: [FAKE_IMAGE] });

/** Runs `cmd` in the fake image through `docker`: its exit code and output. */
async function run(docker: Docker, cmd: string[]) {
  const container = await docker.createContainer({ Image: FAKE_IMAGE, Cmd: cmd });
  try {
    await container.start();
    const { StatusCode } = await container.wait();
    const output = (await container.logs({ stdout: true, stderr: true })).toString('latin1');
    return { StatusCode, output };
  } finally {
    await container.remove({ force: true });
  }
}

/** An HTTP server on `address` answering `hello <path>` and recording who asked. */
async function greeter(address: string): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.socket.remoteAddress} ${req.url}`);
    res.end(`hello ${req.url?.slice(1)}\n`);
  });
  server.listen(0, address);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { server, port, seen };
}

function rootDir(e: FleetEngine): string {
  return join(e.engine.dir, 'data');
}

describe('engine fleet', () => {
  it('runs three engines, each its own: bridge, subnet, data root, identity; none on docker0', async () => {
    const fleet = fleetOf();
    expect(fleet.engines.map((e) => e.transport)).toEqual(['unix', 'tls', 'ssh']);
    const bridges = fleet.engines.map((e) => e.engine.bridge);
    expect(new Set(bridges.map((b) => b.name)).size).toBe(3);
    expect(new Set(bridges.map((b) => b.subnet)).size).toBe(3);
    const ids = new Set<string>();
    for (const e of fleet.engines) {
      const { bridge, docker, pid } = e.engine;
      // dockerd with --bridge=none deletes docker0: every engine has its own bridge instead.
      expect(cmdline(pid as number)).toContain(`--bridge=${bridge.name}`);
      const network = await docker.getNetwork('bridge').inspect();
      expect(network.Options?.['com.docker.network.bridge.name']).toBe(bridge.name);
      expect(network.IPAM?.Config).toEqual([{ Subnet: bridge.subnet, Gateway: bridge.gateway }]);
      const info = await docker.info();
      expect(info.DockerRootDir).toBe(rootDir(e));
      ids.add(info.ID);
    }
    expect(ids.size).toBe(3);
  });

  it('each engine runs containers on its own bridge, reaching its gateway (this machine)', async () => {
    const fleet = fleetOf();
    await Promise.all(
      fleet.engines.map(async (e) => {
        const { gateway, subnet } = e.engine.bridge;
        const { server, port, seen } = await greeter(gateway);
        try {
          // The container's address and default route as it sees them, then a request to the gateway
          // (busybox's own `timeout`: this busybox's `wget -T` crashes). On the engine's socket: the
          // transports have their own tests, and ssh costs a connection per call.
          const url = `http://${gateway}:${port}/${e.name}`;
          const script = `ip -4 -o addr show eth0; ip route; timeout 10 wget -q -O- ${url}`;
          const ran = await run(e.engine.docker, ['sh', '-c', script]);
          expect(ran.output).toContain(`hello ${e.name}`);
          expect(ran.StatusCode).toBe(0);
          expect(ran.output).toContain(`default via ${gateway} dev eth0`);
          const address = /inet (\S+)\/24/.exec(ran.output)?.[1];
          expect(address?.startsWith(subnet.replace(/0\/24$/, ''))).toBe(true);
          expect(seen).toEqual([`${address} /${e.name}`]);
        } finally {
          server.close();
        }
      }),
    );
  });

  it('the TLS engine answers the right client certificate and refuses a wrong one', async () => {
    const fleet = fleetOf();
    const e = fleet.engine('tls');
    expect(e.url).toBe(`tcp://127.0.0.1:${e.engine.tlsPort}`);
    expect((await fleet.client(e).info()).DockerRootDir).toBe(rootDir(e));
    // The backend's own reading of a TLS host (DOCKER_CERT_PATH with ca.pem, cert.pem, key.pem) works.
    const env = { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: fleet.tlsCertPath };
    const viaCertPath = new Docker(dockerOptionsFor(e.url, env));
    expect((await viaCertPath.info()).DockerRootDir).toBe(rootDir(e));
    expect(await run(viaCertPath, ['echo', 'ran over TLS'])).toMatchObject({
      StatusCode: 0,
      output: expect.stringContaining('ran over TLS'),
    });

    // Client certificate from another CA: the engine ends the handshake with a TLS alert.
    await expect(fleet.client(e, { tls: fleet.pki.wrongClient }).ping()).rejects.toMatchObject({
      code: 'ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE',
      library: 'SSL routines',
      reason: 'ssl/tls alert bad certificate',
    });
    // No client certificate at all: the same alert.
    const url = new URL(e.url);
    const anonymous = new Docker({
      protocol: 'https',
      host: url.hostname,
      port: url.port,
      ca: fleet.pki.caPem,
    });
    await expect(anonymous.ping()).rejects.toMatchObject({
      code: 'ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE',
      reason: 'ssl/tls alert bad certificate',
    });
    // A CA file that did not issue the engine's certificate: the client refuses the engine.
    const tls = { ...(e.tls as NonNullable<FleetEngine['tls']>), ca: fleet.pki.otherCa };
    await expect(fleet.client(e, { tls }).ping()).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('the ssh engine answers over ssh:// with the authorized key (or the agent) and refuses a stranger', async () => {
    const fleet = fleetOf();
    const e = fleet.engine('ssh');
    expect(e.url).toMatch(/^ssh:\/\/[^@]+@127\.0\.0\.1:\d+$/);
    expect((await fleet.client(e).info()).DockerRootDir).toBe(rootDir(e));
    // The backend's ssh:// transport as it is today: authentication from SSH_AUTH_SOCK.
    const viaAgent = new Docker(dockerOptionsFor(e.url, { SSH_AUTH_SOCK: fleet.sshAuthSock }));
    expect((await viaAgent.info()).DockerRootDir).toBe(rootDir(e));
    expect(await run(viaAgent, ['echo', 'ran over ssh'])).toMatchObject({
      StatusCode: 0,
      output: expect.stringContaining('ran over ssh'),
    });
    const stranger = (e.sshd as NonNullable<FleetEngine['sshd']>).strangerKey.privateKey;
    await expect(fleet.client(e, { sshKey: stranger }).ping()).rejects.toMatchObject({
      level: 'client-authentication',
      message: 'All configured authentication methods failed',
    });
  });

  it('event streams flow over TLS and ssh (one long request each)', async () => {
    const fleet = fleetOf();
    for (const e of [fleet.engine('tls'), fleet.engine('ssh')]) {
      // `since` replays from before the start: no race with the stream's subscription.
      const since = Math.floor(Date.now() / 1000) - 1;
      const container = await e.engine.docker.createContainer({ Image: FAKE_IMAGE, Cmd: ['true'] });
      const events = (await fleet.client(e).getEvents({
        since,
        filters: { type: ['container'], event: ['start'] },
      })) as NodeJS.ReadableStream & { destroy(): void };
      try {
        const started = new Promise<void>((resolve) => {
          let text = '';
          events.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
            if (text.includes(`"id":"${container.id}"`)) resolve();
          });
        });
        await container.start();
        await started;
      } finally {
        events.destroy();
        await container.remove({ force: true });
      }
    }
  });

  it('kill -9 of a whole engine takes its containers; the others answer; it comes back with its data', async () => {
    const fleet = fleetOf();
    const e = fleet.engine('tls');
    const docker = fleet.client(e);
    const container = await docker.createContainer({ Image: FAKE_IMAGE, Cmd: ['sleep', '600'] });
    await container.start();
    const pid = (await container.inspect()).State.Pid;
    expect(isLive(pid)).toBe(true);

    await e.engine.kill();
    expect(e.engine.running).toBe(false);
    expect(isLive(pid)).toBe(false);
    await expect(docker.ping()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    for (const other of fleet.engines.filter((o) => o !== e)) await fleet.client(other).ping();

    await e.engine.revive();
    // Same port, same certificates, same data: the container is known, not running; the image is there.
    const after = await docker.getContainer(container.id).inspect();
    expect(after.State.Running).toBe(false);
    expect((await run(docker, ['true'])).StatusCode).toBe(0);
    await docker.getContainer(container.id).remove({ force: true });
  });

  it('kill -9 of dockerd alone leaves its containers running until it returns and stops them', async () => {
    const fleet = fleetOf();
    const e = fleet.engine('unix');
    // Ends on SIGTERM (a bare `sleep` as pid 1 ignores it and dockerd waits 10 s before SIGKILL).
    const Cmd = ['sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'];
    const container = await e.engine.docker.createContainer({ Image: FAKE_IMAGE, Cmd });
    await container.start();
    const pid = (await container.inspect()).State.Pid;

    await e.engine.kill({ dockerdOnly: true });
    expect(isLive(pid)).toBe(true);
    await expect(e.engine.docker.ping()).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await e.engine.revive();
    await pollUntil(() => !isLive(pid), { timeout: 30_000, what: 'the orphaned container to be stopped' });
    expect((await container.inspect()).State.Running).toBe(false);
    await container.remove({ force: true });
  });

  it('a frozen engine accepts connections and answers nothing until thawed', async () => {
    const e = fleetOf().engine('unix');
    e.engine.freeze();
    try {
      await expect(
        e.engine.docker.listContainers({ abortSignal: AbortSignal.timeout(500) }),
      ).rejects.toMatchObject({
        name: 'AbortError',
      });
    } finally {
      e.engine.thaw();
    }
    expect(String(await e.engine.docker.ping())).toBe('OK');
  });

  it('what a killed test process left is removed by the next sweep', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('../support/engines/crash-child.ts', import.meta.url))],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(child, 'exit');
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const left = JSON.parse(line) as { dir: string; bridge: string; dockerd: number; container: number };
    expect(isLive(left.container)).toBe(true);
    child.kill('SIGKILL');
    await exited;

    const swept = await sweepLeftovers();
    expect(swept.dirs).toContain(left.dir);
    expect(processesUnder(left.dir)).toEqual([]);
    expect(isLive(left.dockerd)).toBe(false);
    expect(isLive(left.container)).toBe(false);
    expect(mountsUnder(left.dir)).toEqual([]);
    expect(existsSync(left.dir)).toBe(false);
    expect(await bridgeExists(left.bridge)).toBe(false);
  });

  it('stop leaves no engine, sshd, bridge, mount or directory', async () => {
    const fleet = fleetOf();
    const dirs = [fleet.dir, ...fleet.engines.map((e) => e.engine.dir)];
    const pids = fleet.engines.map((e) => e.engine.pid as number);
    const sshPort = (fleet.engine('ssh').sshd as NonNullable<FleetEngine['sshd']>).port;
    // While running, each engine has mounts (its data root) and processes under its directory.
    for (const e of fleet.engines) {
      expect(mountsUnder(e.engine.dir)).toContain(rootDir(e));
      expect(processesUnder(e.engine.dir)).toContain(e.engine.pid);
    }

    await fleet.stop();
    for (const dir of dirs) {
      expect(processesUnder(dir)).toEqual([]);
      expect(mountsUnder(dir)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
    }
    for (const pid of pids) expect(isLive(pid)).toBe(false);
    for (const e of fleet.engines) expect(await bridgeExists(e.engine.bridge.name)).toBe(false);
    await expect(refused(sshPort)).resolves.toBe(true);
  });
});

/** Whether nothing listens on 127.0.0.1:port. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}
