import type { HostStatus } from '../../src/health/status-types.js';

export const GiB = 1024 ** 3;

/** Three hosts: one busy, one cordoned without a runner cap, one down with its size unknown. */
export function threeHosts(): HostStatus[] {
  return [
    {
      name: 'build-1',
      url: 'unix:///var/run/docker.sock',
      state: 'up',
      cordoned: false,
      budget: { count: 8, cpus: 16, memory: 64 * GiB },
      used: { count: 3, cpus: 4.5, memory: 12 * GiB },
      scaleSets: ['linux'],
    },
    {
      name: 'build-2',
      url: 'tcp://build-2:2376',
      state: 'up',
      cordoned: true,
      budget: { count: 'unlimited', cpus: 32, memory: 128 * GiB },
      used: { count: 1, cpus: 0.1 + 0.2, memory: 1.5 * GiB },
      scaleSets: ['linux', 'arm'],
    },
    {
      name: 'build-3',
      url: 'ssh://ci@build-3',
      state: 'down',
      cordoned: false,
      error: 'no answer within 10s',
      budget: { count: 4, cpus: 'unknown', memory: 'unknown' },
      used: { count: 0, cpus: 0, memory: 0 },
      scaleSets: ['linux'],
    },
  ];
}
