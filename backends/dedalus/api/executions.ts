import { DedalusInvalidArgumentError } from './errors.js';
import type { DedalusHttp } from './http.js';
import { machinePath } from './machines.js';
import {
  type CreateExecutionBody,
  Execution,
  ExecutionEvents,
  ExecutionList,
  ExecutionOutput,
} from './schemas.js';

type Page = { limit?: number; cursor?: string };

/** /v1/machines/{id}/executions: processes the platform runs (and counts as activity) on a machine. */
export class ExecutionsApi {
  constructor(readonly http: DedalusHttp) {}

  /**
   * Starts a command (execve, no shell). On a sleeping machine the answer may be `wake_in_progress`
   * with `retry_after_ms` (an implicit wake) or a 409; callers wake first and handle both.
   */
  create(machineId: string, body: CreateExecutionBody, signal?: AbortSignal): Promise<Execution> {
    return this.http.send({
      method: 'POST',
      path: `${machinePath(machineId)}/executions`,
      body,
      schema: Execution,
      signal,
    });
  }

  retrieve(machineId: string, executionId: string, signal?: AbortSignal): Promise<Execution> {
    return this.http.send({
      method: 'GET',
      path: executionPath(machineId, executionId),
      schema: Execution,
      signal,
    });
  }

  list(machineId: string, page: Page = {}, signal?: AbortSignal): Promise<ExecutionList> {
    return this.http.send({
      method: 'GET',
      path: `${machinePath(machineId)}/executions`,
      query: page,
      schema: ExecutionList,
      signal,
    });
  }

  /** Lifecycle and output events in `sequence` order, one cursor page at a time. */
  events(
    machineId: string,
    executionId: string,
    page: Page = {},
    signal?: AbortSignal,
  ): Promise<ExecutionEvents> {
    return this.http.send({
      method: 'GET',
      path: `${executionPath(machineId, executionId)}/events`,
      query: page,
      schema: ExecutionEvents,
      signal,
    });
  }

  output(machineId: string, executionId: string, signal?: AbortSignal): Promise<ExecutionOutput> {
    return this.http.send({
      method: 'GET',
      path: `${executionPath(machineId, executionId)}/output`,
      schema: ExecutionOutput,
      signal,
    });
  }

  /**
   * The API does not document whether this kills a running process (backends/dedalus/README.md, "What
   * the API leaves open"): callers must not rely on it
   * and kill the process tree themselves or sleep/delete the machine.
   */
  delete(machineId: string, executionId: string, signal?: AbortSignal): Promise<Execution | undefined> {
    return this.http.send({
      method: 'DELETE',
      path: executionPath(machineId, executionId),
      schema: Execution.optional(),
      signal,
    });
  }
}

/**
 * Execution ids are opaque (the docs give no format), so any id the API handed out is used, escaped as
 * one path segment. Only what no escaping can make safe is refused: empty, and the dot segments that
 * URL parsing would resolve (escaped or not) into another path.
 */
function executionPath(machineId: string, executionId: string): string {
  if (executionId === '' || /^(\.|%2e){1,2}$/i.test(executionId)) {
    throw new DedalusInvalidArgumentError(`invalid execution id ${JSON.stringify(executionId.slice(0, 80))}`);
  }
  return `${machinePath(machineId)}/executions/${encodeURIComponent(executionId)}`;
}
