import { isAbsolute } from 'node:path';
import type { z } from 'zod';
import { type CamelKeys, camelKeys } from '../../src/schema/camel.js';
import type { TableChecker } from '../../src/schema/checker.js';
import {
  absolutePath,
  bool,
  defaulted,
  list,
  MEMORY_MAX_BYTES,
  num,
  oneOf,
  optional,
  optionalTable,
  required,
  secret,
  size,
  str,
  stringMap,
  table,
  tables,
  text,
} from '../../src/schema/fields.js';
import type { Secret } from '../../src/secret.js';
import type { ResolveScope } from '../module.js';
import { DOCKER_MIN_MEMORY, type DockerHostConfig, hostTable, resolveHosts } from './hosts-config.js';

export type { DockerHostConfig } from './hosts-config.js';

/** The `[docker]` table: keys, defaults and why they exist; and its resolved shape. */

export const DOCKER_DEFAULT_IMAGE = 'ghcr.io/actions/actions-runner:latest';

const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;

export const registryAuthTable = table('[docker.registry-auth]', {
  username: optional(text(), 'Registry user for pulling a private runner image.'),
  password: optional(secret(), 'Registry password or token; "env:VAR" keeps it out of the file.'),
  'server-address': defaulted(
    str({ expected: 'a registry host such as "ghcr.io" (or "" for the image\'s registry)' }),
    '',
    "Registry the credentials are for; '' means the registry of runner-image.",
  ),
});

export const mountTable = table('[[docker.mounts]]', {
  type: defaulted(oneOf(['bind', 'volume', 'tmpfs']), 'bind', 'Mount type, as in `docker run --mount`.'),
  source: optional(text(), 'Host path (bind) or volume name (volume); not used for tmpfs.'),
  target: required(absolutePath('inside the container'), 'Where the mount appears in the runner.'),
  'read-only': defaulted(bool(), false, 'Mount read-only, so jobs cannot change what is shared.'),
});

