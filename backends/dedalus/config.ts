import type { z } from 'zod';
import { type CamelKeys, camelKeys } from '../../src/schema/camel.js';
import type { TableChecker } from '../../src/schema/checker.js';
import {
  AGE_MAX_MS,
  absolutePath,
  bool,
  defaulted,
  duration,
  int,
  num,
  optional,
  RUNNERS_MAX,
  secret,
  str,
  TIMER_MAX_MS,
  table,
  tables,
} from '../../src/schema/fields.js';
import { windowKeys } from '../../src/schema/window-keys.js';
import type { Secret } from '../../src/secret.js';
import type { ResolveScope, SetTable } from '../module.js';

/** The `[dedalus]` table: keys, defaults and why they exist; its resolved shape and its checks. */

export const scheduleTable = table('[[dedalus.schedule]]', {
  ...windowKeys(),
  sleeping: optional(int(0, RUNNERS_MAX), 'Sleeping machines during the window (default: dedalus.sleeping).'),
  warm: optional(int(0, RUNNERS_MAX), 'Warm machines during the window (default: dedalus.warm).'),
});

export const dedalusTable = table('[dedalus]', {
  'api-key': defaulted(
    secret(),
    'env:DEDALUS_API_KEY',
    'Dedalus API key; "env:VAR" reads it from the environment.',
  ),
  'base-url': defaulted(
    str({ expected: 'an http(s) URL', check: (s) => /^https?:\/\/[^/\s]+/.test(s) }),
    'https://dcs.dedaluslabs.ai',
    'Dedalus API endpoint.',
  ),
  vcpu: defaulted(
    num({
      min: 0,
      max: 256,
      exclusiveMin: true,
      step: 0.25,
      expected: 'a number of vCPUs > 0 in steps of 0.25',
    }),
    2,
    'vCPUs per machine.',
  ),
  'memory-mib': defaulted(int(1, 1024 ** 2), 4096, 'Memory per machine in MiB.'),
  'storage-gib': defaulted(
    int(1, 16 * 1024),
    20,
    'Disk per machine in GiB; holds the caches that survive sleep.',
  ),
  sleeping: defaulted(
    int(0, RUNNERS_MAX),
    0,
    'Provisioned machines kept asleep: cost nothing, wake in about a second.',
  ),
  warm: defaulted(int(0, RUNNERS_MAX), 0, 'Machines kept awake with an idle runner, for instant pick-up.'),
  max: defaulted(int(1, RUNNERS_MAX), 5, "Machines that may exist at once; your plan's machine quota."),
  'quota-vcpu': defaulted(
    num({ min: 0, max: 100_000, step: 0.25, expected: 'a number of vCPUs ≥ 0 in steps of 0.25' }),
    0,
    "vCPUs the account's machines may have awake at once, across every Dedalus scale set and job shape on it; 0: no quota.",
  ),
  'quota-memory-mib': defaulted(
    int(0, 1024 ** 3),
    0,
    "Memory in MiB the account's machines may have awake at once, across every Dedalus scale set and job shape on it; 0: no quota.",
  ),
  schedule: tables('[[dedalus.schedule]]', scheduleTable, 'Time windows with other sleeping/warm sizes.'),
  'provision-script': defaulted(
    str(),
    '',
    "Local script run once on each new machine to install the runner and toolchains; '' for the built-in one.",
  ),
  'runner-dir': defaulted(
    absolutePath('on the machine'),
    '/home/machine/actions-runner',
    'Runner directory on the machine; its _work is scrubbed between jobs.',
  ),
  'job-timeout': defaulted(
    duration({ min: 1_000, max: TIMER_MAX_MS }),
    '6h',
    'Longest a job may run before its execution is stopped.',
  ),
  reuse: defaulted(
    bool(),
    true,
    'Keep machines (and their caches) across jobs; false deletes each machine after its job.',
  ),
  'recycle-after-jobs': defaulted(int(0, 100_000), 0, 'Replace a machine after this many jobs; 0 never.'),
  'recycle-after': defaulted(duration({ max: AGE_MAX_MS }), 0, 'Replace a machine after this age; 0 never.'),
});

type DedalusTable = z.output<typeof dedalusTable>;

/** A `[[dedalus.schedule]]` window: days "mon-fri", hours "08:00-18:00", in the daemon's local time. */
export type DedalusSchedule = z.output<typeof scheduleTable>;

/**
 * `[dedalus]` as the backend runs on it: the table's keys camelCased (durations in ms), `apiKey`
 * resolved (set whenever the scale set uses Dedalus), `provisionScript` an absolute path ('' = built-in)
 * and `baseUrl` without a trailing slash.
 */
export type DedalusConfig = Omit<CamelKeys<DedalusTable>, 'apiKey'> & { apiKey?: Secret };

