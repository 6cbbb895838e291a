import { join } from 'node:path';
import { DockerBackendError } from './errors.js';
import type { DockerHostConfig } from './hosts-config.js';

/**
 * A failure to reach an engine that waiting will not cure, said as what to fix: the TLS file (and the
 * `[[docker.hosts]]` key naming it) or the ssh credentials. Node reports these as OpenSSL codes
 * ("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE") that name neither the
 * host nor the file. Undefined for anything else (refused, reset, a deadline): those are the engine
 * being away, which health retries.
 */
export function explainConnectError(
  host: DockerHostConfig,
  err: unknown,
  env: NodeJS.ProcessEnv = process.env,
): DockerBackendError | undefined {
  const code = errCode(err);
  const text = err instanceof Error ? err.message : String(err);
  const where = `[[docker.hosts]] "${host.name}" (${host.url || 'DOCKER_HOST'})`;
  const files = tlsFilesOf(host, env);
  const tls = (message: string) =>
    new DockerBackendError('DOCKER_TLS', `${where}: ${message} (${code ?? text})`, {
      cause: new Error(text),
    });

  if (code !== undefined && SERVER_NOT_TRUSTED.has(code)) {
    return tls(
      files.ca
        ? `the engine's certificate is not issued by the CA in ${files.ca.key} (${JSON.stringify(files.ca.path)}): set ${files.ca.key} to the CA that issued the engine's certificate (dockerd --tlscert)`
        : `the engine's certificate is not issued by a CA this machine trusts: set tls-ca to the CA that issued it (dockerd --tlscert)`,
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return tls(
      `the engine's certificate is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not valid yet'}: renew it on the engine (dockerd --tlscert), or check this machine's clock`,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return tls(
      `the engine's certificate is not for the host name in url: write url with a name the certificate lists (its subjectAltName), or issue it with this one`,
    );
  }
  if (code !== undefined && CLIENT_REFUSED.test(code)) {
    return tls(
      files.cert
        ? `the engine refused the client certificate in ${files.cert.key} (${JSON.stringify(files.cert.path)}): ${files.cert.key} and its key must be issued by the CA the engine trusts (dockerd --tlscacert)`
        : 'the engine requires a client certificate: set tls-cert and tls-key to one issued by the CA the engine trusts (dockerd --tlscacert)',
    );
  }
  if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') {
    return tls(
      `the private key in ${files.key?.key ?? 'tls-key'} (${JSON.stringify(files.key?.path ?? '')}) is not the key of the certificate in ${files.cert?.key ?? 'tls-cert'} (${JSON.stringify(files.cert?.path ?? '')}): give the key that belongs to that certificate`,
    );
  }
  if (code?.startsWith('ERR_OSSL_PEM_') || code === 'ERR_OSSL_UNSUPPORTED') {
    return tls(
      `a TLS file of this host cannot be read as PEM (${[files.ca, files.cert, files.key]
        .filter((f) => f !== undefined)
        .map((f) => `${f.key} ${JSON.stringify(f.path)}`)
        .join(', ')}): write certificates and an unencrypted key in PEM`,
    );
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(text)) {
    return tls(
      'the engine does not speak TLS on this port: point url at its TLS port (usually 2376), or drop tls-ca, tls-cert and tls-key for a plain tcp:// engine',
    );
  }
  if (statusOf(err) === 400 && /HTTP request to an HTTPS server/i.test(text)) {
    return tls(
      'the engine expects TLS on this port: set tls-ca, tls-cert and tls-key (or use the port it serves plain HTTP on)',
    );
  }
  if ((err as { level?: unknown } | null)?.level === 'client-authentication') {
    const user = userOf(host.url);
    return new DockerBackendError(
      'DOCKER_AUTH',
      `${where}: ssh refused ${user ? `user "${user}"` : 'the login'} (${text}): runner logs in with the keys of the ssh-agent at SSH_AUTH_SOCK (${env.SSH_AUTH_SOCK ? JSON.stringify(env.SSH_AUTH_SOCK) : 'not set'}); add the key there and its public key to that user's authorized_keys on the host`,
      { cause: new Error(text) },
    );
  }
  return undefined;
}

/** The client verifying the engine's certificate failed: the CA file is wrong or missing. */
const SERVER_NOT_TRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/**
 * The engine's TLS alerts about our certificate (OpenSSL 1.1 names alerts after the protocol version
 * that introduced them, OpenSSL 3 "SSL/TLS"): none sent, not issued by its CA, expired, revoked, not
 * acceptable. dockerd (Go) answers a client certificate it does not trust, or none, with "bad
 * certificate".
 */
const CLIENT_REFUSED =
  /^ERR_SSL_(SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_\w+|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|DECRYPT_ERROR)$/;

interface NamedFile {
  key: string;
  path: string;
}

/** Which files this host's TLS comes from, by the key that names them. */
function tlsFilesOf(
  host: DockerHostConfig,
  env: NodeJS.ProcessEnv,
): { ca?: NamedFile; cert?: NamedFile; key?: NamedFile } {
  if (host.tlsCa || host.tlsCert || host.tlsKey) {
    return {
      ...(host.tlsCa ? { ca: { key: 'tls-ca', path: host.tlsCa } } : {}),
      ...(host.tlsCert ? { cert: { key: 'tls-cert', path: host.tlsCert } } : {}),
      ...(host.tlsKey ? { key: { key: 'tls-key', path: host.tlsKey } } : {}),
    };
  }
  // A tcp:// engine without tls-* takes its files from DOCKER_CERT_PATH, as the docker CLI does.
  const dir = env.DOCKER_CERT_PATH;
  if (!dir) return {};
  const named = (file: string): NamedFile => ({ key: `DOCKER_CERT_PATH's ${file}`, path: join(dir, file) });
  return { ca: named('ca.pem'), cert: named('cert.pem'), key: named('key.pem') };
}

function errCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function userOf(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).username) || undefined;
  } catch {
    return undefined;
  }
}
