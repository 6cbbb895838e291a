import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DedalusAuthError,
  DedalusConflictError,
  DedalusHttpError,
  DedalusInvalidArgumentError,
  DedalusInvalidResponseError,
  DedalusNotFoundError,
  DedalusRateLimitedError,
  DedalusTransportError,
  DedalusUnavailableError,
} from '../../backends/dedalus/api/errors.js';
import {
  DedalusBackendError,
  type DedalusBackendErrorCode,
  DedalusExecutionFailedError,
} from '../../backends/dedalus/errors.js';
import { DockerBackendError, type DockerBackendErrorCode } from '../../backends/docker/errors.js';
import { TartCommandError, TartError, type TartErrorCode } from '../../backends/tart/errors.js';
import { BackendCapacityError } from '../../backends/types.js';
import { ConfigError } from '../../src/config/errors.js';
import {
  ActionsServiceError,
  ConfigUrlError,
  InvalidArgumentError,
  InvalidResponseError,
  MessageQueueTokenExpiredError,
  RetriesExhaustedError,
  RunnerGroupNotFoundError,
  SessionClosedError,
  TokenRefreshError,
  TransportError,
  UndecodableMessageError,
} from '../../src/github/errors.js';
import { JsonDecodeError } from '../../src/github/json.js';
import { WireTimeError } from '../../src/github/wire-time.js';
import { HealthServerError, type HealthServerErrorCode } from '../../src/health/server.js';
import { HostsError, type HostsErrorCode } from '../../src/hosts/errors.js';
import { InitError, type InitErrorCode } from '../../src/init/errors.js';
import { RunnerError } from '../../src/kernel/errors.js';
import { ListenerError } from '../../src/listener/listener.js';
import { ReleaseUrlError } from '../../src/release/layout.js';
import { ServiceError, type ServiceErrorCode } from '../../src/service/errors.js';
import { UnitValueError } from '../../src/service/systemd/encode.js';
import { StateDirLockError, type StateDirLockErrorCode } from '../../src/state/state-dir-lock.js';
import { StatusError, type StatusErrorCode } from '../../src/status/client.js';
import { UpdateError, type UpdateErrorCode } from '../../src/update/errors.js';
import { PollTimeoutError } from '../../src/util/poll-until.js';

/**
 * Every error code the project raises, pinned in one table (the undici convention): callers and
 * operators match on `code`, so renaming one is a breaking change this test makes visible. A class
 * whose code is a parameter lists all its codes, and the compiler checks the list is complete.
 */

/** Fails to compile when `Listed` misses a member of `All`. */
type Complete<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : false;
function allOf<All extends string>() {
  return <const L extends readonly All[]>(
    codes: L & (Complete<All, L[number]> extends true ? unknown : never),
  ) => codes;
}

const updateCodes = allOf<UpdateErrorCode>()([
  'UPDATE_NOT_BINARY',
  'UPDATE_UNSUPPORTED_PLATFORM',
  'UPDATE_HTTP',
  'UPDATE_NETWORK',
  'UPDATE_TIMEOUT',
  'UPDATE_TOO_LARGE',
  'UPDATE_BAD_METADATA',
  'UPDATE_CHECKSUM_MISSING',
  'UPDATE_CHECKSUM_MISMATCH',
  'UPDATE_BAD_ARCHIVE',
  'UPDATE_DOWNGRADE',
  'UPDATE_NOT_CONFIRMED',
  'UPDATE_WRITE',
]);
const initCodes = allOf<InitErrorCode>()(['INIT_USAGE', 'INIT_EXISTS']);
const stateDirLockCodes = allOf<StateDirLockErrorCode>()(['STATE_DIR_IN_USE', 'STATE_DIR_LOCK_FAILED']);
const serviceCodes = allOf<ServiceErrorCode>()([
  'SERVICE_UNSUPPORTED',
  'SERVICE_NEEDS_ROOT',
  'SERVICE_EXISTS',
  'SERVICE_NOT_INSTALLED',
]);
const statusCodes = allOf<StatusErrorCode>()([
  'STATUS_UNREACHABLE',
  'STATUS_TIMEOUT',
  'STATUS_UNAUTHORIZED',
  'STATUS_HTTP',
  'STATUS_BAD_RESPONSE',
]);
const healthCodes = allOf<HealthServerErrorCode>()([
  'HEALTH_SERVER_OPTION',
  'HEALTH_PORT_IN_USE',
  'HEALTH_LISTEN_FAILED',
]);
const dockerCodes = allOf<DockerBackendErrorCode>()([
  'DOCKER_API',
  'DOCKER_IMAGE_MISSING',
  'DOCKER_PULL_FAILED',
  'DOCKER_START_FAILED',
  'DOCKER_NOT_OWNED',
  'DOCKER_INVALID_HOST',
  'DOCKER_TLS_FILE',
  'DOCKER_TLS',
  'DOCKER_AUTH',
  'DOCKER_NO_HOST',
  'DOCKER_HOST_TOO_SMALL',
  'DOCKER_CLOSED',
]);
const tartCodes = allOf<TartErrorCode>()([
  'TART_COMMAND_FAILED',
  'TART_BOOT_FAILED',
  'TART_IMAGE_UNAVAILABLE',
  'TART_STATE_CORRUPT',
]);
const dedalusBackendCodes = allOf<DedalusBackendErrorCode>()([
  'DEDALUS_CONFIG',
  'DEDALUS_STATE_CORRUPT',
  'DEDALUS_PROVISION_FAILED',
  'DEDALUS_MACHINE_FAILED',
  'DEDALUS_EXECUTION_FAILED',
  'DEDALUS_RUNNER_MISSING',
  'DEDALUS_TIMEOUT',
  'DEDALUS_CLOSED',
]);

