import { BlockList, isIP } from 'node:net';

/**
 * NO_PROXY, read the way undici's EnvHttpProxyAgent reads it (which is curl's way), plus CIDR ranges
 * as Go's x/net/http/httpproxy has them:
 * - entries are separated by commas or white space; case and a trailing dot do not matter;
 * - `*` alone matches every host (`*:80` only port 80);
 * - `example.com` and `.example.com` match example.com and every name under it;
 * - `*.example.com` matches the names under example.com, not example.com itself;
 * - `host:port` (`[::1]:443` for IPv6) matches that port only; without a port, any port;
 * - an IP address matches that address written as the host; `10.0.0.0/8` or `fd00::/8` matches every
 *   address in the range written as the host (a name is never resolved to be compared, as in Go).
 * Unlike Go, loopback is not special: `localhost` goes through the proxy unless NO_PROXY lists it
 * (as with curl and undici), so a proxy in front of a local service can be tested.
 */

export interface NoProxyEntry {
  /** The entry as written, for "direct (NO_PROXY: .corp.example)". */
  readonly text: string;
  readonly kind: 'all' | 'name' | 'range';
  /** Lower case, without brackets, leading `*.`/`.` or trailing dot (kind `name`). */
  readonly host: string;
  /** `*.example.com`: names under it only. */
  readonly subdomainsOnly: boolean;
  /** 0: any port. */
  readonly port: number;
  readonly range?: BlockList;
}

export function parseNoProxy(value: string | readonly string[]): NoProxyEntry[] {
  const parts = typeof value === 'string' ? value.split(/[,\s]+/) : value.flatMap((v) => v.split(/[,\s]+/));
  return parts.filter((p) => p.length > 0).map(parseEntry);
}

function parseEntry(text: string): NoProxyEntry {
  const cidr = parseCidr(text);
  if (cidr) return { text, kind: 'range', host: text, subdomainsOnly: false, port: 0, range: cidr };
  let host: string;
  let port = 0;
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2] ? Number(bracketed[2]) : 0;
  } else {
    // A bare IPv6 address has several colons; only `name:port` has exactly one.
    const withPort = (text.match(/:/g) ?? []).length === 1 ? /^(.+):(\d+)$/.exec(text) : null;
    host = withPort ? (withPort[1] ?? '') : text;
    port = withPort ? Number(withPort[2]) : 0;
  }
  if (host === '*') return { text, kind: 'all', host: '*', subdomainsOnly: false, port };
  const subdomainsOnly = host.startsWith('*.');
  const name = host
    .replace(/^\*?\./, '')
    .replace(/^(.+)\.$/, '$1')
    .toLowerCase();
  return { text, kind: 'name', host: name, subdomainsOnly, port };
}

function parseCidr(text: string): BlockList | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const address = m[1] ?? '';
  const bits = Number(m[2]);
  const family = isIP(address);
  if (family === 0 || bits > (family === 4 ? 32 : 128)) return undefined;
  const list = new BlockList();
  list.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
  return list;
}

/** The URL's host as entries compare it: lower case, no brackets, no trailing dot. */
export function normalizeHost(hostname: string): string {
  const bare = hostname.replace(/^\[(.+)\]$/, '$1').toLowerCase();
  return bare.length > 1 && bare.endsWith('.') ? bare.slice(0, -1) : bare;
}

/** The first entry that keeps `host:port` off the proxy, if any. */
export function noProxyMatch(
  entries: readonly NoProxyEntry[],
  hostname: string,
  port: number,
): NoProxyEntry | undefined {
  const host = normalizeHost(hostname);
  const family = isIP(host);
  return entries.find((e) => {
    if (e.port !== 0 && e.port !== port) return false;
    if (e.kind === 'all') return true;
    if (e.kind === 'range') {
      return family !== 0 && (e.range?.check(host, family === 4 ? 'ipv4' : 'ipv6') ?? false);
    }
    return (!e.subdomainsOnly && host === e.host) || host.endsWith(`.${e.host}`);
  });
}
