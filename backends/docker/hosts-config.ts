import { basename } from 'node:path';
import type { z } from 'zod';
import type { TableChecker } from '../../src/schema/checker.js';
import { int, num, optional, RUNNERS_MAX, required, size, str, table } from '../../src/schema/fields.js';
import { formatSize } from '../../src/schema/units.js';
import type { ResolveScope, SetTable } from '../module.js';

/**
 * `[[docker.hosts]]`: the Docker engines one scale set places its runners on, each with the budget
 * placement may fill (backends/docker/fleet/). Light on purpose: it loads with the config.
 */

/** The engine refuses a memory limit below this. */
export const DOCKER_MIN_MEMORY = 6 * 1024 ** 2;
/** 64 TiB: more memory than any single machine offers today; a larger budget is a unit mistake. */
const HOST_MEMORY_MAX_BYTES = 64 * 1024 ** 4;
/** The largest machines have a few hundred cores (with SMT); a budget above this is a typo. */
const HOST_CPUS_MAX = 4096;

const HOST_URL_EXPECTED =
  'a Docker endpoint like "tcp://build-2:2376", "ssh://ci@build-2" or "unix:///var/run/docker.sock"';
const HOST_NAME_EXPECTED = "a host name of letters, digits, '.', '_', ':' and '-' (at most 64)";

/** unix:///path, tcp://host[:port] or ssh://[user@]host[:port], with a host URL parsers accept. */
export function isHostUrl(s: string): boolean {
  if (!/^(unix:\/\/\/\S+|tcp:\/\/[^/\s]+|ssh:\/\/[^/\s]+)$/.test(s)) return false;
  try {
    const url = new URL(s);
    return url.protocol === 'unix:' || url.hostname !== '';
  } catch {
    return false;
  }
}

export const hostTable = table('[[docker.hosts]]', {
  name: optional(
    str({ expected: HOST_NAME_EXPECTED, check: (s) => /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(s) }),
    'Name of the host in logs, `runner hosts` and metrics; unique among the hosts.',
    "from url: its host name (and port, unless 2375/2376/22), or a unix socket's file name",
  ),
  url: required(
    str({ expected: HOST_URL_EXPECTED, check: isHostUrl }),
    'The engine, as DOCKER_HOST takes it: unix:///path, tcp://host:port (TLS with tls-*) or ssh://user@host.',
  ),
  'tls-ca': optional(
    str({ expected: 'a path to a PEM file', check: (s) => s.trim() !== '' }),
    "CA that signed the engine's certificate (tcp:// only; relative to the config file); verification is always on.",
    "Node's CAs",
  ),
  'tls-cert': optional(
    str({ expected: 'a path to a PEM file', check: (s) => s.trim() !== '' }),
    'Client certificate runner presents to the engine (tcp:// only, with tls-key).',
  ),
  'tls-key': optional(
    str({ expected: 'a path to a PEM file', check: (s) => s.trim() !== '' }),
    'Private key of tls-cert (unencrypted PEM).',
  ),
  'max-runners': optional(
    int(1, RUNNERS_MAX),
    'Runners on this host at once, all scale sets together.',
    'unlimited',
  ),
  cpus: optional(
    num({ min: 0, exclusiveMin: true, max: HOST_CPUS_MAX, expected: 'a number of CPUs > 0, e.g. 16' }),
    "The host's CPU budget: runners' [docker] cpus limits placed here add up to at most this.",
    "the engine's CPU count",
  ),
  memory: optional(
    size('bytes', { minBytes: DOCKER_MIN_MEMORY, maxBytes: HOST_MEMORY_MAX_BYTES, noZero: true }),
    'The host\'s memory budget, e.g. "64g": runners\' [docker] memory limits placed here add up to at most this.',
    "the engine's total memory",
  ),
});

type HostTable = z.output<typeof hostTable>;

/**
 * One Docker engine of a scale set. The budget keys are absent when not written: `maxRunners` then
 * means no cap, `cpus` and `memory` what the engine reports (`docker info`). TLS files are absolute
 * paths, checked readable at config load; they are read again when the client is made.
 */
export interface DockerHostConfig {
  /** Unique among the set's hosts, and the same for a url in every set (checkDockerHostsAcrossSets). */
  name: string;
  /** '' only for `[docker] host = ""`: DOCKER_HOST or the default socket. */
  url: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  maxRunners?: number;
  cpus?: number;
  /** Bytes. */
  memory?: number;
}

