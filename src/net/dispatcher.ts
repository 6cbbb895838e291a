import { Agent, Dispatcher, ProxyAgent } from 'undici';
import { routeFor } from './route.js';
import { tlsOptions } from './tls.js';
import type { NetworkConfig, ProxyEndpoint } from './types.js';

/** Origins whose route is remembered; a daemon talks to a handful (GitHub, its API, the broker, Dedalus). */
const ROUTE_CACHE_LIMIT = 64;

/**
 * One connection pool per network setting: a direct Agent and one undici ProxyAgent per proxy, picked
 * per request origin by `routeFor` (src/net/route.ts), the same function `runner validate` shows.
 * Our own router rather than undici's EnvHttpProxyAgent: that one reads process.env itself, falls back
 * from HTTPS_PROXY to HTTP_PROXY (Go and curl do not), knows no CIDR in NO_PROXY, and could not say which
 * route it took. The proxying itself (CONNECT, Basic credentials, TLS through the tunnel) is undici's.
 */
export class NetworkDispatcher extends Dispatcher {
  readonly #net: NetworkConfig;
  readonly #direct: Agent;
  readonly #proxies = new Map<ProxyEndpoint, ProxyAgent>();
  readonly #routes = new Map<string, Dispatcher>();

  constructor(net: NetworkConfig) {
    super();
    this.#net = net;
    const tls = tlsOptions(net);
    this.#direct = new Agent({ connect: tls });
    for (const proxy of [net.httpProxy, net.httpsProxy]) {
      if (!proxy || this.#proxies.has(proxy)) continue;
      this.#proxies.set(
        proxy,
        // requestTls: the server's certificate, checked through the tunnel; proxyTls: an https:// proxy's own.
        new ProxyAgent({ uri: proxy.url.reveal(), requestTls: tls, proxyTls: tls }),
      );
    }
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.#agentFor(options.origin).dispatch(options, handler);
  }

  #agentFor(origin: string | URL | undefined): Dispatcher {
    const key = String(origin ?? '');
    const known = this.#routes.get(key);
    if (known) return known;
    let agent: Dispatcher = this.#direct;
    if (origin !== undefined) {
      const route = routeFor(this.#net, origin);
      if (route.kind === 'proxy') agent = this.#proxies.get(route.proxy) ?? this.#direct;
    }
    if (this.#routes.size >= ROUTE_CACHE_LIMIT) this.#routes.clear();
    this.#routes.set(key, agent);
    return agent;
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = Promise.all([
      this.#direct.close(),
      ...[...this.#proxies.values()].map((p) => p.close()),
    ]).then(() => undefined);
    if (!callback) return done;
    done.then(callback, callback);
  }

  override destroy(err: Error | null, callback: () => void): void;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null): Promise<void>;
  override destroy(): Promise<void>;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === 'function' ? null : (a ?? null);
    const callback = typeof a === 'function' ? a : b;
    const agents: Dispatcher[] = [this.#direct, ...this.#proxies.values()];
    const done = Promise.all(agents.map((d) => d.destroy(err))).then(() => undefined);
    if (!callback) return done;
    done.then(callback, callback);
  }
}
