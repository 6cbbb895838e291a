import { createHash } from 'node:crypto';
import { NetworkDispatcher } from './dispatcher.js';
import { describeRoute, routeFor } from './route.js';
import { describeTrust } from './tls.js';
import type { NetworkAccess, NetworkConfig } from './types.js';

/**
 * The daemon's connection pools, one per distinct network setting: fifty scale sets behind the same
 * proxy and CA share one pool (and its keep-alive connections), and a scale set whose GHES sits behind
 * another proxy gets its own. Never one per request or per client.
 */
export class Networks {
  readonly #byKey = new Map<string, NetworkAccess>();
  readonly #env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.#env = env;
  }

  access(net: NetworkConfig): NetworkAccess {
    const key = settingKey(net);
    const known = this.#byKey.get(key);
    if (known) return known;
    const made = networkAccess(net, new NetworkDispatcher(net), this.#env);
    this.#byKey.set(key, made);
    return made;
  }

  /** How many pools exist (one per distinct setting). */
  get size(): number {
    return this.#byKey.size;
  }

  /**
   * Drops every pool at once, in-flight requests included: for a one-off command whose checks are over
   * (a check abandoned at its deadline may still hold a connection that would keep the process alive).
   */
  async destroy(): Promise<void> {
    const all = [...this.#byKey.values()];
    this.#byKey.clear();
    await Promise.all(all.map((a) => a.dispatcher.destroy()));
  }

  /** Closes every pool; in-flight requests finish first. */
  async close(): Promise<void> {
    const all = [...this.#byKey.values()];
    this.#byKey.clear();
    await Promise.all(all.map((a) => a.dispatcher.close()));
  }
}

export function networkAccess(
  net: NetworkConfig,
  dispatcher: NetworkAccess['dispatcher'],
  env: NodeJS.ProcessEnv = process.env,
): NetworkAccess {
  return {
    config: net,
    dispatcher,
    route: (url) => routeFor(net, url),
    describeRoute: (url) => describeRoute(routeFor(net, url)),
    trust: describeTrust(net, env),
  };
}

/**
 * Equal settings, equal key. Hashed, so the map holds no proxy credentials in clear; the CA bundle by
 * content, so two scale sets naming the same file share a pool.
 */
function settingKey(net: NetworkConfig): string {
  const canonical = JSON.stringify([
    net.httpProxy && [net.httpProxy.url.reveal(), net.httpProxy.from],
    net.httpsProxy && [net.httpsProxy.url.reveal(), net.httpsProxy.from],
    net.proxyOff,
    net.noProxy && [net.noProxy.from, net.noProxy.entries.map((e) => e.text)],
    net.caFile && [net.caFile.path, net.caFile.certificates],
    net.useSystemCa,
    net.insecureSkipTlsVerify,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
