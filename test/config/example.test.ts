import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configKeys } from '../../src/config/index.js';
import { load } from './helpers.js';

const EXAMPLE = readFileSync(new URL('../../config.example.toml', import.meta.url), 'utf8');
const SCALESET_EXAMPLE = '# [[scaleset]]';

interface Entry {
  line: number;
  /** Table the line belongs to, by the last header above it, commented or not. */
  table: string;
  /** False under a commented-out header: uncommenting the key alone would put it in the wrong table. */
  tableActive: boolean;
  commented: boolean;
  key: string;
  value: string;
}

/** Keys and headers of the example, commented or not ("# key = value" is how a default is shown). */
function scan(text: string): { entries: Entry[]; headers: Set<string> } {
  const entries: Entry[] = [];
  const headers = new Set<string>();
  let table = '';
  let tableActive = true;
  text.split('\n').forEach((raw, i) => {
    const header = /^(# )?\[\[?([A-Za-z0-9_.-]+)\]\]?$/.exec(raw);
    if (header) {
      table = header[2] as string;
      tableActive = header[1] === undefined;
      headers.add(table);
      return;
    }
    const kv = /^(# )?([A-Za-z0-9_-]+) = (.+)$/.exec(raw);
    if (kv) {
      entries.push({
        line: i + 1,
        table,
        tableActive,
        commented: kv[1] !== undefined,
        key: kv[2] as string,
        value: kv[3] as string,
      });
    }
  });
  return { entries, headers };
}

/** The example up to the multi-scale-set section, whose keys repeat the top-level ones. */
const main = EXAMPLE.slice(0, EXAMPLE.indexOf(SCALESET_EXAMPLE));

describe('config.example.toml', () => {
  it('parses as shipped, with the token from RUNNER_TOKEN', async () => {
    const config = await load(EXAMPLE, {
      env: { RUNNER_TOKEN: 'ghp_exampletoken' },
      fileName: 'config.example.toml',
    });
    expect(config.scaleSets).toHaveLength(1);
    expect(config.scaleSets[0]).toMatchObject({
      url: 'https://github.com/my-org',
      name: 'linux',
      backend: 'docker',
    });
  });

  it('documents every key of the schema, in the table it belongs to', () => {
    const { entries, headers } = scan(main);
    const missing = configKeys()
      .filter((k) => k.path !== 'scaleset')
      .filter((k) =>
        ['table', 'tables', 'map'].includes(k.kind)
          ? !headers.has(k.path)
          : !entries.some((e) => e.table === k.table && e.key === k.key),
      )
      .map((k) => k.path);
    expect(missing).toEqual([]);
    expect(scan(EXAMPLE).headers.has('scaleset')).toBe(true);
  });

  it('shows each constant default exactly as the schema has it', () => {
    const { entries } = scan(main);
    const wrong = configKeys()
      .filter((k) => k.default !== undefined && !['table', 'tables', 'map'].includes(k.kind))
      .filter(
        (k) =>
          !entries.some(
            (e) => e.table === k.table && e.key === k.key && e.commented && e.value === k.default,
          ),
      )
      .map((k) => `${k.path} = ${k.default}`);
    expect(wrong).toEqual([]);
  });

  it('mentions no key the schema does not have', () => {
    const known = new Set(configKeys().map((k) => k.path));
    // Free-form keys ([docker.env], [images]) are the user's own.
    const maps = new Set(
      configKeys()
        .filter((k) => k.kind === 'map')
        .map((k) => k.path),
    );
    const unknown = scan(EXAMPLE)
      .entries.filter((e) => !maps.has(e.table.replace(/^scaleset\.?/, '')))
      .map((e) =>
        e.table.replace(/^scaleset\.?/, '') ? `${e.table.replace(/^scaleset\.?/, '')}.${e.key}` : e.key,
      )
      .filter((path) => !known.has(path));
    expect(unknown).toEqual([]);
  });

  it('means what it says: uncommenting every shown default changes nothing', async () => {
    const keys = configKeys();
    const uncommented = main.split('\n').map((line) => {
      const kv = /^# ([A-Za-z0-9_-]+) = (.+)$/.exec(line);
      return kv ? { line, key: kv[1], value: kv[2] } : { line };
    });
    let table = '';
    let active = true;
    const text = uncommented
      .map(({ line, key, value }) => {
        const header = /^(# )?\[\[?([A-Za-z0-9_.-]+)\]\]?$/.exec(line);
        if (header) {
          table = header[2] as string;
          active = header[1] === undefined;
        }
        const isDefault =
          key !== undefined && keys.some((k) => k.table === table && k.key === key && k.default === value);
        return active && isDefault ? line.slice(2) : line;
      })
      .join('\n');
    expect(text).not.toBe(main); // the defaults really were uncommented
    const env = { RUNNER_TOKEN: 'ghp_exampletoken' };
    const shipped = await load(main, { env });
    const explicit = await load(text, { env });
    expect(explicit).toEqual(shipped);
  });

  it('has a multi-scale-set example that works when uncommented', async () => {
    const start = EXAMPLE.indexOf(SCALESET_EXAMPLE);
    const block = EXAMPLE.slice(start)
      .split('\n')
      .map((line) => line.replace(/^# ?/, ''))
      .join('\n');
    const config = await load(main + block, {
      env: { RUNNER_TOKEN: 'ghp_exampletoken', HEAVY_REPO_TOKEN: 'ghp_heavyrepo' },
    });
    expect(config.scaleSets.map((s) => [s.name, s.url, s.backend, s.maxRunners])).toEqual([
      ['linux-small', 'https://github.com/my-org', 'docker', 20],
      ['linux-big', 'https://github.com/my-org/heavy-repo', 'docker', 4],
      ['macos', 'https://github.com/my-org', 'tart', 2],
    ]);
    expect(config.scaleSets[0]?.docker).toMatchObject({ memory: 4 * 1024 ** 3, cpus: 2, dind: false });
    expect(config.scaleSets[1]?.docker).toMatchObject({ memory: 32 * 1024 ** 3, dind: true });
    expect(config.scaleSets[2]?.tart.poolSize).toBe(1);
  });
});
