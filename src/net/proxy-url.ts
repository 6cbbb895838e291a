import { registerSecret, Secret } from '../secret.js';

/** What a proxy setting must look like, for config messages. */
export const PROXY_URL_EXPECTED =
  'a proxy URL like "http://proxy.example.com:3128" (http or https; credentials as http://user:password@host:port), "env:VAR" to read it from the environment, or "" for none';

/**
 * One proxy the daemon sends requests through. The URL may hold credentials, so it is a Secret (and
 * its parts are registered for scrubbing); everything printed uses `shown`, which never has them.
 */
export interface ProxyEndpoint {
  /** The full URL as undici's ProxyAgent takes it, credentials included. */
  readonly url: Secret;
  /** `http://proxy.example.com:3128`: scheme, host and port only. */
  readonly shown: string;
  /** Where it was set: `proxy` (the config key), `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY`, `http_proxy`. */
  readonly from: string;
  /** True when the URL carries a user name (and maybe a password) for Basic proxy authentication. */
  readonly credentials: boolean;
}

/**
 * The URL of a proxy setting, or undefined when it is not one. A value without a scheme
 * (`proxy.corp:3128`, common in HTTP_PROXY) is taken as http://, as Go's and curl's readers do.
 * Only http and https proxies: undici also speaks SOCKS5, but nothing here tests it.
 */
export function parseProxyUrl(text: string): URL | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.hostname === '') return undefined;
  // A proxy is an origin: a path or query would be silently dropped by the agent, so it is a mistake.
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') return undefined;
  return url;
}

/** True when the text is a proxy URL with a password in it: a secret when written in a file. */
export function hasProxyPassword(text: string): boolean {
  return (parseProxyUrl(text)?.password ?? '') !== '';
}

/** The endpoint for a valid proxy URL (see parseProxyUrl), its credentials registered as secrets. */
export function proxyEndpoint(text: string, from: string): ProxyEndpoint | undefined {
  const url = parseProxyUrl(text);
  if (!url) return undefined;
  const credentials = url.username !== '';
  if (credentials) registerCredentials(url);
  const shown = `${url.protocol}//${url.host}`;
  return { url: new Secret(url.href.replace(/\/$/, '')), shown, from, credentials };
}

/**
 * Every form the credentials can take on the way out: the password as written and decoded, `user:pass`,
 * and the Basic token undici puts in Proxy-Authorization. Short ones are not scrubbed by substring
 * (src/secret.ts), which is why nothing here ever prints the URL itself.
 */
function registerCredentials(url: URL): void {
  const user = safeDecode(url.username);
  const password = safeDecode(url.password);
  for (const value of [url.password, password, `${user}:${password}`, `${url.username}:${url.password}`]) {
    if (value !== ':' && value !== '') registerSecret(value);
  }
  registerSecret(Buffer.from(`${user}:${password}`).toString('base64'));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
