import { ConfigUrlError } from './errors.js';

export type ConfigScope =
  | { kind: 'organization'; organization: string }
  | { kind: 'repository'; organization: string; repository: string }
  | { kind: 'enterprise'; enterprise: string };

/** A parsed registration URL (§1). */
export interface ConfigUrl {
  /** The input with leading/trailing slashes trimmed: sent as `url` to runner-registration. */
  readonly url: string;
  readonly scope: ConfigScope;
  /** github.com, www.github.com, github.localhost, *.ghe.com, unless GITHUB_ACTIONS_FORCE_GHES is set. */
  readonly isHosted: boolean;
  /** `https://api.github.com` or `<scheme>://<host>/api/v3`, without a trailing slash. */
  readonly apiBaseUrl: string;
}

/** True for a github.com (or GHE.com) URL; false for GHES, and for a URL that does not parse. */
export function isHostedUrl(raw: string): boolean {
  try {
    return parseConfigUrl(raw).isHosted;
  } catch {
    return false;
  }
}

const EXAMPLE =
  "e.g. 'https://github.com/org/repo', 'https://github.com/org' or 'https://github.com/enterprises/name'";

export function parseConfigUrl(raw: string, env: NodeJS.ProcessEnv = process.env): ConfigUrl {
  // Trimmed as a whole string, like Go's strings.Trim(in, "/"), so "https://github.com/org/" works.
  const trimmed = raw.trim().replace(/^\/+|\/+$/g, '');
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw invalid(raw, 'not an absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw invalid(raw, `unsupported scheme "${parsed.protocol.replace(/:$/, '')}"`);
  }
  const segments = parsed.pathname
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .map(safeDecode);
  const scope = scopeOf(segments);
  if (!scope) throw invalid(raw, 'it should point to an enterprise, org, or repository');
  const isHosted = hostIsHosted(parsed.hostname) && env.GITHUB_ACTIONS_FORCE_GHES === undefined;
  return { url: trimmed, scope, isHosted, apiBaseUrl: apiBase(parsed, isHosted) };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function scopeOf(segments: string[]): ConfigScope | undefined {
  const [first, second] = segments;
  if (segments.length === 1 && first) return { kind: 'organization', organization: first };
  if (segments.length !== 2 || !first || !second) return undefined;
  if (first.toLowerCase() === 'enterprises') return { kind: 'enterprise', enterprise: second };
  return { kind: 'repository', organization: first, repository: second };
}

function hostIsHosted(hostname: string): boolean {
  const host = hostname.toLowerCase();
  // The .ghe.com suffix test is case-sensitive in Go; URL parsing lower-cases hosts anyway.
  return (
    host === 'github.com' ||
    host === 'www.github.com' ||
    host === 'github.localhost' ||
    host.endsWith('.ghe.com')
  );
}

function apiBase(url: URL, isHosted: boolean): string {
  if (!isHosted) return `${url.protocol}//${url.host}/api/v3`;
  const host = url.hostname.toLowerCase() === 'www.github.com' ? 'github.com' : url.hostname;
  const port = url.port ? `:${url.port}` : '';
  return `${url.protocol}//api.${host}${port}`;
}

/** `POST {api}{path}` of §2.3 for the URL's scope. */
export function registrationTokenPath(scope: ConfigScope): string {
  const seg = encodeURIComponent;
  switch (scope.kind) {
    case 'organization':
      return `/orgs/${seg(scope.organization)}/actions/runners/registration-token`;
    case 'repository':
      return `/repos/${seg(scope.organization)}/${seg(scope.repository)}/actions/runners/registration-token`;
    case 'enterprise':
      return `/enterprises/${seg(scope.enterprise)}/actions/runners/registration-token`;
  }
}

/** A GitHub REST API URL: `{apiBaseUrl}{path}`. */
export function gitHubApiUrl(config: ConfigUrl, path: string): string {
  return `${config.apiBaseUrl}${path.startsWith('/') ? path : `/${path}`}`;
}

function invalid(raw: string, why: string): ConfigUrlError {
  return new ConfigUrlError(
    `invalid config URL "${raw}": ${why}; it should be the full URL of where you want to register your scale set, ${EXAMPLE}`,
  );
}
