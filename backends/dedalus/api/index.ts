import { ExecutionsApi } from './executions.js';
import { DedalusHttp, type DedalusHttpOptions } from './http.js';
import { MachinesApi } from './machines.js';
import { UsageApi } from './usage.js';

export * from './errors.js';
export type { DedalusHttpOptions, HttpMethod, SleepFn } from './http.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export * from './schemas.js';
export type { ComputeUsageQuery } from './usage.js';

export const DEFAULT_BASE_URL = 'https://dcs.dedaluslabs.ai';

/** The Dedalus Machines REST API (the npm `dedalus-labs` package is the LLM SDK and has no machines). */
export interface DedalusClient {
  readonly machines: MachinesApi;
  readonly executions: ExecutionsApi;
  readonly usage: UsageApi;
}

export function createDedalusClient(opts: DedalusHttpOptions): DedalusClient {
  const http = new DedalusHttp(opts);
  return { machines: new MachinesApi(http), executions: new ExecutionsApi(http), usage: new UsageApi(http) };
}

export { DedalusHttp, ExecutionsApi, MachinesApi, UsageApi };
