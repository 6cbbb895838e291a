/**
 * One line of the `runner validate` checklist, and the helpers that make one. Shared by the daemon-wide
 * checks (src/validate) and each backend's own (backends/<kind>/validate.ts).
 */
export interface CheckResult {
  /** Stable id for --json consumers: `config`, `github`, `runner-group`, `docker-engine`, … */
  id: string;
  /** Scale set the check belongs to; absent for daemon-wide checks. */
  scaleSet?: string;
  /** What was checked, phrased as the good outcome ("runner group "default" exists"). */
  title: string;
  /**
   * `skip`: not run because a check it depends on failed (the failure is already reported). `warn`:
   * works, but deserves a look (e.g. TLS verification turned off); never makes validate fail.
   */
  status: 'ok' | 'fail' | 'skip' | 'warn';
  /** What was found: a version, an id, or the error. */
  detail?: string;
  /** What to do next, on a failure or a warning. */
  hint?: string;
  /**
   * For a check that made a request: how it went out and what it trusted, e.g. "via proxy
   * http://proxy:3128 (HTTPS_PROXY); CA: file /etc/runner/ca.pem + system + Node's bundled roots".
   */
  route?: string;
  ms?: number;
}

/** The result of a check before its id, scale set and timing are added. */
export type Outcome = Pick<CheckResult, 'status' | 'detail' | 'hint'> & { title?: string };

export const ok = (detail?: string, title?: string): Outcome => ({
  status: 'ok',
  ...(detail !== undefined ? { detail } : {}),
  ...(title !== undefined ? { title } : {}),
});

export const fail = (detail: string, hint?: string): Outcome => ({
  status: 'fail',
  detail,
  ...(hint !== undefined ? { hint } : {}),
});

export const skip = (detail: string): Outcome => ({ status: 'skip', detail });