export async function resolveDedalus(
  d: DedalusTable,
  { used, shapes, check: c }: ResolveScope,
): Promise<DedalusConfig | undefined> {
  checkTiers(d, c);
  // Job shapes size every machine themselves, and are checked against the quota as shapes.
  if (used && !shapes) {
    const misfit = quotaMisfit(d['quota-vcpu'], d['quota-memory-mib'], {
      vcpu: d.vcpu,
      memoryMib: d['memory-mib'],
    });
    if (misfit) c.problem([misfit.key], `expected ${misfit.expected}, got ${d[misfit.key]}`);
    else checkWarmInQuota(d, c);
  }
  // The default api-key names DEDALUS_API_KEY; only a scale set that uses Dedalus needs it set.
  const apiKey = used ? c.secret(d['api-key'], ['api-key']) : undefined;
  let provisionScript = '';
  if (d['provision-script'] !== '') {
    provisionScript = c.path(['provision-script'], d['provision-script']);
    // Read now, so a wrong path fails at start-up rather than at the first new machine, minutes later.
    if (used && (await c.read(['provision-script'], provisionScript)) === undefined) return undefined;
  }
  if (used && apiKey === undefined) return undefined;
  const { apiKey: _ref, ...keys } = camelKeys(d);
  const config: DedalusConfig = {
    ...keys,
    baseUrl: d['base-url'].replace(/\/+$/, ''),
    schedule: d.schedule.map((w) => ({
      days: w.days,
      hours: w.hours,
      ...(w.timezone === undefined ? {} : { timezone: w.timezone }),
      ...(w.sleeping === undefined ? {} : { sleeping: w.sleeping }),
      ...(w.warm === undefined ? {} : { warm: w.warm }),
    })),
    provisionScript,
  };
  if (apiKey) config.apiKey = apiKey;
  return config;
}

/** Sleeping and warm machines count against max, at all times of day. */
function checkTiers(d: DedalusTable, c: TableChecker): void {
  if (d.sleeping + d.warm > d.max && !c.broken(['sleeping']) && !c.broken(['warm'])) {
    c.problem(['max'], `expected at least sleeping + warm (${d.sleeping} + ${d.warm}), got ${d.max}`);
  }
  d.schedule.forEach((w, i) => {
    const sleeping = w.sleeping ?? d.sleeping;
    const warm = w.warm ?? d.warm;
    if (sleeping + warm > d.max) {
      const message = `expected sleeping + warm (${sleeping} + ${warm}) ≤ dedalus.max (${d.max}), got ${sleeping + warm}`;
      c.problem(['schedule', i], message);
    }
  });
}

/** Warm machines are awake all day: the warm tier alone must fit in the quota, or it never fills. */
function checkWarmInQuota(d: DedalusTable, c: TableChecker): void {
  const dims = [
    { quota: d['quota-vcpu'], each: d.vcpu, key: 'quota-vcpu' },
    { quota: d['quota-memory-mib'], each: d['memory-mib'], key: 'quota-memory-mib' },
  ];
  const warmest = Math.max(d.warm, ...d.schedule.map((w) => w.warm ?? d.warm));
  for (const dim of dims) {
    if (dim.quota === 0 || warmest * dim.each <= dim.quota) continue;
    const most = Math.floor(dim.quota / dim.each);
    c.problem(
      ['warm'],
      `expected at most ${most} warm machines, in every schedule window too (${warmest} × ${dim.each} exceeds dedalus.${dim.key} = ${dim.quota}), got ${warmest}`,
    );
    return;
  }
}

/**
 * Why a machine of `size` could never be awake under the account's quota (the key to change and what
 * it should be), or undefined when it fits.
 */
export function quotaMisfit(
  quotaVcpu: number,
  quotaMemoryMib: number,
  size: { vcpu: number; memoryMib: number },
): { key: 'vcpu' | 'memory-mib'; expected: string } | undefined {
  if (quotaVcpu > 0 && size.vcpu > quotaVcpu)
    return {
      key: 'vcpu',
      expected: `at most ${quotaVcpu} (dedalus.quota-vcpu: no machine of this size could ever wake)`,
    };
  if (quotaMemoryMib > 0 && size.memoryMib > quotaMemoryMib)
    return {
      key: 'memory-mib',
      expected: `at most ${quotaMemoryMib} (dedalus.quota-memory-mib: no machine of this size could ever wake)`,
    };
  return undefined;
}

/**
 * Sets on one account (the same base-url and api-key) share its quota, so they must agree on it; sets
 * on other accounts are not compared.
 */
export function checkDedalusQuotas(sets: readonly SetTable<DedalusTable>[]): void {
  const firstOf = new Map<string, SetTable<DedalusTable>>();
  for (const set of sets) {
    const t = set.table;
    const key = t['api-key'];
    const account = `${t['base-url'].replace(/\/+$/, '')}\n${key.variable ?? `=${key.literal?.reveal()}`}`;
    const first = firstOf.get(account);
    if (!first) {
      firstOf.set(account, set);
      continue;
    }
    for (const key of ['quota-vcpu', 'quota-memory-mib'] as const) {
      if (t[key] === first.table[key]) continue;
      set.check.problem(
        [key],
        `expected the same value in every Dedalus scale set on one account (it is one quota), got ${t[key]} here and ${first.table[key]} in scaleset[${first.index}]`,
      );
    }
  }
}
