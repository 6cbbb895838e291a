import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** A certificate and its key, PEM, issued by a test CA, with the files they are in. */
export interface Issued {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

/** What the certificate is for: a TLS server (names are its subject alt names) or a TLS client. */
export type CertUsage = 'server' | 'client';

/**
 * A private certificate authority made with `openssl` at test time, in `dir`: what a company's GHES or
 * TLS-inspecting proxy has, and what no trust store on this machine knows.
 */
export class TestPki {
  private constructor(
    readonly dir: string,
    readonly name: string,
    /** Path of the CA certificate (PEM): what `ca-file` names. */
    readonly caFile: string,
    readonly caPem: string,
  ) {}

  static async create(dir: string, name = 'runner-test-ca'): Promise<TestPki> {
    const key = join(dir, `${name}.key`);
    const cert = join(dir, `${name}.pem`);
    await openssl([
      'req',
      '-x509',
      ...ecKey(),
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return new TestPki(dir, name, cert, await readFile(cert, 'utf8'));
  }

  /**
   * A server certificate for `names` (DNS names, or IP addresses such as 127.0.0.1), or with
   * `usage: 'client'` a client certificate whose subject is `names[0]` (Docker's --tlsverify asks for
   * the clientAuth usage).
   */
  async issue(file: string, names: string[], usage: CertUsage = 'server'): Promise<Issued> {
    const base = join(this.dir, file);
    const sans = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    await writeFile(
      `${base}.ext`,
      `subjectAltName=${sans}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=${usage}Auth\n`,
    );
    await openssl([
      'req',
      ...ecKey(),
      '-nodes',
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
      '-subj',
      `/CN=${names[0]}`,
    ]);
    await openssl([
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      this.caFile,
      '-CAkey',
      join(this.dir, `${this.name}.key`),
      '-CAcreateserial',
      '-out',
      `${base}.pem`,
      '-days',
      '2',
      '-extfile',
      `${base}.ext`,
    ]);
    return {
      key: await readFile(`${base}.key`, 'utf8'),
      cert: await readFile(`${base}.pem`, 'utf8'),
      keyFile: `${base}.key`,
      certFile: `${base}.pem`,
    };
  }
}

function ecKey(): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
}

async function openssl(args: string[]): Promise<void> {
  await execa('openssl', args, { stdin: 'ignore' });
}
