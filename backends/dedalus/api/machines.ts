import { DedalusInvalidArgumentError, DedalusInvalidResponseError } from './errors.js';
import type { DedalusHttp } from './http.js';
import {
  type CreateMachineBody,
  MACHINE_ID,
  Machine,
  MachineList,
  type UpdateMachineBody,
} from './schemas.js';
import { parseSse } from './sse.js';

/** Most pages `listAll` follows: a server that keeps returning cursors must not loop us forever. */
const MAX_PAGES = 1000;

/** /v1/machines: lifecycle of one machine, and the account-wide list. */
export class MachinesApi {
  constructor(readonly http: DedalusHttp) {}

  /** 200 = converged inline, 202 = accepted; either way the body is the machine. */
  create(body: CreateMachineBody, signal?: AbortSignal, idempotencyKey?: string): Promise<Machine> {
    return this.http.send({
      method: 'POST',
      path: '/v1/machines',
      body,
      schema: Machine,
      signal,
      idempotencyKey,
    });
  }

  retrieve(machineId: string, signal?: AbortSignal): Promise<Machine> {
    return this.http.send({ method: 'GET', path: machinePath(machineId), schema: Machine, signal });
  }

  list(page: { limit?: number; cursor?: string } = {}, signal?: AbortSignal): Promise<MachineList> {
    return this.http.send({ method: 'GET', path: '/v1/machines', query: page, schema: MachineList, signal });
  }

  /**
   * Every machine in the account, following `next_cursor`. Read-only: callers filter by the state
   * file. No `limit` unless asked: the server's maximum page size is not documented.
   */
  async *listAll(signal?: AbortSignal, limit?: number): AsyncIterable<Machine> {
    let cursor: string | undefined;
    const seen = new Set<string>();
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.list({ ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) }, signal);
      yield* res.items;
      if (!res.next_cursor) return;
      if (seen.has(res.next_cursor)) {
        throw new DedalusInvalidResponseError(
          'GET',
          '/v1/machines',
          200,
          `cursor ${res.next_cursor} repeated`,
        );
      }
      seen.add(res.next_cursor);
      cursor = res.next_cursor;
    }
    throw new DedalusInvalidResponseError('GET', '/v1/machines', 200, `more than ${MAX_PAGES} pages`);
  }

  /** Live resize and autosleep. Storage can only grow (server-enforced). */
  update(machineId: string, body: UpdateMachineBody, signal?: AbortSignal): Promise<Machine> {
    return this.http.send({ method: 'PATCH', path: machinePath(machineId), body, schema: Machine, signal });
  }

  /** Permanent: wipes storage. The body may be empty, so the result may be undefined. */
  delete(machineId: string, signal?: AbortSignal): Promise<Machine | undefined> {
    return this.http.send({
      method: 'DELETE',
      path: machinePath(machineId),
      schema: Machine.optional(),
      signal,
    });
  }

  /**
   * May be refused for minutes after a wake: 409 SLEEP_HOLD_WINDOW_ACTIVE with `retry_after_ms` and
   * `details.next_sleep_eligible_at`. `maxRetries: 0` leaves every refusal to the caller, which can
   * defer the sleep rather than wait on it (backends/dedalus/README.md, "The sleep hold window").
   */
  sleep(machineId: string, signal?: AbortSignal, opts: { maxRetries?: number } = {}): Promise<Machine> {
    return this.http.send({
      method: 'POST',
      path: `${machinePath(machineId)}/sleep`,
      schema: Machine,
      signal,
      maxRetries: opts.maxRetries,
    });
  }

  /** Idempotent; may answer before the machine runs (202), so callers still wait for the phase. */
  wake(machineId: string, signal?: AbortSignal): Promise<Machine> {
    return this.http.send({
      method: 'POST',
      path: `${machinePath(machineId)}/wake`,
      schema: Machine,
      signal,
    });
  }

  /**
   * The SSE status stream: one full machine per `status` event. The server closes it once the machine
   * reaches its desired state; `lastEventId` resumes from a resourceVersion bookmark.
   */
  async *watch(machineId: string, signal: AbortSignal, lastEventId?: string): AsyncIterable<Machine> {
    const path = `${machinePath(machineId)}/status/stream`;
    const headers: Record<string, string> = lastEventId ? { 'last-event-id': lastEventId } : {};
    for await (const ev of parseSse(this.http.stream(path, signal, headers))) {
      if (ev.event !== 'status') continue;
      let json: unknown;
      try {
        json = JSON.parse(ev.data) as unknown;
      } catch {
        throw new DedalusInvalidResponseError('GET', path, 200, 'status event is not JSON');
      }
      const parsed = Machine.safeParse(json);
      if (!parsed.success) {
        throw new DedalusInvalidResponseError('GET', path, 200, parsed.error.issues[0]?.message ?? 'invalid');
      }
      yield parsed.data;
    }
  }
}

/** Ids go into URLs, so anything outside the documented pattern is refused before a request is made. */
export function machinePath(machineId: string): string {
  if (!MACHINE_ID.test(machineId) || machineId.length > 253) {
    throw new DedalusInvalidArgumentError(`invalid machine id ${JSON.stringify(machineId.slice(0, 80))}`);
  }
  return `/v1/machines/${machineId}`;
}