/**
 * The name a host gets when its table has none: the host name of a tcp:// or ssh:// url (with the port
 * when it is not the usual one, so two engines on one machine differ), the file name of a unix socket,
 * "default" for DOCKER_HOST.
 */
export function hostNameOf(url: string): string {
  if (url === '') return 'default';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.protocol === 'unix:') return basename(parsed.pathname) || 'docker.sock';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const usual = parsed.protocol === 'ssh:' ? ['22'] : ['2375', '2376'];
  return parsed.port && !usual.includes(parsed.port) ? `${host}:${parsed.port}` : host;
}

/** The part of `[docker]` the hosts depend on. */
export interface HostKeys {
  host: string;
  hosts: HostTable[];
  cpus: number;
  memory: number;
}

const TLS_KEYS = ['tls-ca', 'tls-cert', 'tls-key'] as const;

/**
 * `[docker] host` or `[[docker.hosts]]` → the list of hosts (never empty): the single `host` is a list
 * of one without a budget. Undefined after recording a problem.
 */
export async function resolveHosts(
  d: HostKeys,
  { used, check: c, shapes }: ResolveScope,
): Promise<DockerHostConfig[] | undefined> {
  if (d.hosts.length === 0) return [{ name: hostNameOf(d.host), url: d.host }];
  let ok = true;
  if (d.host !== '') {
    c.problem(
      ['host'],
      `expected either docker.host or [[docker.hosts]], got both (host = ${JSON.stringify(d.host)} and ${d.hosts.length} [[docker.hosts]]): write that engine as one more [[docker.hosts]] entry`,
    );
    ok = false;
  }
  const resolved = await Promise.all(d.hosts.map((h, i) => resolveHost(h, i, used, c)));
  if (resolved.includes(undefined)) ok = false;
  if (!unique(d.hosts, c)) ok = false;
  // With job shapes the runners' limits are the shapes' (checked per shape: shapeFitsSomeHost).
  if (used && !shapes && !budgetsFitRunners(d, c)) ok = false;
  return ok ? (resolved as DockerHostConfig[]) : undefined;
}

async function resolveHost(
  h: HostTable,
  i: number,
  used: boolean,
  c: TableChecker,
): Promise<DockerHostConfig | undefined> {
  const at = (key: string) => ['hosts', i, key];
  const host: DockerHostConfig = { name: h.name ?? hostNameOf(h.url), url: h.url };
  let ok = true;
  const written = TLS_KEYS.filter((k) => h[k] !== undefined);
  if (written.length > 0 && !h.url.startsWith('tcp://')) {
    for (const k of written) {
      c.problem(
        at(k),
        `expected ${k} only with a tcp:// url (unix:// and ssh:// do not use TLS), got it with ${JSON.stringify(h.url)}`,
      );
    }
    return undefined;
  }
  if ((h['tls-cert'] === undefined) !== (h['tls-key'] === undefined)) {
    const [missing, other] = h['tls-cert'] === undefined ? ['tls-cert', 'tls-key'] : ['tls-key', 'tls-cert'];
    const what = missing === 'tls-key' ? 'the private key of tls-cert' : 'the client certificate of tls-key';
    c.problem(at(missing), `expected ${what} (${other} needs it), got nothing`);
    ok = false;
  }
  const files = await Promise.all(
    TLS_KEYS.map(async (k) => {
      const value = h[k];
      if (value === undefined) return true;
      const path = c.path(at(k), value);
      if (k === 'tls-ca') host.tlsCa = path;
      else if (k === 'tls-cert') host.tlsCert = path;
      else host.tlsKey = path;
      // Only a set that runs on Docker needs the files (as with every file the config names).
      return !used || isPemFor(await c.read(at(k), path), k, path, at(k), c);
    }),
  );
  if (files.includes(false)) ok = false;
  if (h['max-runners'] !== undefined) host.maxRunners = h['max-runners'];
  if (h.cpus !== undefined) host.cpus = h.cpus;
  if (h.memory !== undefined) host.memory = h.memory;
  return ok ? host : undefined;
}

