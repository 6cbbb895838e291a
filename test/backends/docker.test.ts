import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DockerBackend } from '../../backends/docker/index.js';
import {
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_RUNNER_ID,
  LABEL_RUNNER_NAME,
  LABEL_SCALE_SET,
  MANAGED_BY_VALUE,
} from '../../src/labels.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { removeContainer, testDocker, useDocker } from '../setup/docker.js';
import { DockerProxy } from '../setup/docker-proxy.js';
import { describeBackendConformance, makeOwner, makeSpec } from './conformance.js';
import { commandFor, makeDockerBackend, memoryLogger, rejectionOf, useBackends } from './docker-fixtures.js';

const docker = useDocker();

describeBackendConformance('docker', async ({ owner, behaviour }) =>
  makeDockerBackend(owner, { command: commandFor(behaviour) }),
);

describe('docker backend on a real engine', () => {
  const backends = useBackends();
  const backendFor = backends.make;
  const sig = () => AbortSignal.timeout(30_000);

  it('stamps labels, env, command, user, limits, network and mounts on the container', async () => {
    const owner = makeOwner('Linux X64');
    // A directory of its own, never /tmp itself: a bind mount is recursive, and a container holding
    // /tmp would pin every mount under it (another engine's container filesystems, as the soak's
    // private engine has there), so that engine could not remove those containers while this one lives.
    const shared = await mkdtemp(join(tmpdir(), 'runner-bind-'));
    backends.defer(() => rm(shared, { recursive: true, force: true }));
    const backend = backendFor(owner, {
      env: { FOO: 'bar' },
      user: '1001',
      memory: 64 * 1024 * 1024,
      cpus: 0.5,
      sharedVolume: '/cache',
      dind: true,
      mounts: [
        { type: 'tmpfs', source: '', target: '/scratch', readOnly: false },
        { type: 'bind', source: shared, target: '/host-tmp', readOnly: true },
      ],
    });
    const spec = makeSpec(owner);
    const handle = await backend.start(spec, sig());
    const info = await testDocker.getContainer(handle.resourceId).inspect();

    expect(info.Name).toBe(`/${spec.name}`);
    expect(info.Config.Image).toBe(docker.image);
    expect(info.Config.Labels).toMatchObject({
      [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
      [LABEL_INSTANCE]: owner.instanceId,
      [LABEL_SCALE_SET]: 'Linux X64',
      [LABEL_RUNNER_NAME]: spec.name,
      [LABEL_RUNNER_ID]: String(spec.runnerId),
    });
    expect(info.Config.Env).toEqual(
      expect.arrayContaining([
        'FOO=bar',
        'SHARED_DIR=/cache',
        `ACTIONS_RUNNER_INPUT_JITCONFIG=${spec.jitConfig.reveal()}`,
      ]),
    );
    expect(info.Config.Cmd).toEqual(['sleep', '600']);
    expect(info.Config.User).toBe('1001');
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    const mounts = Object.fromEntries(info.Mounts.map((m) => [m.Destination, m]));
    expect(mounts['/cache']).toMatchObject({
      Type: 'volume',
      Name: expect.stringMatching(/^runner-cache-linux-x64-/),
    });
    expect(mounts['/var/run/docker.sock']).toMatchObject({ Type: 'bind', Source: '/var/run/docker.sock' });
    expect(mounts['/host-tmp']).toMatchObject({ Type: 'bind', RW: false });
    expect(mounts['/scratch']).toMatchObject({ Type: 'tmpfs' });

    const volume = await testDocker.getVolume(mounts['/cache']?.Name ?? '').inspect();
    expect(volume.Labels).toMatchObject({
      [LABEL_INSTANCE]: owner.instanceId,
      [LABEL_SCALE_SET]: 'Linux X64',
    });
  });

  it('keeps the JIT config out of argv, Cmd, request URLs, logs and error messages', async () => {
    const proxy = await DockerProxy.start();
    backends.defer(() => proxy.close());
    const owner = makeOwner();
    const log = memoryLogger();
    const backend = backendFor(owner, { host: proxy.host }, log.logger);
    const spec = makeSpec(owner);
    const jit = spec.jitConfig.reveal();
    const handle = await backend.start(spec, sig());

    const info = await testDocker.getContainer(handle.resourceId).inspect();
    expect(JSON.stringify([info.Path, info.Args, info.Config.Cmd, info.Config.Entrypoint])).not.toContain(
      jit,
    );
    // The container's main process, as `ps` on the host shows it. The engine reports the container
    // started once runc has told its init to exec the command, which may not have happened yet: until
    // then /proc shows runc's init (or nothing, mid-exec).
    const cmdline = await pollUntil(
      async () => {
        const text = (await readFile(`/proc/${info.State.Pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
        return text.includes('sleep 600') ? text : undefined;
      },
      { timeout: 10_000, what: 'the container process to exec its command' },
    );
    expect(cmdline).not.toContain(jit);
    // dockerode would put every create option, Env included, into the query string.
    const create = proxy.requestsTo('POST', '/containers/create');
    expect(create).toHaveLength(1);
    expect(JSON.stringify(proxy.requests)).not.toContain(jit);
    expect(JSON.stringify(proxy.requests)).not.toContain(encodeURIComponent(jit));

    // A start the engine refuses: the request body held the JIT config, the error must not.
    const failing = backendFor(owner, { host: proxy.host, command: ['/no/such/binary'] }, log.logger);
    const bad = makeSpec(owner);
    const err = await rejectionOf(failing.start(bad, sig()));
    expect(err.code).toBe('DOCKER_START_FAILED');
    expect(err.message).toContain(bad.name);
    expect(`${err.message} ${String(err.cause)} ${err.stack}`).not.toContain(bad.jitConfig.reveal());
    expect(log.raw()).not.toContain(jit);
    expect(log.raw()).not.toContain(bad.jitConfig.reveal());
  });

  it('does not remove a container that has the runner name but not our labels', async () => {
    const owner = makeOwner();
    const backend = backendFor(owner);
    const name = makeSpec(owner).name;
    const stranger = await testDocker.createContainer({ name, Image: docker.image, Cmd: ['sleep', '600'] });
    backends.defer(() => removeContainer(name));
    await expect(backend.remove(name, sig())).rejects.toMatchObject({ code: 'DOCKER_NOT_OWNED' });
    expect((await stranger.inspect()).Id).toBe(stranger.id);
  });

  it('removals racing on one container all succeed once it is gone (the engine answers the later ones 409 "already in progress")', async () => {
    // A host that came back is reconciled while close() settles the same debts: two removals of one
    // container at once. The engine refuses every removal but the first while it runs; those wait for
    // the container to be gone instead of failing (run 12 of the loop: close reported it left behind).
    const owner = makeOwner();
    const backend = backendFor(owner);
    const spec = makeSpec(owner);
    await backend.start(spec, sig());
    const results = await Promise.allSettled([0, 1, 2, 3].map(() => backend.remove(spec.name, sig())));
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'removed'))).toEqual([
      'removed',
      'removed',
      'removed',
      'removed',
    ]);
    await expect(testDocker.getContainer(spec.name).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('two owners on one engine see only their own containers', async () => {
    const a = makeOwner('shared');
    const b = makeOwner('shared');
    const [ba, bb] = [backendFor(a), backendFor(b)];
    const [sa, sb] = [makeSpec(a), makeSpec(b)];
    await Promise.all([ba.start(sa, sig()), bb.start(sb, sig())]);
    expect((await ba.listOwned(sig())).map((r) => r.name)).toEqual([sa.name]);
    expect((await bb.listOwned(sig())).map((r) => r.name)).toEqual([sb.name]);
    await ba.close({ removeAll: true, signal: sig() });
    expect((await bb.listOwned(sig())).map((r) => r.name)).toEqual([sb.name]);
  });

  it('an in-flight start aborted by close({removeAll}) leaves no container', async () => {
    const owner = makeOwner();
    const backend: DockerBackend = backendFor(owner);
    await backend.prepare(sig());
    const starting = backend.start(makeSpec(owner), sig()).catch((e: unknown) => e);
    await backend.close({ removeAll: true, signal: sig() });
    await starting;
    const left = await testDocker.listContainers({
      all: true,
      filters: { label: [`${LABEL_INSTANCE}=${owner.instanceId}`] },
    });
    expect(left).toEqual([]);
  });
});
