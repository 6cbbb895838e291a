import { describe, expect, it } from 'vitest';
import { load, loadSet, problems } from './helpers.js';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n';
const TOP = 'url = "https://github.com/my-org"\nname = "linux"\n';

describe('[github-app]', () => {
  it('authenticates as an App with a key file relative to the config file', async () => {
    const set = await loadSet(
      `${TOP}[github-app]\nclient-id = "Iv23liAbc"\ninstallation-id = 42\nprivate-key-path = "keys/app.pem"\n`,
      {
        env: {},
        fileName: '/etc/runner/config.toml',
        files: { '/etc/runner/keys/app.pem': PEM },
      },
    );
    expect(set.auth.kind).toBe('app');
    if (set.auth.kind !== 'app') return;
    expect(set.auth.clientId).toBe('Iv23liAbc');
    expect(set.auth.installationId).toBe(42);
    expect(set.auth.privateKeyPath).toBe('/etc/runner/keys/app.pem');
    expect(set.auth.privateKey.reveal()).toBe(PEM);
    expect(JSON.stringify(set.auth)).not.toContain('MIIEowIBAAKCAQEA');
  });

  it('accepts app-id instead of client-id, and the key inline from the environment', async () => {
    const set = await loadSet(
      `${TOP}[github-app]\napp-id = 123456\ninstallation-id = 7\nprivate-key = "env:APP_KEY"\n`,
      {
        env: { APP_KEY: PEM },
      },
    );
    expect(set.auth).toMatchObject({
      kind: 'app',
      clientId: '123456',
      installationId: 7,
      privateKeyPath: '',
    });
  });

  it('wins over RUNNER_TOKEN, which is only a fallback', async () => {
    const set = await loadSet(
      `${TOP}[github-app]\nclient-id = "Iv1"\ninstallation-id = 1\nprivate-key = "env:APP_KEY"\n`,
      {
        env: { APP_KEY: PEM, RUNNER_TOKEN: 'ghp_ambient' },
      },
    );
    expect(set.auth.kind).toBe('app');
  });

  it('reports every missing or conflicting part', async () => {
    expect(
      await problems(
        `${TOP}[github-app]\nclient-id = "Iv1"\napp-id = 5\nprivate-key = "x"\nprivate-key-path = "/k.pem"\n`,
        { env: {} },
      ),
    ).toEqual([
      'config.toml: github-app.app-id: expected either client-id or app-id, got both',
      'config.toml: github-app.installation-id: expected the installation ID of the App (an integer ≥ 1), got nothing',
      'config.toml: github-app.private-key: expected either private-key or private-key-path, got both',
    ]);
  });

  it('rejects a key file that is missing or not a PEM key', async () => {
    const text = `${TOP}[github-app]\nclient-id = "Iv1"\ninstallation-id = 1\nprivate-key-path = "/k.pem"\n`;
    expect(await problems(text, { env: {} })).toEqual([
      `config.toml: github-app.private-key-path: expected a readable file, got "/k.pem" (ENOENT: no such file, open '/k.pem')`,
    ]);
    expect(await problems(text, { env: {}, files: { '/k.pem': 'hello' } })).toEqual([
      'config.toml: github-app.private-key-path: expected a PEM private key file, got "/k.pem" without a PRIVATE KEY block',
    ]);
  });

  it('rejects token and [github-app] at the same level', async () => {
    expect(
      await problems(
        `token = "ghp_x"\n${TOP}[github-app]\nclient-id = "Iv1"\ninstallation-id = 1\nprivate-key = "env:K"\n`,
        { env: { K: PEM } },
      ),
    ).toEqual(['config.toml: github-app: expected either token or [github-app], got both']);
  });

  it('lets scale sets share an App and override only the installation', async () => {
    const text = `url = "https://github.com/org-a"
[github-app]
client-id = "Iv1"
installation-id = 1
private-key-path = "/k.pem"

[[scaleset]]
name = "a"

[[scaleset]]
name = "b"
url = "https://github.com/org-b"
[scaleset.github-app]
installation-id = 2

[[scaleset]]
name = "c"
token = "env:C_TOKEN"
`;
    const config = await load(text, { env: { C_TOKEN: 'ghp_for_c' }, files: { '/k.pem': PEM } });
    const auths = config.scaleSets.map((s) =>
      s.auth.kind === 'app' ? `app:${s.auth.installationId}` : 'pat',
    );
    expect(auths).toEqual(['app:1', 'app:2', 'pat']);
  });

  it('lets a set with its own App drop the inherited token', async () => {
    const text = `token = "ghp_toplevel"\nurl = "https://github.com/o"\n[[scaleset]]\nname = "tok"\n[[scaleset]]\nname = "app"\n[scaleset.github-app]\nclient-id = "Iv1"\ninstallation-id = 3\nprivate-key = "env:K"\n`;
    const config = await load(text, { env: { K: PEM } });
    expect(config.scaleSets.map((s) => s.auth.kind)).toEqual(['pat', 'app']);
  });
});
