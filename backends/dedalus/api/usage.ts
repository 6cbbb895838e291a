import type { DedalusHttp } from './http.js';
import { ComputeUsage, type ComputeUsageRow } from './schemas.js';

export interface ComputeUsageQuery {
  machineId?: string;
  /** YYYY-MM-DD (UTC); the server defaults to the first of the month. */
  periodStart?: string;
  periodEnd?: string;
  granularity?: 'hour' | 'day';
}

/** /v1/usage: metered compute per machine (awake seconds, CPU and memory seconds) in hour/day buckets. */
export class UsageApi {
  constructor(readonly http: DedalusHttp) {}

  async compute(q: ComputeUsageQuery = {}, signal?: AbortSignal): Promise<ComputeUsageRow[]> {
    const res = await this.http.send({
      method: 'GET',
      path: '/v1/usage/machines/compute',
      query: {
        machine_id: q.machineId,
        period_start: q.periodStart,
        period_end: q.periodEnd,
        granularity: q.granularity,
      },
      schema: ComputeUsage,
      signal,
    });
    return res.rows;
  }
}