const hostsCodes = allOf<HostsErrorCode>()(['HOST_UNKNOWN', 'HOST_CORDON_SAVE', 'HOST_UNSUPPORTED']);

const httpInit = (status: number) => ({
  method: 'GET',
  path: '/v1/machines',
  status,
  errorCode: undefined,
  serverMessage: 'x',
  retryable: undefined,
  retryAfterMs: undefined,
  attempts: 1,
});
const actionsHttp = () =>
  new ActionsServiceError({ method: 'GET', url: 'u', status: 500, statusText: '', detail: 'x', body: '' });

/** [error, code, class name] for every class; a parametric class appears once per code. */
const TABLE: [RunnerError, string, string][] = [
  // GitHub protocol client
  [actionsHttp(), 'ACTIONS_HTTP', 'ActionsServiceError'],
  [
    new RetriesExhaustedError('GET', 'u', 1, 503, new Error('x')),
    'RETRIES_EXHAUSTED',
    'RetriesExhaustedError',
  ],
  [new TransportError('GET', 'u', new Error('x')), 'TRANSPORT', 'TransportError'],
  [
    new MessageQueueTokenExpiredError('GET', 'u', actionsHttp()),
    'QUEUE_TOKEN_EXPIRED',
    'MessageQueueTokenExpiredError',
  ],
  [new TokenRefreshError(new Error('x')), 'TOKEN_REFRESH', 'TokenRefreshError'],
  [new ConfigUrlError('x'), 'INVALID_CONFIG_URL', 'ConfigUrlError'],
  [new InvalidResponseError('x'), 'INVALID_RESPONSE', 'InvalidResponseError'],
  [new UndecodableMessageError(1, 'x', 'GET q'), 'UNDECODABLE_MESSAGE', 'UndecodableMessageError'],
  [new InvalidArgumentError('x'), 'INVALID_ARGUMENT', 'InvalidArgumentError'],
  [new SessionClosedError('s'), 'SESSION_CLOSED', 'SessionClosedError'],
  [new RunnerGroupNotFoundError('g'), 'RUNNER_GROUP_NOT_FOUND', 'RunnerGroupNotFoundError'],
  [new JsonDecodeError('x'), 'INVALID_JSON', 'JsonDecodeError'],
  [new WireTimeError('x'), 'INVALID_WIRE_TIME', 'WireTimeError'],
  // core
  [new ListenerError('x'), 'LISTENER_INVALID_SESSION', 'ListenerError'],
  ...healthCodes.map((c): [RunnerError, string, string] => [
    new HealthServerError(c, 'x'),
    c,
    'HealthServerError',
  ]),
  [new ConfigError([]), 'CONFIG_INVALID', 'ConfigError'],
  [new ReleaseUrlError('x'), 'RELEASE_URL', 'ReleaseUrlError'],
  [new UnitValueError('x'), 'UNIT_VALUE', 'UnitValueError'],
  [new PollTimeoutError('x', undefined), 'POLL_TIMEOUT', 'PollTimeoutError'],
  ...updateCodes.map((c): [RunnerError, string, string] => [new UpdateError(c, 'x'), c, 'UpdateError']),
  ...initCodes.map((c): [RunnerError, string, string] => [new InitError(c, 'x'), c, 'InitError']),
  ...serviceCodes.map((c): [RunnerError, string, string] => [new ServiceError(c, 'x'), c, 'ServiceError']),
  ...statusCodes.map((c): [RunnerError, string, string] => [new StatusError(c, 'x'), c, 'StatusError']),
  ...hostsCodes.map((c): [RunnerError, string, string] => [new HostsError(c, 'x'), c, 'HostsError']),
  ...stateDirLockCodes.map((c): [RunnerError, string, string] => [
    new StateDirLockError(c, 'x'),
    c,
    'StateDirLockError',
  ]),
  // backends
  [new BackendCapacityError('x'), 'BACKEND_CAPACITY', 'BackendCapacityError'],
  ...dockerCodes.map((c): [RunnerError, string, string] => [
    new DockerBackendError(c, 'x'),
    c,
    'DockerBackendError',
  ]),
  ...tartCodes.map((c): [RunnerError, string, string] => [new TartError(c, 'x'), c, 'TartError']),
  [new TartCommandError('run', 'vm', 1, ''), 'TART_COMMAND_FAILED', 'TartCommandError'],
  ...dedalusBackendCodes.map((c): [RunnerError, string, string] => [
    new DedalusBackendError(c, 'x'),
    c,
    'DedalusBackendError',
  ]),
  [new DedalusExecutionFailedError('x', 1), 'DEDALUS_EXECUTION_FAILED', 'DedalusExecutionFailedError'],
  [new DedalusHttpError(httpInit(500)), 'DEDALUS_HTTP', 'DedalusHttpError'],
  [new DedalusNotFoundError(httpInit(404)), 'DEDALUS_NOT_FOUND', 'DedalusNotFoundError'],
  [new DedalusConflictError(httpInit(409)), 'DEDALUS_CONFLICT', 'DedalusConflictError'],
  [new DedalusRateLimitedError(httpInit(429)), 'DEDALUS_RATE_LIMITED', 'DedalusRateLimitedError'],
  [new DedalusUnavailableError(httpInit(503)), 'DEDALUS_UNAVAILABLE', 'DedalusUnavailableError'],
  [new DedalusAuthError(httpInit(401)), 'DEDALUS_AUTH', 'DedalusAuthError'],
  [
    new DedalusInvalidResponseError('GET', '/p', 200, 'x'),
    'DEDALUS_INVALID_RESPONSE',
    'DedalusInvalidResponseError',
  ],
  [new DedalusTransportError('GET', '/p', 1, new Error('x')), 'DEDALUS_TRANSPORT', 'DedalusTransportError'],
  [new DedalusInvalidArgumentError('x'), 'DEDALUS_INVALID_ARGUMENT', 'DedalusInvalidArgumentError'],
];

