import { request } from 'undici';
import { type CheckResult, fail, ok } from '../../src/checks/result.js';
import { runCheck } from '../../src/checks/run-check.js';
import { networkAdvice } from '../../src/net/advice.js';
import type { BackendSetup, CheckOptions } from '../module.js';
import type { DedalusConfig } from './config.js';

/** The Dedalus API key, tried with the cheapest read there is: one page of one machine. */
export async function dedalusChecks(
  set: BackendSetup<DedalusConfig>,
  { timeoutMs, signal, network }: CheckOptions,
): Promise<CheckResult[]> {
  const base = set.config.baseUrl.replace(/\/+$/, '');
  const url = `${base}/v1/machines?limit=1`;
  const check = await runCheck(
    {
      id: 'dedalus-api',
      scaleSet: set.scaleSet,
      title: `Dedalus API at ${base} accepts the API key`,
      run: async (sig) => {
        const key = set.config.apiKey;
        if (!key || key.empty)
          return fail('no API key', 'set [dedalus] api-key, or DEDALUS_API_KEY in the environment');
        let status: number;
        try {
          const res = await request(url, {
            method: 'GET',
            headers: { authorization: `Bearer ${key.reveal()}`, accept: 'application/json' },
            signal: sig,
            ...(network ? { dispatcher: network.dispatcher } : {}),
          });
          status = res.statusCode;
          await res.body.dump();
        } catch (err) {
          if (sig.aborted) throw err;
          const advice =
            network &&
            networkAdvice(err, {
              url,
              route: network.route(url),
              urlKey: '[dedalus] base-url',
              caFile: network.config.caFile?.path,
              useSystemCa: network.config.useSystemCa,
            });
          if (advice) return fail(advice.detail, advice.hint);
          return fail(
            `cannot reach ${base}: ${err instanceof Error ? err.message : String(err)}`,
            'check [dedalus] base-url and the network (HTTPS_PROXY if this host needs a proxy)',
          );
        }
        if (status === 200) return ok('GET /v1/machines answered 200');
        if (status === 401 || status === 403) {
          return fail(
            `the key was rejected (${status})`,
            'check [dedalus] api-key: by default it is read from DEDALUS_API_KEY; create a key in the Dedalus dashboard',
          );
        }
        return fail(
          `GET /v1/machines answered ${status}`,
          'check [dedalus] base-url; retry later if the service is down',
        );
      },
    },
    timeoutMs,
    signal,
  );
  return [network ? { ...check, route: `${network.describeRoute(url)}; ${network.trust}` } : check];
}
