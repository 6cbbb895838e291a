import { RunnerError } from '../kernel/errors.js';
import { parseStatus, type ShownStatus } from './schema.js';

export type StatusErrorCode =
  | 'STATUS_UNREACHABLE'
  | 'STATUS_TIMEOUT'
  | 'STATUS_UNAUTHORIZED'
  | 'STATUS_HTTP'
  | 'STATUS_BAD_RESPONSE';

export class StatusError extends RunnerError {
  constructor(
    readonly code: StatusErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface StatusTarget {
  /** http://host:port — the health server's base URL. */
  baseUrl: string;
  token?: string;
  /** Where the target came from, for messages: the config file or --url. */
  source: string;
}

export interface FetchedStatus {
  status: ShownStatus;
  /** The body exactly as the daemon sent it, for --json. */
  raw: string;
}

export async function fetchStatus(
  target: StatusTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<FetchedStatus> {
  const url = `${target.baseUrl}/api/status`;
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      headers: target.token ? { authorization: `Bearer ${target.token}` } : {},
    });
  } catch (err) {
    if (timeout.aborted) {
      throw new StatusError(
        'STATUS_TIMEOUT',
        `GET ${url} got no answer within ${timeoutMs / 1000} s; is the host right (${target.source})?`,
        {
          cause: err,
        },
      );
    }
    throw new StatusError(
      'STATUS_UNREACHABLE',
      `nothing answers at ${target.baseUrl} (${target.source}): is runner running? Start it with \`runner run --config <file>\` or \`sudo runner service start\``,
      { cause: err },
    );
  }
  const raw = await res.text();
  if (res.status === 401) {
    throw new StatusError(
      'STATUS_UNAUTHORIZED',
      `${url} wants the health token: runner status sends health-token from the config, or RUNNER_HEALTH_TOKEN with --url`,
    );
  }
  if (!res.ok)
    throw new StatusError(
      'STATUS_HTTP',
      `GET ${url} answered ${res.status} ${res.statusText}: ${raw.slice(0, 200)}`,
    );
  try {
    return { status: parseStatus(JSON.parse(raw)), raw };
  } catch (err) {
    throw new StatusError(
      'STATUS_BAD_RESPONSE',
      `${url} did not return a runner status (${(err as Error).message}); is that port runner's health server?`,
      {
        cause: err,
      },
    );
  }
}
