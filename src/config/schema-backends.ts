import { isAbsolute } from 'node:path';
import {
  bool,
  defaulted,
  duration,
  int,
  list,
  num,
  oneOf,
  optional,
  optionalTable,
  required,
  secret,
  size,
  str,
  stringMap,
  TIMER_MAX_MS,
  table,
  tables,
  text,
} from './fields.js';
import { parseDays, parseHours } from './schedule.js';

/** The `[docker]`, `[tart]` and `[dedalus]` tables: keys, defaults and why they exist. */

const absolutePath = (what: string) =>
  str({ expected: `an absolute path (${what})`, check: (s) => isAbsolute(s) });
const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;
const DOCKER_MIN_MEMORY = 6 * 1024 ** 2; // the engine refuses less

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
    "Docker engine to run runners on; '' uses DOCKER_HOST or the default socket.",
  ),
  network: defaulted(str(), '', "Network to attach runners to; '' is Docker's default bridge."),
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
      hint: ' of at least 6MiB (runscaler counted MB: write "4096m")',
    }),
    0,
    'Memory limit per runner, e.g. "8g"; 0 for none.',
  ),
  cpus: defaulted(
    num({ min: 0, expected: 'a number of CPUs ≥ 0, e.g. 2 or 1.5' }),
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

export const tartTable = table('[tart]', {
  home: defaulted(str(), '', "TART_HOME for every tart call; '' uses $TART_HOME or ~/.tart."),
  'runner-dir': defaulted(
    absolutePath('in the VM'),
    '/Users/admin/actions-runner',
    'Directory in the VM image that holds run.sh.',
  ),
  'pool-size': defaulted(
    int(0),
    0,
    'VMs kept booted and waiting, so a job starts in seconds instead of ~30s.',
  ),
  cpu: defaulted(int(0), 0, 'vCPUs per VM; 0 keeps the image setting.'),
  memory: defaulted(size('MiB'), 0, 'Memory per VM in MiB (or a size like "8g"); 0 keeps the image setting.'),
  'max-vms': defaulted(
    int(1),
    2,
    "VMs running at once across all Tart scale sets; macOS's licence allows 2 per host.",
  ),
  'boot-timeout': defaulted(
    duration({ min: 1_000, max: TIMER_MAX_MS }),
    '2m',
    'A VM not reachable by then is deleted and the start retried.',
  ),
  'pull-policy': defaulted(
    oneOf(PULL_POLICIES),
    'if-not-present',
    'When to pull runner-image with tart pull.',
  ),
  'prune-interval': defaulted(
    duration({ max: TIMER_MAX_MS }),
    '24h',
    'How often to prune the tart image cache; 0 disables pruning.',
  ),
  'prune-max-age': defaulted(duration(), '7d', 'Cached images unused for this long are pruned.'),
  'prune-space-budget': defaulted(
    size('bytes'),
    0,
    'Prune the oldest cached images until the cache fits, e.g. "100g"; 0 for no cap.',
  ),
});

export const scheduleTable = table('[[dedalus.schedule]]', {
  days: required(
    str({ expected: 'days like "mon-fri", "sat,sun" or "daily"', check: (s) => parseDays(s) !== undefined }),
    'Days the window applies to, in the daemon host’s local time.',
  ),
  hours: required(
    str({ expected: 'hours like "08:00-18:00"', check: (s) => parseHours(s) !== undefined }),
    'Time of day the window applies to; an end before the start runs past midnight.',
  ),
  sleeping: optional(int(0), 'Sleeping machines during the window (default: dedalus.sleeping).'),
  warm: optional(int(0), 'Warm machines during the window (default: dedalus.warm).'),
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
    num({ min: 0, exclusiveMin: true, step: 0.25, expected: 'a number of vCPUs > 0 in steps of 0.25' }),
    2,
    'vCPUs per machine.',
  ),
  'memory-mib': defaulted(int(1), 4096, 'Memory per machine in MiB.'),
  'storage-gib': defaulted(int(1), 20, 'Disk per machine in GiB; holds the caches that survive sleep.'),
  sleeping: defaulted(int(0), 0, 'Provisioned machines kept asleep: cost nothing, wake in about a second.'),
  warm: defaulted(int(0), 0, 'Machines kept awake with an idle runner, for instant pick-up.'),
  max: defaulted(int(1), 5, "Machines that may exist at once; your plan's machine quota."),
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
  'recycle-after-jobs': defaulted(int(0), 0, 'Replace a machine after this many jobs; 0 never.'),
  'recycle-after': defaulted(duration(), 0, 'Replace a machine after this age; 0 never.'),
});