/** Names of every class in src/ and backends/ that derives from RunnerError (directly or not). */
function errorClassesInSource(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) files.push(path);
    }
  };
  walk('src');
  walk('backends');
  const parents = new Map<string, string>();
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/class (\w+) extends (\w+)/g)) {
      parents.set(m[1] as string, m[2] as string);
    }
  }
  const derives = (name: string): boolean => {
    for (let cur = parents.get(name), depth = 0; cur && depth < 10; cur = parents.get(cur), depth++) {
      if (cur === 'RunnerError') return true;
    }
    return false;
  };
  return [...parents.keys()].filter(derives);
}

describe('error codes', () => {
  it('every error carries its literal code and name and extends RunnerError', () => {
    for (const [err, code, name] of TABLE) {
      expect({ code: err.code, name: err.name, base: err instanceof RunnerError }).toEqual({
        code,
        name,
        base: true,
      });
    }
  });

  it('no two classes share a code, except a subclass that narrows its parent', () => {
    const byCode = new Map<string, Set<string>>();
    for (const [, code, name] of TABLE) byCode.set(code, (byCode.get(code) ?? new Set()).add(name));
    const shared = [...byCode]
      .filter(([, names]) => names.size > 1)
      .map(([code, names]) => [code, [...names]]);
    // TartCommandError is the TART_COMMAND_FAILED case of TartError; DedalusExecutionFailedError likewise.
    expect(shared).toEqual([
      ['TART_COMMAND_FAILED', ['TartError', 'TartCommandError']],
      ['DEDALUS_EXECUTION_FAILED', ['DedalusBackendError', 'DedalusExecutionFailedError']],
    ]);
  });

  it('every RunnerError class in the source is in the table', () => {
    const pinned = new Set(TABLE.map(([, , name]) => name));
    const abstract = new Set(['DedalusError']);
    const missing = errorClassesInSource().filter((c) => !pinned.has(c) && !abstract.has(c));
    expect(missing).toEqual([]);
  });
});
