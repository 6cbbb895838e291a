import { z } from 'zod';
import { BACKEND_KINDS, BACKENDS, type BackendKind, DOCKER_DEFAULT_IMAGE } from '../../backends/index.js';
import { hasProxyPassword, PROXY_URL_EXPECTED, parseProxyUrl } from '../net/proxy-url.js';
import { RUNNER_ENV_CHOICES } from '../net/runner-network.js';
import {
  bool,
  defaulted,
  duration,
  id,
  int,
  list,
  oneOf,
  optional,
  optionalTable,
  RUNNERS_MAX,
  type Spec,
  secret,
  str,
  subTable,
  TIMER_MAX_MS,
  table,
  tables,
  text,
} from '../schema/fields.js';
import { isValidSecretText, SecretRef } from '../schema/secret-ref.js';
import { normalizeConfigUrl, URL_EXPECTED } from './github-url.js';
import { shapeKeys } from './shapes.js';
import { warmScheduleKey } from './warm-schedule.js';

/**
 * The single source of config keys. A key written anywhere else (flags, env, docs) is derived from
 * these shapes through `keyMeta`, so adding a key here is the whole job.
 */

export const githubAppTable = table('[github-app]', {
  'client-id': optional(text(), "The GitHub App's client ID (Iv…); preferred over app-id."),
  'app-id': optional(id(), 'The numeric App ID, accepted instead of client-id.'),
  'installation-id': optional(id(), 'Installation of the App on the org, repo or enterprise of url.'),
  'private-key-path': optional(
    str({ expected: 'a path to the PEM private key', check: (s) => s.trim().length > 0 }),
    'PEM private key of the App, read at start-up (relative to the config file).',
  ),
  'private-key': optional(secret(), 'The PEM key itself, usually "env:VAR"; instead of private-key-path.'),
});

export { DOCKER_DEFAULT_IMAGE };

/**
 * A proxy URL, "env:VAR", or "" (no proxy, whatever the environment says). A URL with a password is
 * kept as a secret (scrubbed from logs, and the file holding it must be private); one without stays
 * plain text, so `proxy = "http://proxy:3128"` does not make the config file a secret.
 */
function proxyUrl() {
  const schema = z
    .string({ error: PROXY_URL_EXPECTED })
    .refine((s) =>
      s.startsWith('env:') ? isValidSecretText(s) : s.trim() === '' || parseProxyUrl(s) !== undefined,
    )
    .transform((s): string | SecretRef =>
      s.startsWith('env:') || hasProxyPassword(s) ? new SecretRef(s) : s,
    );
  return { schema, kind: 'string' } satisfies Spec<z.ZodType>;
}

/**
 * How the daemon reaches GitHub and the Dedalus API: allowed at the top level (every scale set and
 * `runner update` use it) and in `[[scaleset]]` (a scale set whose GHES sits behind another proxy or CA).
 */
const networkShape = {
  proxy: optional(
    proxyUrl(),
    'Proxy for every call to GitHub and the Dedalus API, e.g. "http://proxy:3128"; overrides HTTPS_PROXY and HTTP_PROXY; "" for none even when they are set.',
    'HTTPS_PROXY (https), HTTP_PROXY (http)',
  ),
  'no-proxy': optional(
    list(),
    'Hosts reached without the proxy: a name (and its subdomains), *.name (subdomains only), host:port, an IP, a CIDR range, or *; overrides NO_PROXY.',
    'NO_PROXY',
  ),
  'ca-file': defaulted(
    str(),
    '',
    "PEM bundle of CAs to trust besides Node's own (GitHub Enterprise Server or a proxy with a private CA); relative to the config file.",
  ),
  'use-system-ca': defaulted(
    bool(),
    false,
    "Also trust the operating system's CA store (as Go programs do), where a company CA is usually installed.",
  ),
  'insecure-skip-tls-verify': defaulted(
    bool(),
    false,
    'Do not verify TLS certificates at all (tests only): warned about at start, in validate and in status.',
  ),
};

/** Each backend's own table (`[docker]`, `[tart]`, …), filled with its defaults when absent. */
function backendTables(): { [K in BackendKind]: z.ZodPrefault<(typeof BACKENDS)[K]['schema']> } {
  const shape = Object.fromEntries(
    BACKEND_KINDS.map((kind) => [kind, subTable(BACKENDS[kind].schema, BACKENDS[kind].description)]),
  );
  return shape as { [K in BackendKind]: z.ZodPrefault<(typeof BACKENDS)[K]['schema']> };
}

