import type { Route } from './types.js';

/** What went wrong below HTTP, said for a person, and what to change. */
export interface NetworkAdvice {
  detail: string;
  hint: string;
}

export interface AdviceContext {
  /** The URL the failed request was for. */
  url: string;
  route: Route;
  /** The key that names the server, for "use the name the certificate has in …": `url`, `[dedalus] base-url`. */
  urlKey: string;
  caFile: string | undefined;
  useSystemCa: boolean;
}

/** OpenSSL's ways of saying "signed by a CA I do not trust". */
const UNKNOWN_CA = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);
const HOSTNAME_MISMATCH = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const CANNOT_CONNECT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The advice for a failed request, or undefined when the error is not about the network (an HTTP
 * status, a bad answer): a 407 or a refused CONNECT from the proxy, a proxy that does not answer, a
 * certificate from an unknown authority, for another name, or expired.
 */
export function networkAdvice(err: unknown, ctx: AdviceContext): NetworkAdvice | undefined {
  const chain = causes(err);
  const codes = chain.map((e) => (e as { code?: unknown }).code).filter((c) => typeof c === 'string');
  const target = new URL(ctx.url);
  const where = `${target.hostname}:${target.port || (target.protocol === 'https:' ? '443' : '80')}`;
  const viaProxy = ctx.route.kind === 'proxy' ? ctx.route.proxy : undefined;

  const proxyStatus = proxyAnswer(chain);
  if (proxyStatus !== undefined && viaProxy) {
    // 407 is the standard answer; some proxies (tinyproxy) answer 401 to wrong credentials.
    if (proxyStatus === 407 || proxyStatus === 401) {
      const reason = proxyStatus === 407 ? 'Proxy Authentication Required' : 'Unauthorized';
      return {
        detail: `proxy ${viaProxy.shown} answered ${proxyStatus} ${reason}`,
        hint: viaProxy.credentials
          ? `the proxy rejected the user and password in the proxy URL (from ${viaProxy.from}): check them (special characters must be percent-encoded)`
          : `the proxy wants credentials: give them in the proxy URL, http://user:password@host:port (in ${viaProxy.from}; proxy = "env:VAR" keeps them out of the config file)`,
      };
    }
    return {
      detail: `proxy ${viaProxy.shown} refused to connect to ${where} (it answered ${proxyStatus} to CONNECT)`,
      hint: `the proxy does not let this host or port through: ask for CONNECT to ${where} to be allowed, or add ${target.hostname} to no-proxy (or NO_PROXY) if it is reachable directly`,
    };
  }

  const code = codes.find((c) => UNKNOWN_CA.has(c));
  if (code) {
    const inspecting = viaProxy
      ? ` A proxy that inspects TLS (${viaProxy.shown}) shows its own CA: that is the one to add.`
      : '';
    const hint = ctx.caFile
      ? `ca-file ${ctx.caFile} does not hold the CA that signed ${target.hostname}'s certificate: add that CA (and any intermediate) to the bundle${ctx.useSystemCa ? '' : ', or set use-system-ca = true if the operating system trusts it'}.${inspecting}`
      : `if ${target.hostname} uses a private CA (GitHub Enterprise Server, an internal API), set ca-file to a PEM bundle of that CA, or use-system-ca = true when the operating system already trusts it.${inspecting}`;
    return {
      detail: `the certificate of ${target.hostname} is signed by an unknown authority (${code})`,
      hint,
    };
  }

  const mismatch = chain.find((e) => HOSTNAME_MISMATCH.has(String((e as { code?: unknown }).code)));
  if (mismatch) {
    return {
      detail: `the certificate of ${where} is not valid for the name ${target.hostname}: ${(mismatch as Error).message}`,
      hint: `use in ${ctx.urlKey} the host name the certificate is issued for, or have the certificate reissued with ${target.hostname} in its subjectAltName`,
    };
  }

  const expired = codes.find((c) => EXPIRED.has(c));
  if (expired) {
    return {
      detail: `the certificate of ${target.hostname} is ${expired === 'CERT_HAS_EXPIRED' ? 'expired' : 'not valid yet'}`,
      hint: "renew the server's certificate, and check this host's clock",
    };
  }

  const unreachable = codes.find((c) => CANNOT_CONNECT.has(c));
  if (unreachable && viaProxy) {
    return {
      detail: `cannot connect to the proxy ${viaProxy.shown} (${unreachable})`,
      hint: `check the proxy URL (from ${viaProxy.from}): its host and port, and that the proxy runs and accepts connections from this host`,
    };
  }
  if (unreachable) {
    const proxyNote =
      ctx.route.kind === 'direct' && ctx.route.why === 'no-proxy'
        ? ` It was tried directly because ${ctx.route.from} lists ${ctx.route.entry?.text}: remove it if ${target.hostname} is only reachable through the proxy.`
        : ' If this host needs a proxy, set HTTPS_PROXY or proxy.';
    return {
      detail: `cannot connect to ${where} (${unreachable})`,
      hint: `check the host in ${ctx.urlKey}, DNS and the firewall.${proxyNote}`,
    };
  }
  return undefined;
}

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < 8 && cur instanceof Error; depth++) {
    out.push(cur);
    if (cur instanceof AggregateError) out.push(...cur.errors);
    cur = cur.cause;
  }
  return out;
}

/**
 * The status a proxy answered instead of opening the tunnel. undici says it only in words: "Proxy
 * response (407) !== 200 when HTTP Tunneling" for CONNECT, "Proxy Authentication Required (407)" for a
 * plain http:// request forwarded by the proxy.
 */
export function proxyAnswer(chain: unknown[]): number | undefined {
  for (const e of chain) {
    if (!(e instanceof Error)) continue;
    const m =
      /Proxy response \((\d{3})\)/.exec(e.message) ??
      /Proxy Authentication Required \((\d{3})\)/.exec(e.message);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** The proxy's answer anywhere in an error's causes: for the retry policy (a 407 does not fix itself). */
export function proxyStatusOf(err: unknown): number | undefined {
  return proxyAnswer(causes(err));
}
