import { describe, expect, it } from 'vitest';
import { isImageReference, isTartImage } from '../../src/schema/image-ref.js';
import { BASE, loadSet, problems } from './helpers.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  it.each([
    'ubuntu',
    'ubuntu:24.04',
    'ghcr.io/actions/actions-runner:latest',
    'localhost:5000/team/runner:v1.2',
    'registry.example.com:443/a/b/c',
    `ghcr.io/x/y@${DIGEST}`,
    `ghcr.io/x/y:tag@${DIGEST}`,
    'my_org/my-image.name__x',
    '[::1]:5000/img',
    'runner-fake:test',
  ])('accepts %j', (ref) => {
    expect(isImageReference(ref)).toBe(true);
  });

  it.each([
    'ubuntu; rm -rf /',
    'img:$(id)',
    'ghcr.io/x/y z',
    'img`id`',
    'Ubuntu',
    'ghcr.io/Org/img',
    'img:',
    'img:-tag',
    '/img',
    'img/',
    'a//b',
    `img:${'t'.repeat(129)}`,
    'img@sha256:short',
    `${'a'.repeat(256)}`,
    '',
  ])('rejects %j', (ref) => {
    expect(isImageReference(ref)).toBe(false);
  });

  it('Tart takes an OCI reference or a local VM name, nothing a shell or a path reads otherwise', () => {
    expect(isTartImage('ghcr.io/cirruslabs/macos-sequoia-xcode:latest')).toBe(true);
    expect(isTartImage('sequoia-base')).toBe(true);
    expect(isTartImage('macos:14.1')).toBe(true);
    expect(isTartImage('My_VM.2')).toBe(true);
    for (const bad of ['vm name', 'vm;reboot', '../other', '-flag', 'ghcr.io/Bad Ref', '$(id)', '']) {
      expect(isTartImage(bad), bad).toBe(false);
    }
  });
});

describe('runner-image in the config', () => {
  it('a runner-image with shell metacharacters is a config error naming the key, not a start retried forever', async () => {
    expect(await problems(`${BASE}runner-image = "ubuntu; rm -rf /"\n`)).toEqual([
      'config.toml: runner-image: expected an image reference like "ghcr.io/actions/actions-runner:latest" (lower-case name, optional registry, :tag and @digest), got "ubuntu; rm -rf /"',
    ]);
  });

  it('is checked against the grammar of the scale set’s backend, in the entry that sets it', async () => {
    const text = `url = "https://github.com/o"\n[[scaleset]]\nname = "mac"\nbackend = "tart"\nrunner-image = "my vm"\n[[scaleset]]\nname = "linux"\nrunner-image = "Ubuntu"\n`;
    expect(await problems(text)).toEqual([
      'config.toml: scaleset[0].runner-image: expected an OCI image reference like "ghcr.io/cirruslabs/macos-sequoia-xcode:latest", or the name of a local VM (letters, digits, ".", "_", "-"), got "my vm"',
      'config.toml: scaleset[1].runner-image: expected an image reference like "ghcr.io/actions/actions-runner:latest" (lower-case name, optional registry, :tag and @digest), got "Ubuntu"',
    ]);
  });

  it('a valid reference, from the file or RUNNER_RUNNER_IMAGE, is kept as written', async () => {
    expect((await loadSet(`${BASE}runner-image = "localhost:5000/runner:v2"\n`)).runnerImage).toBe(
      'localhost:5000/runner:v2',
    );
    const fromEnv = await loadSet(BASE, { env: { RUNNER_TOKEN: 't', RUNNER_RUNNER_IMAGE: 'img"x' } }).catch(
      (err: Error) => err.message,
    );
    expect(fromEnv).toContain('env RUNNER_RUNNER_IMAGE: expected an image reference');
  });
});
