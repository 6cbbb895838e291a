import { stringify } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { configKeys } from '../../src/config/index.js';
import { BASE, load, problems } from './helpers.js';

/** Keys that name something rather than count it: any positive id is a possible id. */
const IDENTIFIERS = new Set(['github-app.app-id', 'github-app.installation-id']);

const BOUNDED_KINDS = new Set(['integer', 'number', 'duration', 'size']);

/** A value of each kind that nobody can mean, each still a valid number, duration or size to parse. */
const ABSURD: Record<string, number | string> = {
  integer: 1_000_000_000_000,
  number: 1e12,
  duration: '99999999d',
  size: '999999g',
};

/** A file that sets `path` (dotted, as in the reference) to `value`, with what its table needs besides. */
function fileSetting(path: string, value: unknown): string {
  const parts = path.split('.');
  const key = parts.pop() as string;
  if (parts.join('.') === 'dedalus.schedule') {
    return `${BASE}${stringify({ dedalus: { schedule: [{ days: 'daily', hours: '08:00-18:00', [key]: value }] } })}`;
  }
  if (parts.join('.') === 'docker.hosts') {
    return `${BASE}${stringify({ docker: { hosts: [{ url: 'tcp://build-2:2376', [key]: value }] } })}`;
  }
  if (parts.join('.') === 'schedule') {
    return `${BASE}${stringify({ schedule: [{ days: 'daily', hours: '08:00-18:00', [key]: value }] })}`;
  }
  if (parts.join('.') === 'shape.schedule') {
    return `${BASE}${stringify({ shape: [{ cpu: 2, ram: 4, schedule: [{ days: 'daily', hours: '08:00-18:00', [key]: value }] }] })}`;
  }
  if (parts.join('.') === 'shape') {
    return `${BASE}${stringify({ shape: [{ cpu: 2, ram: 4, [key]: value }] })}`;
  }
  let table: Record<string, unknown> = { [key]: value };
  for (const part of parts.reverse()) table = { [part]: table };
  return `${BASE}${stringify(table)}`;
}

/** How the loader names the key in a message: entries of arrays of tables carry their index. */
function messageKey(path: string): string {
  return path
    .replace(/^dedalus\.schedule\./, 'dedalus.schedule[0].')
    .replace(/^docker\.hosts\./, 'docker.hosts[0].')
    .replace(/^shape\.schedule\./, 'shape[0].schedule[0].')
    .replace(/^shape\.(?!\[)/, 'shape[0].')
    .replace(/^schedule\./, 'schedule[0].');
}

describe('values that cannot be meant', () => {
  it.each([
    [
      'max-runners = 1000000000',
      'config.toml: max-runners: expected an integer from 1 to 10000, got 1000000000',
    ],
    [
      'start-concurrency = 1e12',
      'config.toml: start-concurrency: expected an integer from 1 to 256, got 1000000000000',
    ],
    [
      'idle-timeout = "99999999d"',
      'config.toml: idle-timeout: expected a duration like "30s", "5m", "1h30m" or "7d", or a number of seconds from 0s to 24d, got "99999999d"',
    ],
    [
      '[docker]\ncpus = 1000000',
      'config.toml: docker.cpus: expected a number of CPUs ≥ 0, e.g. 2 or 1.5, at most 1024, got 1000000',
    ],
    [
      '[docker]\nmemory = "999999g"',
      'config.toml: docker.memory: expected a size like "512m", "8g" or "4GiB", or a number of bytes, 0 or from 6MiB to 1TiB (runscaler counted MB: write "4096m"), got "999999g"',
    ],
  ])('%j is a config error that names the key and the range', async (line, message) => {
    expect(await problems(`${BASE}${line}\n`)).toEqual([message]);
  });

  it('the same bound holds for a value from the environment', async () => {
    expect(await problems(BASE, { env: { RUNNER_TOKEN: 't', RUNNER_MAX_RUNNERS: '20000' } })).toEqual([
      'env RUNNER_MAX_RUNNERS: expected an integer from 1 to 10000, got 20000',
    ]);
  });

  it('the largest value of each range is still accepted', async () => {
    const config = await load(
      `${BASE}max-runners = 10000\nstart-concurrency = 256\nidle-timeout = "24d"\n[docker]\ncpus = 1024\nmemory = "1t"\n`,
    );
    expect(config.scaleSets[0]).toMatchObject({
      maxRunners: 10_000,
      startConcurrency: 256,
      idleTimeout: 24 * 86_400_000,
      docker: { cpus: 1024, memory: 1024 ** 4 },
    });
  });

  const quantities = configKeys().filter((k) => BOUNDED_KINDS.has(k.kind) && !IDENTIFIERS.has(k.path));

  it('every number, duration and size key of every table is covered here', () => {
    // A new backend or key must not slip past the bound: the list is read back from the schema.
    expect(quantities.map((k) => k.path)).toEqual(
      expect.arrayContaining(['max-runners', 'docker.cpus', 'tart.max-vms', 'dedalus.schedule.warm']),
    );
    expect(quantities.length).toBeGreaterThan(25);
  });

  it.each(quantities.map((k) => [k.path, k.kind, k.range] as const))(
    '%s (%s) has a documented range and rejects an absurd value',
    async (path, kind, range) => {
      expect(range, `${path} documents its range in the reference`).toMatch(/\d/);
      const value = ABSURD[kind] as number | string;
      const lines = await problems(fileSetting(path, value));
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(`^config\\.toml: ${messageKey(path).replace(/[.[\]]/g, '\\$&')}: expected .*, got `),
        ),
      );
    },
  );
});