export const dockerTable = table('[docker]', {
  host: defaulted(
    str({
      expected:
        'a Docker endpoint like "unix:///var/run/docker.sock", "tcp://host:2376" or "ssh://user@host"',
      check: (s) => s === '' || /^(unix:\/\/\/.+|tcp:\/\/[^/\s]+|ssh:\/\/[^/\s]+|npipe:\/\/.+)$/.test(s),
    }),
    '',
    "Docker engine to run runners on; '' uses DOCKER_HOST or the default socket. [[docker.hosts]] lists several instead.",
  ),
  hosts: tables(
    '[[docker.hosts]]',
    hostTable,
    'Docker engines to place runners on, local or remote, each with its budget; instead of host.',
  ),
  network: defaulted(
    str(),
    '',
    "Network to attach runners to (it must exist: runner validate looks it up, never creates it); '' is Docker's default bridge.",
  ),
  dind: defaulted(
    bool(),
    false,
    'Mount the host Docker socket into runners so jobs can use docker; gives every job control of the host.',
  ),
  'shared-volume': defaulted(
    str({ expected: "an absolute path in the container, or ''", check: (s) => s === '' || isAbsolute(s) }),
    '',
    "Mount path of a cache volume shared by this scale set's runners; '' for none.",
  ),
  'shared-volume-name': defaulted(
    str(),
    '',
    "Name of the shared volume; '' means runner-cache-<scale set>, so sets never share a cache by accident.",
  ),
  memory: defaulted(
    size('bytes', {
      minBytes: DOCKER_MIN_MEMORY,
      maxBytes: MEMORY_MAX_BYTES,
      hint: ' (runscaler counted MB: write "4096m")',
    }),
    0,
    'Memory limit per runner, e.g. "8g"; 0 for none.',
  ),
  cpus: defaulted(
    // The largest hosts have a few hundred cores; a limit above what exists is a typo.
    num({ min: 0, max: 1024, expected: 'a number of CPUs ≥ 0, e.g. 2 or 1.5' }),
    0,
    'CPU limit per runner (fractions allowed); 0 for none.',
  ),
  platform: defaulted(
    str({
      expected: 'a platform like "linux/amd64" or "linux/arm64/v8", or \'\'',
      check: (s) => s === '' || /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(s),
    }),
    '',
    "Image platform to pull and run; '' is the engine's own.",
  ),
  'pull-policy': defaulted(
    oneOf(PULL_POLICIES),
    'if-not-present',
    'When to pull runner-image: never lets a host start offline; always follows a moving tag (pulled before the first start, then refreshed in the background by a start once the last pull is 5 minutes old).',
  ),
  'registry-auth': optionalTable(registryAuthTable, 'Credentials for pulling a private runner-image.'),
  env: stringMap(
    (k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && k !== 'ACTIONS_RUNNER_INPUT_JITCONFIG',
    'an environment variable name (ACTIONS_RUNNER_INPUT_JITCONFIG is set by runner)',
    'Extra environment variables for every runner container.',
  ),
  mounts: tables('[[docker.mounts]]', mountTable, 'Extra mounts for every runner container.'),
  command: defaulted(
    list('a non-empty array of strings', 1),
    ['/home/runner/run.sh'],
    'Command the container runs; it must start the runner with ACTIONS_RUNNER_INPUT_JITCONFIG.',
  ),
  user: defaulted(str(), '', "User the runner runs as in the container; '' is the image's own."),
  'buildx-cleanup': defaulted(
    bool(),
    true,
    'Remove buildx builders our runners leave behind (only ours, never anyone else’s).',
  ),
});

type DockerTable = z.output<typeof dockerTable>;
type MountTable = z.output<typeof mountTable>;

/** A `[[docker.mounts]]` entry, `docker run --mount`-style; a bind source is an absolute host path, tmpfs has ''. */
export type DockerMount = CamelKeys<Omit<MountTable, 'source'>> & { source: string };

/** Registry credentials with the password resolved. */
export interface RegistryAuth {
  username: string;
  password: Secret;
  serverAddress: string;
}

/**
 * `[docker]` as the backend runs on it: the table's keys camelCased (memory in bytes), mounts and
 * registry credentials resolved. `sharedVolumeName` '' means `runner-cache-<scale set>-<instance>`.
 */
export type DockerConfig = Omit<CamelKeys<DockerTable>, 'host' | 'hosts' | 'mounts' | 'registryAuth'> & {
  /** The engines runners are placed on: `[[docker.hosts]]`, or `[docker] host` as a list of one. */
  hosts: DockerHostConfig[];
  mounts: DockerMount[];
  registryAuth?: RegistryAuth;
};

export async function resolveDocker(d: DockerTable, scope: ResolveScope): Promise<DockerConfig | undefined> {
  const c = scope.check;
  const mounts = d.mounts.map((m, i) => mount(m, i, c));
  const auth = registryAuth(d, c);
  const hosts = await resolveHosts(d, scope);
  if (mounts.includes(undefined) || auth === null || hosts === undefined) return undefined;
  const { registryAuth: _written, host: _host, hosts: _hosts, ...keys } = camelKeys(d);
  const config: DockerConfig = {
    ...keys,
    hosts,
    env: { ...d.env },
    mounts: mounts as DockerMount[],
    command: [...d.command],
  };
  if (auth) config.registryAuth = auth;
  return config;
}

function mount(m: MountTable, i: number, c: TableChecker): DockerMount | undefined {
  const at = ['mounts', i, 'source'];
  if (m.type === 'tmpfs') {
    if (m.source === undefined)
      return { type: m.type, source: '', target: m.target, readOnly: m['read-only'] };
    c.problem(at, `expected no source for a tmpfs mount, got ${JSON.stringify(m.source)}`);
    return undefined;
  }
  if (m.source === undefined) {
    const what = m.type === 'bind' ? 'host path' : 'volume name';
    c.problem(at, `expected a ${what} for a ${m.type} mount, got nothing`);
    return undefined;
  }
  // Docker needs an absolute host path; a relative one is read like every other path in the file.
  const source = m.type === 'bind' ? c.path(['mounts'], m.source) : m.source;
  return { type: m.type, source, target: m.target, readOnly: m['read-only'] };
}

/** Credentials when the table is written (undefined when it is not; null after recording a problem). */
function registryAuth(d: DockerTable, c: TableChecker): RegistryAuth | undefined | null {
  const auth = d['registry-auth'];
  if (auth === undefined || Object.keys(auth).length === 0) return undefined;
  const at = (key: string) => ['registry-auth', key];
  if (auth.username === undefined) c.problem(at('username'), 'expected the registry user name, got nothing');
  if (auth.password === undefined) {
    c.problem(at('password'), 'expected the registry password or "env:VAR", got nothing');
  }
  const password = auth.password && c.secret(auth.password, at('password'));
  if (auth.username === undefined || password === undefined) return null;
  return { username: auth.username, password, serverAddress: auth['server-address'] };
}
