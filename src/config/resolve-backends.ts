import type { Checker } from './checker.js';
import type { ScaleSetSettings } from './schema.js';
import type { DedalusConfig, DockerConfig, TartConfig } from './types.js';

/**
 * The `[docker]`, `[tart]` and `[dedalus]` tables of one scale set in their resolved shape, with the
 * checks that involve more than one key. Undefined means a problem was recorded.
 */

type Docker = ScaleSetSettings['docker'];
type Mount = DockerConfig['mounts'][number];

export function dockerConfig(s: ScaleSetSettings, set: number, c: Checker): DockerConfig | undefined {
  const d = s.docker;
  const mounts = d.mounts.map((m, i) => mount(m, i, set, c));
  const auth = registryAuth(d, set, c);
  if (mounts.includes(undefined) || auth === null) return undefined;
  const config: DockerConfig = {
    host: d.host,
    network: d.network,
    dind: d.dind,
    sharedVolume: d['shared-volume'],
    sharedVolumeName: d['shared-volume-name'],
    memory: d.memory,
    cpus: d.cpus,
    platform: d.platform,
    pullPolicy: d['pull-policy'],
    env: { ...d.env },
    mounts: mounts as Mount[],
    command: [...d.command],
    user: d.user,
    buildxCleanup: d['buildx-cleanup'],
  };
  if (auth) config.registryAuth = auth;
  return config;
}

function mount(m: Docker['mounts'][number], i: number, set: number, c: Checker): Mount | undefined {
  const at = ['docker', 'mounts', i, 'source'];
  if (m.type === 'tmpfs') {
    if (m.source === undefined)
      return { type: m.type, source: '', target: m.target, readOnly: m['read-only'] };
    c.problem(set, at, `expected no source for a tmpfs mount, got ${JSON.stringify(m.source)}`);
    return undefined;
  }
  if (m.source === undefined) {
    const what = m.type === 'bind' ? 'host path' : 'volume name';
    c.problem(set, at, `expected a ${what} for a ${m.type} mount, got nothing`);
    return undefined;
  }
  // Docker needs an absolute host path; a relative one is read like every other path in the file.
  const source = m.type === 'bind' ? c.path(set, ['docker', 'mounts'], m.source) : m.source;
  return { type: m.type, source, target: m.target, readOnly: m['read-only'] };
}

/** Credentials when the table is written (undefined when it is not; null after recording a problem). */
function registryAuth(d: Docker, set: number, c: Checker): DockerConfig['registryAuth'] | null {
  const auth = d['registry-auth'];
  if (auth === undefined || Object.keys(auth).length === 0) return undefined;
  const at = (key: string) => ['docker', 'registry-auth', key];
  if (auth.username === undefined)
    c.problem(set, at('username'), 'expected the registry user name, got nothing');
  if (auth.password === undefined) {
    c.problem(set, at('password'), 'expected the registry password or "env:VAR", got nothing');
  }
  const password = auth.password && c.secret(auth.password, set, at('password'));
  if (auth.username === undefined || password === undefined) return null;
  return { username: auth.username, password, serverAddress: auth['server-address'] };
}

export function tartConfig(s: ScaleSetSettings, set: number, c: Checker): TartConfig {
  const t = s.tart;
  if (s.backend === 'tart' && t['pool-size'] > t['max-vms'] && !c.prov.broken(set, ['tart', 'max-vms'])) {
    const message = `expected an integer ≤ tart.max-vms (${t['max-vms']}), got ${t['pool-size']}`;
    c.problem(set, ['tart', 'pool-size'], message);
  }
  return {
    home: t.home === '' ? '' : c.path(set, ['tart', 'home'], t.home),
    runnerDir: t['runner-dir'],
    poolSize: t['pool-size'],
    cpu: t.cpu,
    memory: t.memory,
    maxVms: t['max-vms'],
    bootTimeout: t['boot-timeout'],
    pullPolicy: t['pull-policy'],
    pruneInterval: t['prune-interval'],
    pruneMaxAge: t['prune-max-age'],
    pruneSpaceBudget: t['prune-space-budget'],
  };
}

export async function dedalusConfig(
  s: ScaleSetSettings,
  set: number,
  c: Checker,
): Promise<DedalusConfig | undefined> {
  const d = s.dedalus;
  const used = s.backend === 'dedalus';
  checkTiers(d, set, c);
  // The default api-key names DEDALUS_API_KEY; only a scale set that uses Dedalus needs it set.
  const apiKey = used ? c.secret(d['api-key'], set, ['dedalus', 'api-key']) : undefined;
  let provisionScript = '';
  if (d['provision-script'] !== '') {
    const key = ['dedalus', 'provision-script'];
    provisionScript = c.path(set, key, d['provision-script']);
    // Read now, so a wrong path fails at start-up rather than at the first new machine, minutes later.
    if (used && (await c.read(set, key, provisionScript)) === undefined) return undefined;
  }
  if (used && apiKey === undefined) return undefined;
  const config: DedalusConfig = {
    baseUrl: d['base-url'].replace(/\/+$/, ''),
    vcpu: d.vcpu,
    memoryMib: d['memory-mib'],
    storageGib: d['storage-gib'],
    sleeping: d.sleeping,
    warm: d.warm,
    max: d.max,
    schedule: d.schedule.map((w) => ({
      days: w.days,
      hours: w.hours,
      ...(w.sleeping === undefined ? {} : { sleeping: w.sleeping }),
      ...(w.warm === undefined ? {} : { warm: w.warm }),
    })),
    provisionScript,
    runnerDir: d['runner-dir'],
    jobTimeout: d['job-timeout'],
    reuse: d.reuse,
    recycleAfterJobs: d['recycle-after-jobs'],
    recycleAfter: d['recycle-after'],
  };
  if (apiKey) config.apiKey = apiKey;
  return config;
}

/** Sleeping and warm machines count against max, at all times of day. */
function checkTiers(d: ScaleSetSettings['dedalus'], set: number, c: Checker): void {
  if (
    d.sleeping + d.warm > d.max &&
    !c.prov.broken(set, ['dedalus', 'sleeping']) &&
    !c.prov.broken(set, ['dedalus', 'warm'])
  ) {
    c.problem(
      set,
      ['dedalus', 'max'],
      `expected at least sleeping + warm (${d.sleeping} + ${d.warm}), got ${d.max}`,
    );
  }
  d.schedule.forEach((w, i) => {
    const sleeping = w.sleeping ?? d.sleeping;
    const warm = w.warm ?? d.warm;
    if (sleeping + warm > d.max) {
      const message = `expected sleeping + warm (${sleeping} + ${warm}) ≤ dedalus.max (${d.max}), got ${sleeping + warm}`;
      c.problem(set, ['dedalus', 'schedule', i], message);
    }
  });
}
