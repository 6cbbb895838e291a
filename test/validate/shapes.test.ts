import { describe, expect, it } from 'vitest';
import { shapeRows } from '../../src/validate/shapes.js';
import { load, SHAPES_EXAMPLE as SHAPES } from '../config/helpers.js';

describe('runner validate: job shapes', () => {
  it('prints each expanded scale set with what runs-on reaches it and the size its backend gives', async () => {
    const { scaleSets } = await load(`url = "https://github.com/my-org"\nname = "linux"\n${SHAPES}`);
    expect(scaleSets.flatMap(shapeRows)).toEqual([
      {
        id: 'shape',
        scaleSet: 'linux-cpu2-ram4',
        title: 'job shape of "linux": runs-on: [linux, cpu=2, ram=4, ubuntu-latest-2core]',
        status: 'ok',
        detail:
          'docker: cpus 2, memory 4GiB; image ghcr.io/actions/actions-runner:latest; min-runners 1, max-runners 10; registered labels linux-cpu2-ram4, linux, cpu=2, ram=4, ubuntu-latest-2core',
      },
      {
        id: 'shape',
        scaleSet: 'linux-cpu8-ram32-arm64-full',
        title: 'job shape of "linux": runs-on: [linux, cpu=8, ram=32, arch=arm64, image=full]',
        status: 'ok',
        detail:
          'docker: cpus 8, memory 32GiB, platform linux/arm64; image ghcr.io/acme/runner-full:2; min-runners 0, max-runners 4; registered labels linux-cpu8-ram32-arm64-full, linux, cpu=8, ram=32, arch=arm64, image=full',
      },
    ]);
  });

  it('warns on GHES, where 3.18–3.20 drops the size labels unless the feature flag is on', async () => {
    const { scaleSets } = await load(`url = "https://ghes.example.com/my-org"\nname = "linux"\n${SHAPES}`);
    const rows = scaleSets.flatMap(shapeRows);
    expect(rows.map((r) => r.status)).toEqual(['warn', 'warn']);
    expect(rows[0]?.hint).toContain('DistributedTask.AllowRunnerScaleSetCustomLabels');
    expect(rows[0]?.hint).toContain('runs-on: linux-cpu2-ram4');
  });

  it('prints nothing for a set without shapes', async () => {
    const { scaleSets } = await load('url = "https://github.com/my-org"\nname = "linux"\n');
    expect(scaleSets.flatMap(shapeRows)).toEqual([]);
  });
});