/** Keys that describe one scale set: allowed at the top level (inherited) and in `[[scaleset]]`. */
export const scaleSetShape = {
  url: optional(
    str({ expected: URL_EXPECTED, check: (s) => normalizeConfigUrl(s) !== undefined }),
    'Where runners register: an org, repo or enterprise URL on github.com or GHES.',
    'required',
  ),
  name: optional(text(), 'Scale set name at GitHub; jobs target it with runs-on.', 'required'),
  token: optional(
    secret(),
    'Personal access token, or "env:VAR"; without it and without [github-app], RUNNER_TOKEN is used.',
    'RUNNER_TOKEN',
  ),
  'github-app': optionalTable(githubAppTable, 'Authenticate as a GitHub App instead of with a token.'),
  'runner-group': defaulted(text(), 'default', 'Runner group the scale set joins.'),
  labels: optional(list(), 'Labels of the scale set at GitHub, which jobs target with runs-on.', '[name]'),
  'min-runners': defaulted(int(0, RUNNERS_MAX), 0, 'Idle runners kept ready even with no jobs queued.'),
  'max-runners': defaulted(
    int(1, RUNNERS_MAX),
    10,
    'Runners at once for this scale set, busy and idle together.',
  ),
  backend: defaulted(
    oneOf(BACKEND_KINDS),
    'docker',
    'Where runners run: docker, tart (macOS VMs) or dedalus (cloud machines).',
  ),
  'runner-image': optional(
    text(),
    'Container image (docker) or VM image to clone (tart); required for tart.',
    `"${DOCKER_DEFAULT_IMAGE}" for docker, none for tart`,
  ),
  'idle-timeout': defaulted(
    duration({ max: TIMER_MAX_MS }),
    '1h',
    'Idle runners older than this are replaced, so a stuck or stale runner cannot hold a slot; 0 never.',
  ),
  'reconcile-interval': defaulted(
    // Reconciling is what replaces a dead runner: more than an hour between rounds leaves a slot dead too long.
    duration({ min: 1_000, max: 3_600_000 }),
    '30s',
    'How often runners are compared with the backend and GitHub, to replace dead ones.',
  ),
  'start-concurrency': defaulted(
    // An engine serialises much of a container create; past a few hundred in flight only timeouts grow.
    int(1, 256),
    8,
    'Runner starts (container/VM create + start) in parallel, to bound the load a burst puts on the host; JIT registrations run one round ahead.',
  ),
  ...networkShape,
  'runner-env': defaulted(
    oneOf(RUNNER_ENV_CHOICES),
    'network',
    'What runners get of this network setting: "network" (the proxy as HTTP_PROXY, HTTPS_PROXY, NO_PROXY, and the CA of ca-file/use-system-ca as files with NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, …), "proxy", "ca" or "none".',
  ),
  ...shapeKeys,
  schedule: warmScheduleKey,
  ...backendTables(),
};

/** Keys of the daemon as a whole: top level only, an error inside `[[scaleset]]`. */
export const daemonShape = {
  'log-level': defaulted(
    oneOf(['trace', 'debug', 'info', 'warn', 'error']),
    'info',
    'Least severe log level written: trace, debug, info, warn or error.',
  ),
  'log-format': defaulted(oneOf(['text', 'json']), 'text', 'json for log collectors, text for people.'),
  'health-host': defaulted(
    text(),
    '127.0.0.1',
    'Address of the health, metrics and dashboard server; loopback keeps it private.',
  ),
  'health-port': defaulted(int(0, 65535), 8080, 'Port of the health server; 0 disables it.'),
  'health-token': optional(
    secret(),
    'Bearer token required by the health server; set it when health-host is public.',
  ),
  'state-dir': optional(
    str({ expected: 'a directory path', check: (s) => s.trim().length > 0 }),
    'Where runner keeps its state (instance id, owned machines) and its lock: one daemon per state-dir.',
    '$XDG_STATE_HOME/runner or ~/.local/state/runner; /var/lib/runner as root',
  ),
  'drain-timeout': defaulted(
    duration({ max: TIMER_MAX_MS }),
    '30m',
    'On SIGTERM, how long busy runners get to finish their jobs.',
  ),
  'delete-scale-set-on-exit': defaulted(
    bool(),
    false,
    'Delete the scale sets at GitHub on shutdown; off keeps queued jobs across restarts.',
  ),
};

export const scaleSetTable = table('[[scaleset]]', scaleSetShape);

/** The top level of the file without `[[scaleset]]`, which the loader reads entry by entry. */
export const globalTable = table('top level', { ...daemonShape, ...scaleSetShape });

/** The whole file, for rendering and documentation. */
export const fileSchema = table('top level', {
  ...daemonShape,
  ...scaleSetShape,
  scaleset: tables(
    '[[scaleset]]',
    scaleSetTable,
    'Several scale sets: each entry inherits every top-level value and may override any of them.',
  ),
});

export type GlobalSettings = z.output<typeof globalTable>;
export type ScaleSetSettings = z.output<typeof scaleSetTable>;
export type ConfigFileInput = z.input<typeof fileSchema>;
