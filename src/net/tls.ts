import { X509Certificate } from 'node:crypto';
import { getCACertificates } from 'node:tls';
import type { NetworkConfig } from './types.js';

/** The TLS options of every connection of a network setting (to the server, and to an https proxy). */
export interface TlsOptions {
  /** Undefined: Node's default roots (its bundled ones, plus NODE_EXTRA_CA_CERTS). */
  ca?: string[];
  rejectUnauthorized: boolean;
}

/**
 * `ca-file` and `use-system-ca` add to what Node trusts by default, never replace it: a private CA
 * for GHES must not cost the trust in api.github.com or the Dedalus API. The system store is the
 * one Go uses (on Linux the OpenSSL files, SSL_CERT_FILE and SSL_CERT_DIR honoured; the keychain on
 * macOS), read by Node's own `tls.getCACertificates('system')`.
 */
export function tlsOptions(net: NetworkConfig): TlsOptions {
  const rejectUnauthorized = !net.insecureSkipTlsVerify;
  if (!net.caFile && !net.useSystemCa) return { rejectUnauthorized };
  const ca = [...getCACertificates('default')];
  if (net.useSystemCa) ca.push(...getCACertificates('system'));
  if (net.caFile) ca.push(...net.caFile.certificates);
  return { ca, rejectUnauthorized };
}

/** "CA: file /etc/runner/ca.pem + system", "CA: Node's bundled roots", or the warning when checks are off. */
export function describeTrust(net: NetworkConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (net.insecureSkipTlsVerify) {
    return 'TLS certificates NOT verified (insecure-skip-tls-verify = true)';
  }
  const parts: string[] = [];
  if (net.caFile) parts.push(`file ${net.caFile.path}`);
  if (net.useSystemCa) parts.push('system');
  parts.push("Node's bundled roots");
  if (env.NODE_EXTRA_CA_CERTS) parts.push(`NODE_EXTRA_CA_CERTS ${env.NODE_EXTRA_CA_CERTS}`);
  return `CA: ${parts.join(' + ')}`;
}

/** The warning logged at start and shown by `runner validate` and `runner status`. */
export const INSECURE_TLS_WARNING =
  'TLS certificate verification is off (insecure-skip-tls-verify = true): anyone on the network path can impersonate GitHub or the Dedalus API and take the tokens sent to them; use ca-file or use-system-ca instead';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The certificates of a PEM bundle, each checked by parsing it; a reason when there are none or one is
 * broken, so `ca-file` pointing at a key, a DER file or a truncated bundle is a config error, not a
 * handshake failure at 3 a.m.
 */
export function parseCaBundle(text: string): { certificates: string[] } | { problem: string } {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    return { problem: 'no PEM certificate in it (expected blocks of -----BEGIN CERTIFICATE-----)' };
  }
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return { problem: `certificate ${i + 1} of ${blocks.length} is not valid: ${(err as Error).message}` };
    }
  }
  return { certificates: blocks };
}
