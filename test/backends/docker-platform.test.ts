import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerBackend } from '../../backends/docker/module.js';
import { createTarGz } from '../../src/release/tar.js';
import { testDocker, useDocker } from '../setup/docker.js';
import { makeOwner } from './conformance.js';
import { dockerConfig, useBackends } from './docker-fixtures.js';

useDocker();

/** An image the engine lists as linux/arm/v7: one file, never run, so no emulation is needed. */
const IMAGE = `runner-fake-variant:${randomBytes(4).toString('hex')}`;

/** `docker load` input: a docker-save archive with one layer and a config naming the platform. */
function imageArchive(platform: { os: string; architecture: string; variant: string }): Buffer {
  const bytes = (s: string) => new TextEncoder().encode(s);
  const layer = gunzipSync(createTarGz([{ name: 'marker', data: bytes('variant test\n'), mode: 0o644 }]));
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const config = bytes(
    JSON.stringify({ ...platform, config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } }),
  );
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const manifest = [{ Config: configName, RepoTags: [IMAGE], Layers: ['layer.tar'] }];
  return createTarGz([
    { name: 'layer.tar', data: layer, mode: 0o644 },
    { name: configName, data: config, mode: 0o644 },
    { name: 'manifest.json', data: bytes(JSON.stringify(manifest)), mode: 0o644 },
  ]);
}

beforeAll(async () => {
  const stream = await testDocker.loadImage(
    Readable.from([imageArchive({ os: 'linux', architecture: 'arm', variant: 'v7' })]),
  );
  for await (const _ of stream as NodeJS.ReadableStream) {
    // drain: the load is done when the answer ends
  }
  const info = await testDocker.getImage(IMAGE).inspect();
  expect([info.Os, info.Architecture, info.Variant]).toEqual(['linux', 'arm', 'v7']);
});

afterAll(async () => {
  await testDocker
    .getImage(IMAGE)
    .remove({ force: true })
    .catch(() => {});
});

describe('docker platform matching: runner validate and a start agree', () => {
  const backends = useBackends();
  const sig = () => AbortSignal.timeout(30_000);

  // validate used to compare os/arch only, so it called linux/arm/v6 present where a start would not find it.
  it.each([
    ['linux/arm/v7', 'ok'],
    ['linux/arm', 'ok'],
    ['linux/arm/v6', 'fail'],
    ['linux/arm64', 'fail'],
    ['linux/amd64', 'fail'],
  ] as const)('[docker] platform %s: the image is %s for both', async (platform, expected) => {
    const config = dockerConfig({ platform, pullPolicy: 'never' });
    const rows = await dockerBackend.validate(
      { scaleSet: 'variant', runnerImage: IMAGE, config },
      { timeoutMs: 10_000, env: process.env },
    );
    const validated = rows.find((r) => r.id === 'runner-image')?.status;

    // pull-policy "never": prepare() succeeds exactly when the engine has the image for the platform.
    const backend = backends.make(makeOwner(), { platform, pullPolicy: 'never' }, undefined, IMAGE);
    const started = await backend.prepare(sig()).then(
      () => 'ok',
      (err: { code?: string }) => (err.code === 'DOCKER_IMAGE_MISSING' ? 'fail' : `error ${err.code}`),
    );

    expect({ validated, started }).toEqual({ validated: expected, started: expected });
  });
});
