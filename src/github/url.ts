import { scrub } from '../secret.js';

export const API_VERSION = '6.0-preview';

/**
 * Go's url.Values.Encode: keys sorted, values form-encoded (space → '+', every byte outside
 * [A-Za-z0-9-_.~] escaped). Names are encoded properly rather than interpolated raw (§3.1 Go quirk).
 */
export function encodeQuery(params: URLSearchParams): string {
  const keys = [...new Set(params.keys())].sort();
  const parts: string[] = [];
  for (const key of keys) {
    for (const value of params.getAll(key)) parts.push(`${formEncode(key)}=${formEncode(value)}`);
  }
  return parts.join('&');
}

function formEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * Go's URL.JoinPath: the base path prefix is kept (`/tenant/123/` + `_apis/x` → `/tenant/123/_apis/x`),
 * duplicate slashes collapse, and a trailing slash on `path` survives (runner groups need it, §4.1).
 */
export function joinPath(basePath: string, path: string): string {
  const joined = `/${basePath}/${path}`.replace(/\/{2,}/g, '/');
  const trimmed = joined.length > 1 ? joined.replace(/\/+$/, '') : joined;
  return path.endsWith('/') && trimmed !== '/' ? `${trimmed}/` : trimmed;
}

/**
 * `{actions service URL}{path}?{base query ∪ query, api-version}` (§3.1). `path` must already have its
 * dynamic segments encoded (use `pathSegment`).
 */
export function actionsServiceUrl(baseUrl: string, path: string, query: Record<string, string> = {}): string {
  const url = new URL(baseUrl);
  url.pathname = joinPath(url.pathname, path);
  const params = new URLSearchParams(url.search);
  for (const [k, v] of Object.entries(query)) params.set(k, v);
  if (!params.has('api-version')) params.set('api-version', API_VERSION);
  url.search = encodeQuery(params);
  return url.toString();
}

export const pathSegment = (value: string | number): string => encodeURIComponent(String(value));

/** The long-poll URL: `lastMessageId` merged into the queue URL's own query, only when > 0 (§6.1). */
export function messagePollUrl(messageQueueUrl: string, lastMessageId: number): string {
  const url = new URL(messageQueueUrl);
  if (lastMessageId > 0) {
    const params = new URLSearchParams(url.search);
    params.set('lastMessageId', String(lastMessageId));
    url.search = encodeQuery(params);
  }
  return url.toString();
}

/** `{queue URL path}/{messageId}`, the queue URL's query kept (§6.4). */
export function messageAckUrl(messageQueueUrl: string, messageId: number): string {
  const url = new URL(messageQueueUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${messageId}`;
  return url.toString();
}

const SENSITIVE_PARAM = /token|sig|secret|key|code|password|auth/i;

/** A URL fit for logs and error messages: no userinfo, no credential-like query values, no known secrets. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return scrub(raw);
  }
  url.username = '';
  url.password = '';
  const params = new URLSearchParams(url.search);
  const sensitive = [...new Set(params.keys())].filter((key) => SENSITIVE_PARAM.test(key));
  if (sensitive.length > 0) {
    for (const key of sensitive) params.set(key, 'REDACTED');
    url.search = encodeQuery(params);
  }
  return scrub(url.toString());
}
