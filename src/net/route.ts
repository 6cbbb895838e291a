import { noProxyMatch } from './no-proxy.js';
import type { NetworkConfig, Route } from './types.js';

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * The route a request to `url` takes: the one decision both the connection pool (src/net/dispatcher.ts)
 * and every message about it use, so what `runner validate` says is what the daemon does.
 */
export function routeFor(net: NetworkConfig, url: string | URL): Route {
  const u = typeof url === 'string' ? new URL(url) : url;
  const proxy = u.protocol === 'https:' ? net.httpsProxy : net.httpProxy;
  if (!proxy) {
    if (net.proxyOff) return { kind: 'direct', why: 'off' };
    if (u.protocol === 'https:' && net.httpProxy) {
      return {
        kind: 'direct',
        why: 'none',
        note: `${net.httpProxy.from} is for http:// URLs only; HTTPS_PROXY or proxy covers https://`,
      };
    }
    return { kind: 'direct', why: 'none' };
  }
  const port = Number(u.port) || DEFAULT_PORTS[u.protocol] || 0;
  const entry = net.noProxy && noProxyMatch(net.noProxy.entries, u.hostname, port);
  if (entry && net.noProxy) return { kind: 'direct', why: 'no-proxy', entry, from: net.noProxy.from };
  return { kind: 'proxy', proxy };
}

export function describeRoute(route: Route): string {
  if (route.kind === 'proxy') {
    const creds = route.proxy.credentials ? ', with credentials' : '';
    return `via proxy ${route.proxy.shown} (${route.proxy.from}${creds})`;
  }
  switch (route.why) {
    case 'no-proxy':
      return `direct (${route.from}: ${route.entry?.text})`;
    case 'off':
      return 'direct (proxy = "")';
    case 'none':
      return route.note ? `direct (${route.note})` : 'direct';
  }
}
