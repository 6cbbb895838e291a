import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Owner } from '../../backends/types.js';
import {
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_RUNNER_NAME,
  LABEL_SCALE_SET,
  MANAGED_BY_VALUE,
} from '../../src/labels.js';
import {
  FAKE_IMAGE,
  removeByInstance,
  removeContainer,
  removeVolume,
  testDocker,
  useDocker,
} from '../setup/docker.js';
import { makeOwner, makeSpec } from './conformance.js';
import { useBackends } from './docker-fixtures.js';

useDocker();

const labelsOf = (owner: Owner, runnerName: string) => ({
  [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
  [LABEL_INSTANCE]: owner.instanceId,
  [LABEL_SCALE_SET]: owner.scaleSet,
  [LABEL_RUNNER_NAME]: runnerName,
});

describe('docker buildx cleanup', () => {
  const backends = useBackends();
  const sig = () => AbortSignal.timeout(30_000);

  /** A stand-in for a buildx builder: same name scheme and state volume, a sleeping busybox inside. */
  async function builder(labels: Record<string, string> | undefined) {
    const name = `buildx_buildkit_t${randomBytes(4).toString('hex')}0`;
    // Cleanups run in reverse: the container goes first, then its volume is free to go.
    backends.defer(() => removeVolume(`${name}_state`));
    backends.defer(() => removeContainer(name));
    await testDocker.createContainer({
      name,
      Image: FAKE_IMAGE,
      Cmd: ['sleep', '600'],
      ...(labels ? { Labels: labels } : {}),
      HostConfig: { Mounts: [{ Type: 'volume', Source: `${name}_state`, Target: '/var/lib/buildkit' }] },
    });
    return name;
  }

  const exists = async (name: string) =>
    (await testDocker.listContainers({ all: true, filters: { name: [name] } })).some(
      (c) => c.Names[0] === `/${name}`,
    );
  const volumeExists = (name: string) =>
    testDocker
      .getVolume(name)
      .inspect()
      .then(
        () => true,
        () => false,
      );

  it("removes only builders proven ours: never a foreign one, nor another owner's", async () => {
    const owner = makeOwner();
    const stranger = makeOwner();
    backends.defer(() => removeByInstance(stranger.instanceId));
    const backend = backends.make(owner, { buildxCleanup: true });
    const [r1, r2] = [makeSpec(owner), makeSpec(owner)];
    await backend.start(r1, sig());
    await backend.start(r2, sig());

    const foreign = await builder(undefined);
    const othersLabelled = await builder(labelsOf(stranger, r1.name));
    const ofR1 = await builder(labelsOf(owner, r1.name));
    const ofR2 = await builder(labelsOf(owner, r2.name));
    // Builders carry our labels but are not runners.
    expect((await backend.listOwned(sig())).map((r) => r.name).sort()).toEqual([r1.name, r2.name].sort());

    await backend.remove(r1.name, sig());
    expect(await exists(ofR1)).toBe(false);
    expect(await volumeExists(`${ofR1}_state`)).toBe(false);
    expect(await exists(ofR2)).toBe(true);
    expect(await exists(foreign)).toBe(true);
    expect(await exists(othersLabelled)).toBe(true);

    await backend.close({ removeAll: true, signal: sig() });
    expect(await exists(ofR2)).toBe(false);
    expect(await exists(foreign)).toBe(true);
    expect(await volumeExists(`${foreign}_state`)).toBe(true);
    expect(await exists(othersLabelled)).toBe(true);
  });

  it('leaves builders alone when buildx-cleanup is off', async () => {
    const owner = makeOwner();
    const backend = backends.make(owner, { buildxCleanup: false });
    const spec = makeSpec(owner);
    await backend.start(spec, sig());
    const ours = await builder(labelsOf(owner, spec.name));
    await backend.remove(spec.name, sig());
    await backend.close({ removeAll: true, signal: sig() });
    expect(await exists(ours)).toBe(true);
  });
});
