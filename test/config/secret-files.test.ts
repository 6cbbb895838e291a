import { describe, expect, it } from 'vitest';
import { exposure, secretFiles } from '../../src/config/secret-files.js';
import { BASE, load } from './helpers.js';

const ME = { uid: 1000, gid: 1000 };
const RUNNER_GROUP = 990;

describe('which secrets a config file holds', () => {
  it('lists every secret written literally in the file, where it was written, and no env: reference', async () => {
    const config = await load(
      `${BASE}token = "ghp_literal_token_1"
health-token = "env:HEALTH"

[docker.registry-auth]
username = "bot"
password = "registry-password-1"

[[scaleset]]
name = "a"

[[scaleset]]
name = "b"
backend = "dedalus"
[scaleset.dedalus]
api-key = "dk-literal-1234"

[[scaleset]]
name = "c"
token = "env:OTHER_TOKEN"
`.replace('name = "linux"\n', ''),
      { env: { HEALTH: 'h-1234567', OTHER_TOKEN: 'ghp_other_1234' } },
    );
    expect(config.fileSecrets.sort()).toEqual(
      ['docker.registry-auth.password', 'scaleset[1].dedalus.api-key', 'token'].sort(),
    );
    expect(secretFiles(config, '/work')).toEqual([
      { path: '/work/config.toml', holds: `secrets (${config.fileSecrets.join(', ')})` },
    ]);
  });

  it('a token from the environment leaves the file without secrets, a default env: key too', async () => {
    const config = await load(`${BASE}backend = "dedalus"\n`, {
      env: { RUNNER_TOKEN: 'ghp_fallbacktoken', DEDALUS_API_KEY: 'dk-1234567' },
    });
    expect(config.fileSecrets).toEqual([]);
    expect(secretFiles(config)).toEqual([]);
  });

  it('an inline App key is a secret of the file; a key file is a secret file of its own', async () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\\nMIIB\\n-----END RSA PRIVATE KEY-----\\n';
    const inline = await load(
      `${BASE}[github-app]\nclient-id = "Iv1.a"\ninstallation-id = 1\nprivate-key = "${pem}"\n`,
      { env: {} },
    );
    expect(inline.fileSecrets).toEqual(['github-app.private-key']);
    const keyFile = await load(
      `${BASE}[github-app]\nclient-id = "Iv1.a"\ninstallation-id = 1\nprivate-key-path = "keys/app.pem"\n`,
      { env: {}, files: { '/work/keys/app.pem': pem.replaceAll('\\n', '\n') } },
    );
    expect(keyFile.fileSecrets).toEqual([]);
    expect(secretFiles(keyFile, '/work')).toEqual([
      { path: '/work/keys/app.pem', holds: 'the GitHub App private key' },
    ]);
  });
});

describe('who else can read a file (ssh’s rule, plus the service group)', () => {
  const of = (mode: number, uid = ME.uid, gid = ME.gid, me = ME) =>
    exposure({ mode, uid, gid }, me, '/etc/r/c.toml');

  it('only its owner: fine', () => {
    expect(of(0o600)).toBeUndefined();
    expect(of(0o400)).toBeUndefined();
  });

  it('every user can read or change it: exposed, whoever owns it', () => {
    expect(of(0o644)).toEqual({
      who: 'every user on this machine can read it',
      mode: '0644',
      fix: 'chmod 600 /etc/r/c.toml',
    });
    expect(of(0o666)?.mode).toBe('0666');
    expect(of(0o602)).toMatchObject({ who: 'every user on this machine can change it' });
  });

  it('our own file open to our own group (macOS staff, or a private group): exposed, like ssh', () => {
    expect(of(0o640)).toEqual({
      who: 'every member of its group (gid 1000) can read it',
      mode: '0640',
      fix: 'chmod 600 /etc/r/c.toml',
    });
  });

  it('root-owned and shared with the service’s group (chown root:runner, chmod 0640): fine for both', () => {
    expect(of(0o640, 0, RUNNER_GROUP)).toBeUndefined();
    expect(of(0o640, 0, RUNNER_GROUP, { uid: 0, gid: 0 })).toBeUndefined();
  });

  it('shared with a group on purpose but open to everyone: take away only what others have', () => {
    expect(of(0o644, 0, RUNNER_GROUP)?.fix).toBe('sudo chmod o-rwx /etc/r/c.toml');
    expect(of(0o644, 0, RUNNER_GROUP, { uid: 0, gid: 0 })?.fix).toBe('chmod o-rwx /etc/r/c.toml');
    expect(of(0o644, ME.uid, RUNNER_GROUP)?.fix).toBe('chmod o-rwx /etc/r/c.toml');
  });

  it('quotes a path the shell would split', () => {
    expect(exposure({ mode: 0o644, uid: 1, gid: 1 }, { uid: 1, gid: 1 }, "/x/my config's.toml")?.fix).toBe(
      `chmod 600 '/x/my config'\\''s.toml'`,
    );
  });
});
