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
  return askDaemon(target, { path: '/api/status', timeoutMs, signal, what: 'a runner status' }, (json) =>
    parseStatus(json),
  ).then(({ value, raw }) => ({ status: value, raw }));
}

export interface DaemonRequest {
  path: string;
  method?: 'GET' | 'POST';
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** What a right answer is, for the message when it is not: "a runner status". */
  what: string;
}

/**
 * One request to the daemon's health API with the target's token; errors say what to do. An answer
 * with an `error` field (a refused cordon…) is thrown with that text.
 */
export async function askDaemon<T>(
  target: StatusTarget,
  req: DaemonRequest,
  parse: (json: unknown) => T,
): Promise<{ value: T; raw: string }> {
  const url = `${target.baseUrl}${req.path}`;
  const method = req.method ?? 'GET';
  const timeout = AbortSignal.timeout(req.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      signal: req.signal ? AbortSignal.any([timeout, req.signal]) : timeout,
      headers: target.token ? { authorization: `Bearer ${target.token}` } : {},
    });
  } catch (err) {
    if (timeout.aborted) {
      throw new StatusError(
        'STATUS_TIMEOUT',
        `${method} ${url} got no answer within ${req.timeoutMs / 1000} s; is the host right (${target.source})?`,
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
      `${url} wants the health token: runner sends health-token from the config, or RUNNER_HEALTH_TOKEN with --url`,
    );
  }
  if (!res.ok) {
    const said = errorOf(raw);
    throw new StatusError(
      'STATUS_HTTP',
      said ?? `${method} ${url} answered ${res.status} ${res.statusText}: ${raw.slice(0, 200)}`,
    );
  }
  try {
    return { value: parse(JSON.parse(raw)), raw };
  } catch (err) {
    throw new StatusError(
      'STATUS_BAD_RESPONSE',
      `${url} did not return ${req.what} (${(err as Error).message}); is that port runner's health server?`,
      {
        cause: err,
      },
    );
  }
}

/** The daemon's own words in an error answer (`{"error": "…"}`), when it sent some. */
function errorOf(raw: string): string | undefined {
  try {
    const e = (JSON.parse(raw) as { error?: unknown }).error;
    return typeof e === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}
