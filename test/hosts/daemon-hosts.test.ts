import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendHost, RunnerBackend } from '../../backends/types.js';
import { CORDON_FILE } from '../../src/hosts/cordon-file.js';
import { DaemonHosts } from '../../src/hosts/daemon-hosts.js';
import { captureLogger } from '../health/fixtures.js';

/**
 * Backends that share hosts the way Docker scale sets share a budget book: a cordon set through one is
 * seen by all. Only `hosts` and `cordon` matter here.
 */
function fleet(names: string[]) {
  const book = new Map<string, BackendHost>(
    names.map((name) => [
      name,
      {
        name,
        url: `tcp://${name}:2376`,
        state: 'up',
        cordoned: false,
        budget: { count: 4, cpus: 8, memory: 1024 },
        used: { count: 0, cpus: 0, memory: 0 },
      },
    ]),
  );
  const backend = (mine: string[]): RunnerBackend =>
    ({
      kind: 'docker',
      hosts: () => mine.map((n) => ({ ...(book.get(n) as BackendHost) })),
      cordon: (name: string, on: boolean) => {
        if (!mine.includes(name)) return false;
        (book.get(name) as BackendHost).cordoned = on;
        return true;
      },
    }) as unknown as RunnerBackend;
  return { book, backend };
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function stateDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'runner-hosts-'));
  dirs.push(d);
  return d;
}

describe('the daemon hosts', () => {
  it('lists each host once with the scale sets that share it; a backend without hosts adds nothing', async () => {
    const f = fleet(['a', 'b', 'c']);
    const noHosts = { kind: 'tart' } as unknown as RunnerBackend;
    const hosts = new DaemonHosts(
      [
        { scaleSet: 'linux', backend: f.backend(['a', 'b']) },
        { scaleSet: 'mac', backend: noHosts },
        { scaleSet: 'arm', backend: f.backend(['b', 'c']) },
      ],
      await stateDir(),
      captureLogger().logger,
    );
    expect(hosts.list().map((h) => [h.name, h.scaleSets])).toEqual([
      ['a', ['linux']],
      ['b', ['linux', 'arm']],
      ['c', ['arm']],
    ]);
  });

  it('a cordon applies to every scale set on the host and is written to the state dir first', async () => {
    const f = fleet(['a', 'b']);
    const dir = await stateDir();
    const log = captureLogger();
    const hosts = new DaemonHosts(
      [
        { scaleSet: 'linux', backend: f.backend(['a', 'b']) },
        { scaleSet: 'arm', backend: f.backend(['b']) },
      ],
      dir,
      log.logger,
    );
    const b = await hosts.cordon('b', true);
    expect(b).toMatchObject({ name: 'b', cordoned: true, scaleSets: ['linux', 'arm'] });
    expect(JSON.parse(await readFile(join(dir, CORDON_FILE), 'utf8'))).toEqual({ version: 1, hosts: ['b'] });
    expect(
      log.lines().find((l) => l.msg === 'docker host cordoned: no new runners there, busy ones finish'),
    ).toMatchObject({
      host: 'b',
    });
    await hosts.cordon('a', true);
    await hosts.cordon('b', false);
    expect(JSON.parse(await readFile(join(dir, CORDON_FILE), 'utf8')).hosts).toEqual(['a']);
    expect(hosts.list().map((h) => [h.name, h.cordoned])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  it('refuses an unknown name with the known ones, and a cordon it cannot save, changing nothing', async () => {
    const f = fleet(['a', 'b']);
    const dir = await stateDir();
    const hosts = new DaemonHosts(
      [{ scaleSet: 'linux', backend: f.backend(['a', 'b']) }],
      dir,
      captureLogger().logger,
    );
    await expect(hosts.cordon('z', true)).rejects.toMatchObject({
      code: 'HOST_UNKNOWN',
      message: 'no host "z"; the hosts are: a, b',
    });
    // A state dir that is a file: the write fails.
    const file = join(dir, 'not-a-dir');
    await writeFile(file, '');
    const stuck = new DaemonHosts(
      [{ scaleSet: 'linux', backend: f.backend(['a']) }],
      file,
      captureLogger().logger,
    );
    await expect(stuck.cordon('a', true)).rejects.toMatchObject({
      code: 'HOST_CORDON_SAVE',
      message: expect.stringMatching(
        /^cannot save the cordon in .*not-a-dir\/cordoned-hosts\.json: .*; nothing changed$/,
      ),
    });
    expect(f.book.get('a')?.cordoned).toBe(false);
    const none = new DaemonHosts(
      [{ scaleSet: 'mac', backend: { kind: 'tart' } as unknown as RunnerBackend }],
      dir,
      captureLogger().logger,
    );
    await expect(none.cordon('a', true)).rejects.toMatchObject({ code: 'HOST_UNSUPPORTED' });
  });

  it('at start applies exactly the saved cordons (a restart keeps them) and forgets a host the config dropped', async () => {
    const dir = await stateDir();
    await writeFile(join(dir, CORDON_FILE), JSON.stringify({ version: 1, hosts: ['b', 'gone'] }));
    const f = fleet(['a', 'b']);
    // The process's book still had `a` cordoned (a daemon started again in the same process): the file wins.
    (f.book.get('a') as BackendHost).cordoned = true;
    const log = captureLogger();
    const hosts = new DaemonHosts([{ scaleSet: 'linux', backend: f.backend(['a', 'b']) }], dir, log.logger);
    await hosts.load();
    expect(hosts.list().map((h) => [h.name, h.cordoned])).toEqual([
      ['a', false],
      ['b', true],
    ]);
    expect(log.lines().find((l) => l.host === 'gone')).toMatchObject({
      level: 'warn',
      msg: 'a cordoned host is in no scale set of the config any more: its cordon is forgotten',
    });
    // The next change writes the file without it.
    await hosts.cordon('a', true);
    expect(JSON.parse(await readFile(join(dir, CORDON_FILE), 'utf8')).hosts).toEqual(['a', 'b']);
  });

  it('a state file that is not a list of names is an error naming it', async () => {
    const dir = await stateDir();
    await writeFile(join(dir, CORDON_FILE), '{"hosts": "b"}');
    const hosts = new DaemonHosts(
      [{ scaleSet: 'linux', backend: fleet(['b']).backend(['b']) }],
      dir,
      captureLogger().logger,
    );
    await expect(hosts.load()).rejects.toThrow(
      `${join(dir, CORDON_FILE)}: expected {"version": 1, "hosts": ["name", …]}`,
    );
    await writeFile(join(dir, CORDON_FILE), '{');
    await expect(hosts.load()).rejects.toThrow(/cordoned-hosts\.json: .*JSON/);
  });
});