/**
 * True when the file holds what its key needs, else records why. A certificate or key in the wrong
 * format (DER, a passphrase-protected key) would otherwise fail only at the first connection, as a TLS
 * error that does not name the file. The text itself is never part of a message.
 */
function isPemFor(
  text: string | undefined,
  key: (typeof TLS_KEYS)[number],
  path: string,
  at: (string | number)[],
  c: TableChecker,
): boolean {
  if (text === undefined) return false; // unreadable: recorded by read()
  if (key === 'tls-key') {
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
      c.problem(
        at,
        `expected an unencrypted PEM private key, got ${JSON.stringify(path)}, which is passphrase-protected (openssl pkey -in it -out a new file)`,
      );
      return false;
    }
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return true;
    c.problem(at, `expected a PEM private key (-----BEGIN … PRIVATE KEY-----), got ${JSON.stringify(path)}`);
    return false;
  }
  if (text.includes('-----BEGIN CERTIFICATE-----')) return true;
  c.problem(at, `expected a PEM certificate (-----BEGIN CERTIFICATE-----), got ${JSON.stringify(path)}`);
  return false;
}

/** Names and urls differ between the entries: a name is how a host is cordoned, a url is one budget. */
function unique(hosts: readonly HostTable[], c: TableChecker): boolean {
  let ok = true;
  const names = new Map<string, number>();
  const urls = new Map<string, number>();
  hosts.forEach((h, i) => {
    const url = urls.get(h.url);
    if (url !== undefined) {
      c.problem(
        ['hosts', i, 'url'],
        `expected a url no other [[docker.hosts]] entry has, got ${JSON.stringify(h.url)}, as hosts[${url}] (one engine listed twice would count its budget twice)`,
      );
      ok = false;
      return;
    }
    urls.set(h.url, i);
    const name = h.name ?? hostNameOf(h.url);
    const first = names.get(name);
    if (first === undefined) {
      names.set(name, i);
      return;
    }
    const derived = h.name === undefined ? ` (derived from url ${JSON.stringify(h.url)})` : '';
    const theirs = hosts[first]?.name === undefined ? ' (derived from its url)' : '';
    c.problem(
      ['hosts', i, h.name === undefined ? 'url' : 'name'],
      `expected a host name no other [[docker.hosts]] entry has, got ${JSON.stringify(name)}${derived}, as hosts[${first}]${theirs}: give one of them a name`,
    );
    ok = false;
  });
  return ok;
}

/**
 * A written budget counts runner limits: a set without a limit could not be counted against it, and a
 * budget smaller than one runner would never take one.
 */
function budgetsFitRunners(d: HostKeys, c: TableChecker): boolean {
  let ok = true;
  const dims = [
    { key: 'cpus', limit: d.cpus, show: String, example: '2' },
    { key: 'memory', limit: d.memory, show: formatSize, example: '"8g"' },
  ] as const;
  for (const { key, limit, show, example } of dims) {
    const budgeted = d.hosts.findIndex((h) => h[key] !== undefined);
    if (budgeted >= 0 && limit === 0) {
      c.problem(
        [key],
        `expected a ${key} limit per runner (e.g. ${example}): hosts[${budgeted}] has a ${key} budget, which is the sum of the runners' limits, got 0 (no limit)`,
      );
      ok = false;
      continue;
    }
    d.hosts.forEach((h, i) => {
      const budget = h[key];
      if (budget === undefined || budget >= limit) return;
      c.problem(
        ['hosts', i, key],
        `expected a ${key} budget of at least one runner's [docker] ${key} (${show(limit)}), got ${show(budget)}: no runner would ever fit`,
      );
      ok = false;
    });
  }
  return ok;
}

/**
 * A job shape no host's written budget could ever take (every host with a budget is smaller, and none
 * is without one): the shape key and what it may be at most. A host without a budget is sized by its
 * engine at run time, so it might.
 */
