import { X509Certificate } from 'node:crypto';
import { getCACertificates } from 'node:tls';
import type { Secret } from '../secret.js';
import type { NetworkConfig, ProxyEndpoint } from './types.js';

/**
 * What the runners of a scale set get of its network setting (`runner-env`): a job behind a proxy
 * needs the proxy too, and a job talking to a GHES with a private CA needs that CA.
 * - `network`: the proxy and the CA (the default);
 * - `proxy`: only HTTP_PROXY, HTTPS_PROXY and NO_PROXY (runners that trust the CA already);
 * - `ca`: only the CA (runners that reach the internet another way, e.g. cloud machines);
 * - `none`: nothing; the image, VM or machine brings its own.
 */
export const RUNNER_ENV_CHOICES = ['network', 'proxy', 'ca', 'none'] as const;
export type RunnerEnvChoice = (typeof RUNNER_ENV_CHOICES)[number];

/** A variable of a runner's environment; a proxy URL is a Secret (it may hold credentials). */
export interface RunnerVariable {
  readonly name: string;
  readonly value: Secret | string;
}

/** The two CA files a runner gets, as PEM. */
export interface RunnerCaFiles {
  /**
   * `ca.pem`: the CAs the daemon trusts beyond Node's bundled roots: `ca-file`, and with
   * `use-system-ca` what the host's store has that Node's roots do not. Small, for variables that
   * *add* to a program's own roots (NODE_EXTRA_CA_CERTS), and for a job that installs it itself.
   */
  readonly extra: string;
  /**
   * `bundle.pem`: Node's bundled roots (Mozilla's, as every distribution ships) plus `extra`, for the
   * variables that *replace* a program's CA file: with `extra` alone, git or curl would stop
   * trusting github.com.
   */
  readonly bundle: string;
  /** "ca-file /etc/runner/ca.pem + system store: 3 certificates beyond Node's roots", for logs. */
  readonly from: string;
}

/** What one scale set's runners get: made once per scale set, used by every start. */
export interface RunnerNetwork {
  readonly choice: RunnerEnvChoice;
  /** HTTP_PROXY, HTTPS_PROXY and NO_PROXY, each upper and lower case, since programs disagree on which they read. */
  readonly proxy: readonly RunnerVariable[];
  readonly ca: RunnerCaFiles | undefined;
  /** Says what runners get, never the proxy credentials: "proxy http://proxy:3128 (proxy, with credentials); CA …". */
  readonly description: string;
}

/** The file names inside a runner's CA directory. */
export const RUNNER_CA_FILE = 'ca.pem';
export const RUNNER_CA_BUNDLE = 'bundle.pem';

/**
 * The variables that point programs at the CA files, and which file each gets. Together they cover
 * what a job runs: the runner itself (.NET reads SSL_CERT_FILE on Linux), git (GIT_SSL_CAINFO),
 * JavaScript actions (NODE_EXTRA_CA_CERTS), curl, Python requests and pip. SSL_CERT_DIR is left alone,
 * so OpenSSL, .NET and Go still read the image's own store directory as well.
 */
export const CA_VARIABLES: readonly (readonly [string, typeof RUNNER_CA_FILE | typeof RUNNER_CA_BUNDLE])[] = [
  // Added to Node's own roots, so the small file is enough.
  ['NODE_EXTRA_CA_CERTS', RUNNER_CA_FILE],
  // These replace the program's CA file: they need the public roots too.
  ['SSL_CERT_FILE', RUNNER_CA_BUNDLE],
  ['GIT_SSL_CAINFO', RUNNER_CA_BUNDLE],
  ['CURL_CA_BUNDLE', RUNNER_CA_BUNDLE],
  ['REQUESTS_CA_BUNDLE', RUNNER_CA_BUNDLE],
];

/**
 * The runners' share of a scale set's network. The proxy is the daemon's own route decision (config
 * keys, else its environment; `proxy = ""`: none), so a job reaches GitHub the way the daemon does.
 * The CA is what the daemon trusts beyond Node's roots, from the config keys only: NODE_EXTRA_CA_CERTS
 * in the daemon's own environment is a setting of that Node process and is not passed on.
 * `insecure-skip-tls-verify` is the daemon's alone: runners still verify.
 */
export function runnerNetwork(net: NetworkConfig, choice: RunnerEnvChoice): RunnerNetwork {
  const proxy = choice === 'network' || choice === 'proxy' ? proxyVariables(net) : [];
  const ca = choice === 'network' || choice === 'ca' ? caFiles(net) : undefined;
  return { choice, proxy, ca, description: describe(net, choice, proxy, ca) };
}

function proxyVariables(net: NetworkConfig): RunnerVariable[] {
  const out: RunnerVariable[] = [];
  const add = (name: string, value: Secret | string) => {
    out.push({ name, value }, { name: name.toLowerCase(), value });
  };
  if (net.httpProxy) add('HTTP_PROXY', net.httpProxy.url);
  if (net.httpsProxy) add('HTTPS_PROXY', net.httpsProxy.url);
  // NO_PROXY means nothing without a proxy; with one, the runner bypasses what the daemon bypasses.
  if (out.length > 0 && net.noProxy && net.noProxy.entries.length > 0) {
    add('NO_PROXY', net.noProxy.entries.map((e) => e.text).join(','));
  }
  return out;
}

