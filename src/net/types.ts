import type { Dispatcher } from 'undici';
import type { NoProxyEntry } from './no-proxy.js';
import type { ProxyEndpoint } from './proxy-url.js';

export type { NoProxyEntry } from './no-proxy.js';
export type { ProxyEndpoint } from './proxy-url.js';

/**
 * How the daemon reaches the outside: GitHub (REST, App auth, the Actions service, the broker), the
 * Dedalus API and the release server of `runner update`. Resolved from the config keys `proxy`,
 * `no-proxy`, `ca-file`, `use-system-ca` and `insecure-skip-tls-verify`, and from HTTPS_PROXY,
 * HTTP_PROXY and NO_PROXY (either case) where the keys are unset.
 */
export interface NetworkConfig {
  /**
   * For http:// URLs: `proxy`, else http_proxy / HTTP_PROXY. Undefined: direct.
   */
  readonly httpProxy: ProxyEndpoint | undefined;
  /**
   * For https:// URLs: `proxy`, else https_proxy / HTTPS_PROXY. Never HTTP_PROXY (as in Go and curl;
   * undici's EnvHttpProxyAgent would fall back to it). Undefined: direct.
   */
  readonly httpsProxy: ProxyEndpoint | undefined;
  /** Set when `proxy = ""` turned the environment's proxies off. */
  readonly proxyOff: boolean;
  readonly noProxy: { readonly entries: readonly NoProxyEntry[]; readonly from: string } | undefined;
  /** `ca-file`: added to the roots Node trusts. */
  readonly caFile: CaFile | undefined;
  /** `use-system-ca`: the operating system's trust store added too. */
  readonly useSystemCa: boolean;
  /** `insecure-skip-tls-verify`: no certificate is checked. Warned about wherever it is on. */
  readonly insecureSkipTlsVerify: boolean;
}

export interface CaFile {
  /** Absolute path, for messages. */
  readonly path: string;
  /** Each certificate of the bundle, as PEM. */
  readonly certificates: readonly string[];
}

/** The network of no configuration and no environment: direct, Node's own roots. */
export const DIRECT_NETWORK: NetworkConfig = Object.freeze({
  httpProxy: undefined,
  httpsProxy: undefined,
  proxyOff: false,
  noProxy: undefined,
  caFile: undefined,
  useSystemCa: false,
  insecureSkipTlsVerify: false,
});

/** How one request goes out. */
export type Route =
  | { readonly kind: 'proxy'; readonly proxy: ProxyEndpoint }
  | {
      readonly kind: 'direct';
      /** `no-proxy`: an entry of it matched; `off`: proxy = ""; `none`: no proxy for this scheme. */
      readonly why: 'no-proxy' | 'off' | 'none';
      readonly entry?: NoProxyEntry;
      readonly from?: string;
      /** A note for `none`, e.g. that HTTP_PROXY does not apply to https:// URLs. */
      readonly note?: string;
    };

/**
 * One network setting in use: its shared connection pool and the words for it. Every client of the
 * same setting gets the same `dispatcher` (one pool, however many scale sets use it).
 */
export interface NetworkAccess {
  readonly config: NetworkConfig;
  readonly dispatcher: Dispatcher;
  route(url: string | URL): Route;
  /** "via proxy http://proxy:3128 (HTTPS_PROXY)", "direct (NO_PROXY: .corp)", "direct". */
  describeRoute(url: string | URL): string;
  /** "CA: file /etc/runner/ca.pem + system", or the warning that verification is off. */
  readonly trust: string;
}