export function shapeMisfit(
  hosts: readonly DockerHostConfig[],
  size: { cpu: number; ram: number },
): { refused: 'cpu' | 'ram'; expected: string } | undefined {
  const dims = [
    { refused: 'cpu', need: size.cpu, budget: (h: DockerHostConfig) => h.cpus, unit: 1, what: 'CPUs' },
    {
      refused: 'ram',
      need: size.ram,
      budget: (h: DockerHostConfig) => h.memory,
      unit: 1024 ** 3,
      what: 'GiB',
    },
  ] as const;
  for (const d of dims) {
    const budgets = hosts.map(d.budget);
    if (budgets.some((b) => b === undefined)) continue;
    const largest = Math.max(...(budgets as number[]));
    if (largest >= d.need * d.unit) continue;
    const most = Math.floor(largest / d.unit);
    return {
      refused: d.refused,
      expected: `at most ${most} (${most} ${d.what} is the largest budget of [[docker.hosts]]: no host could ever take a runner of this shape)`,
    };
  }
  return undefined;
}

/** What a set says about one engine, for the checks across sets. */
interface HostClaim {
  set: number;
  /** Index in [[docker.hosts]]; undefined for `[docker] host`. */
  entry: number | undefined;
  url: string;
  name: string;
  named: boolean;
  budget: { 'max-runners'?: number; cpus?: number; memory?: number };
}

const BUDGET_KEYS = ['max-runners', 'cpus', 'memory'] as const;

function claimsOf({ index, table: t }: SetTable<HostKeys>): HostClaim[] {
  if (t.hosts.length === 0) {
    return [
      { set: index, entry: undefined, url: t.host, name: hostNameOf(t.host), named: false, budget: {} },
    ];
  }
  return t.hosts.map((h, i) => ({
    set: index,
    entry: i,
    url: h.url,
    name: h.name ?? hostNameOf(h.url),
    named: h.name !== undefined,
    budget: { 'max-runners': h['max-runners'], cpus: h.cpus, memory: h.memory },
  }));
}

function showBudget(key: (typeof BUDGET_KEYS)[number], v: number | undefined): string {
  if (v !== undefined) return key === 'memory' ? formatSize(v) : String(v);
  return key === 'max-runners' ? 'none (no cap)' : "none (the engine's own)";
}

/** "scaleset[0] (hosts[1])". */
function whereOf(c: HostClaim): string {
  return `scaleset[${c.set}] (${c.entry === undefined ? 'docker.host' : `hosts[${c.entry}]`})`;
}

/**
 * A host listed by several scale sets (the same url) is one engine with one budget, shared by them:
 * they must agree on its budget keys and its name, and a name must not stand for two engines (it is
 * how `runner hosts cordon` picks one). Each disagreement is reported at the later set, naming the
 * earlier one. Urls are compared as written.
 */
export function checkDockerHostsAcrossSets(sets: readonly SetTable<HostKeys>[]): void {
  const byUrl = new Map<string, HostClaim>();
  const byName = new Map<string, HostClaim>();
  for (const set of sets) {
    if (set.table.hosts.length > 0 && set.table.host !== '') continue; // its own error already
    for (const claim of claimsOf(set)) {
      const at = (key: string) => (claim.entry === undefined ? ['host'] : ['hosts', claim.entry, key]);
      const nameKey = claim.named ? 'name' : 'url';
      const derived = claim.named ? '' : ' (derived from url)';
      const first = byUrl.get(claim.url);
      if (first?.set === claim.set) continue; // one set's own duplicates: resolveHosts reports them
      if (first) {
        for (const key of BUDGET_KEYS) {
          const mine = claim.budget[key];
          const theirs = first.budget[key];
          if (mine === theirs) continue;
          set.check.problem(
            at(key),
            `expected the same ${key} as ${whereOf(first)} gives ${JSON.stringify(claim.url)}: one host has one budget, shared by every scale set on it; got ${showBudget(key, mine)} here and ${showBudget(key, theirs)} there`,
          );
        }
        if (claim.name !== first.name) {
          set.check.problem(
            at(nameKey),
            `expected the name ${whereOf(first)} gives ${JSON.stringify(claim.url)} (${JSON.stringify(first.name)}), got ${JSON.stringify(claim.name)}${derived}: one host has one name`,
          );
        }
        continue;
      }
      byUrl.set(claim.url, claim);
      const named = byName.get(claim.name);
      if (named?.set === claim.set) continue;
      if (named) {
        set.check.problem(
          at(nameKey),
          `expected a host name no other engine has, got ${JSON.stringify(claim.name)}${derived} for ${JSON.stringify(claim.url)}, which ${whereOf(named)} gives ${JSON.stringify(named.url)}`,
        );
        continue;
      }
      byName.set(claim.name, claim);
    }
  }
}
