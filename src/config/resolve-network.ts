import { parseNoProxy } from '../net/no-proxy.js';
import { PROXY_URL_EXPECTED, type ProxyEndpoint, proxyEndpoint } from '../net/proxy-url.js';
import { parseCaBundle } from '../net/tls.js';
import type { CaFile, NetworkConfig } from '../net/types.js';
import { SecretRef } from '../schema/secret-ref.js';
import type { Checker } from './checker.js';
import type { ScaleSetSettings } from './schema.js';

type NetworkSettings = Pick<
  ScaleSetSettings,
  'proxy' | 'no-proxy' | 'ca-file' | 'use-system-ca' | 'insecure-skip-tls-verify'
>;

/**
 * The network of scale set `set` (undefined: the top level, for `runner update`). Each key beats its
 * environment variable: `proxy` beats HTTPS_PROXY and HTTP_PROXY (lower case first, as undici and curl
 * read them), `no-proxy` beats NO_PROXY. Undefined when a problem was recorded.
 */
export async function resolveNetwork(
  s: NetworkSettings,
  set: number | undefined,
  c: Checker,
): Promise<NetworkConfig | undefined> {
  let ok = true;
  const env = c.io.env;
  let httpProxy: ProxyEndpoint | undefined | null;
  let httpsProxy: ProxyEndpoint | undefined | null;
  let proxyOff = false;
  if (s.proxy !== undefined) {
    const text = proxyText(s.proxy, set, c);
    if (text === undefined) ok = false;
    else if (text.trim() === '') proxyOff = true;
    else {
      const endpoint = proxyEndpoint(text, 'proxy');
      if (endpoint) httpProxy = httpsProxy = endpoint;
      else {
        // Only an "env:VAR" can get here: a literal was checked by the schema.
        c.problem(
          set,
          ['proxy'],
          `expected ${PROXY_URL_EXPECTED}, got a value that is not one (from ${s.proxy})`,
        );
        ok = false;
      }
    }
  } else {
    httpsProxy = fromEnv(env, 'https_proxy', 'HTTPS_PROXY', c);
    httpProxy = fromEnv(env, 'http_proxy', 'HTTP_PROXY', c);
    if (httpsProxy === null || httpProxy === null) ok = false;
  }

  const noProxyVar = firstSet(env, 'no_proxy', 'NO_PROXY');
  const noProxy =
    s['no-proxy'] !== undefined
      ? { entries: parseNoProxy(s['no-proxy']), from: 'no-proxy' }
      : noProxyVar
        ? { entries: parseNoProxy(env[noProxyVar] ?? ''), from: noProxyVar }
        : undefined;

  const caFile = s['ca-file'].trim() === '' ? undefined : await readCaFile(s['ca-file'], set, c);
  if (caFile === null) ok = false;
  if (!ok) return undefined;
  return {
    httpProxy: httpProxy ?? undefined,
    httpsProxy: httpsProxy ?? undefined,
    proxyOff,
    noProxy,
    caFile: caFile ?? undefined,
    useSystemCa: s['use-system-ca'],
    insecureSkipTlsVerify: s['insecure-skip-tls-verify'],
  };
}

function proxyText(value: string | SecretRef, set: number | undefined, c: Checker): string | undefined {
  if (!(value instanceof SecretRef)) return value;
  return c.secret(value, set, ['proxy'])?.reveal();
}

/** The proxy of one variable pair; null after recording a value that is not a proxy URL. */
function fromEnv(
  env: NodeJS.ProcessEnv,
  lower: string,
  upper: string,
  c: Checker,
): ProxyEndpoint | undefined | null {
  const name = firstSet(env, lower, upper);
  if (!name) return undefined;
  const endpoint = proxyEndpoint(env[name] ?? '', name);
  if (endpoint) return endpoint;
  // The value may hold credentials: it is not repeated.
  c.problems.push({
    source: { kind: 'env', variable: name },
    key: '',
    message: `expected a proxy URL like "http://proxy.example.com:3128" (http or https), got a value that is not one; fix it, or set proxy in the config to override it`,
  });
  return null;
}

/** The lower-case variable wins, as undici and curl read them; an empty one counts as unset. */
function firstSet(env: NodeJS.ProcessEnv, lower: string, upper: string): string | undefined {
  if (env[lower]) return lower;
  if (env[upper]) return upper;
  return undefined;
}

/** The CA bundle, or null after recording why it cannot be used. */
async function readCaFile(value: string, set: number | undefined, c: Checker): Promise<CaFile | null> {
  const path = c.path(set, ['ca-file'], value);
  const text = await c.read(set, ['ca-file'], path);
  if (text === undefined) return null;
  const bundle = parseCaBundle(text);
  if ('problem' in bundle) {
    c.problem(set, ['ca-file'], `expected a PEM bundle of CA certificates, got ${path}: ${bundle.problem}`);
    return null;
  }
  return { path, certificates: bundle.certificates };
}