function caFiles(net: NetworkConfig): RunnerCaFiles | undefined {
  const sources: string[] = [];
  const candidates: string[] = [];
  if (net.caFile) {
    sources.push(`ca-file ${net.caFile.path}`);
    candidates.push(...net.caFile.certificates);
  }
  if (net.useSystemCa) {
    sources.push('system store');
    candidates.push(...getCACertificates('system'));
  }
  if (candidates.length === 0) return undefined;
  const bundled = getCACertificates('bundled');
  const seen = new Set(bundled.map(fingerprint));
  const extra: string[] = [];
  for (const pem of candidates) {
    const fp = fingerprint(pem);
    if (seen.has(fp)) continue;
    seen.add(fp);
    extra.push(pem);
  }
  // A system store with nothing beyond Node's roots gives runners nothing new: pass nothing.
  if (extra.length === 0) return undefined;
  const n = extra.length;
  return {
    extra: pemFile(extra),
    bundle: pemFile([...bundled, ...extra]),
    from: `${sources.join(' + ')}: ${n} certificate${n === 1 ? '' : 's'} beyond Node's roots`,
  };
}

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

function pemFile(certs: readonly string[]): string {
  return certs.map((c) => (c.endsWith('\n') ? c : `${c}\n`)).join('');
}

function describe(
  net: NetworkConfig,
  choice: RunnerEnvChoice,
  proxy: readonly RunnerVariable[],
  ca: RunnerCaFiles | undefined,
): string {
  if (choice === 'none') return 'nothing (runner-env = "none")';
  const parts: string[] = [];
  if (choice !== 'ca') {
    const endpoints = [...new Set([net.httpsProxy, net.httpProxy].filter((p) => p !== undefined))];
    parts.push(proxy.length === 0 ? 'no proxy' : `proxy ${endpoints.map(describeEndpoint).join(', ')}`);
  }
  if (choice !== 'proxy') parts.push(ca ? `CA ${ca.from}` : 'no CA');
  return parts.join('; ');
}

function describeEndpoint(p: ProxyEndpoint): string {
  return `${p.shown} (${p.from}${p.credentials ? ', with credentials' : ''})`;
}

/** The variables pointing at the CA files in `dir` (a directory path in the runner's filesystem). */
export function caVariables(dir: string): [string, string][] {
  return CA_VARIABLES.map(([name, file]) => [name, `${dir}/${file}`]);
}

/**
 * The proxy variables with their values revealed, credentials included (unavoidably: the job needs
 * them). For the environment of the runner only, never a log line or a command line.
 */
export function proxyEnvironment(rn: RunnerNetwork): [string, string][] {
  return rn.proxy.map((v) => [v.name, typeof v.value === 'string' ? v.value : v.value.reveal()]);
}

/** Every variable of the runner's environment: the proxy's and, with a CA, those naming its files in `caDir`. */
export function runnerVariables(rn: RunnerNetwork, caDir: string): [string, string][] {
  return [...proxyEnvironment(rn), ...(rn.ca ? caVariables(caDir) : [])];
}

/**
 * The warning for a proxy runners cannot reach: one on this host's loopback (`http://127.0.0.1:3128`,
 * a local cntlm or px) is, inside a container, a VM or a cloud machine, that runner's own loopback.
 * Only a container on the host's network shares it. Undefined when the runners' proxy is elsewhere.
 */
export function unreachableProxyWarning(
  rn: RunnerNetwork,
  set: { backend: string; docker: { network: string; env: Readonly<Record<string, string>> } },
): string | undefined {
  const docker = set.backend === 'docker';
  if (docker && set.docker.network === 'host') return undefined;
  // A variable `[docker] env` sets is the container's, whatever the daemon's proxy is.
  const overridden = new Set(docker ? Object.keys(set.docker.env).map((k) => k.toUpperCase()) : []);
  const loopback = rn.proxy.find(
    (v) =>
      typeof v.value !== 'string' && !overridden.has(v.name.toUpperCase()) && isLoopbackUrl(v.value.reveal()),
  );
  if (!loopback) return undefined;
  const shown = new URL((loopback.value as Secret).reveal());
  const where =
    { docker: 'a container', tart: 'a VM', dedalus: 'a cloud machine' }[set.backend] ?? 'a runner';
  const own =
    set.backend === 'docker'
      ? '[docker] env HTTPS_PROXY/HTTP_PROXY (or [docker] network = "host")'
      : "the runner's .env file in its runner directory";
  return `runners get ${loopback.name.toUpperCase()}=${shown.protocol}//${shown.host}, this host's loopback: from ${where} it is not reachable. Give runners a proxy address they can reach through ${own}, or set runner-env = "ca" (or "none")`;
}

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\./.test(host);
}
