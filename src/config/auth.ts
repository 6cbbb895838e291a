import { Secret } from '../secret.js';
import type { Checker } from './checker.js';
import { hasGitHubApp } from './merge.js';
import type { ScaleSetSettings } from './schema.js';
import type { GitHubAuth } from './types.js';

type AppSettings = NonNullable<ScaleSetSettings['github-app']>;

const PEM_KEY = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/;

/**
 * The credentials of one scale set: its own token or App, else the top level's, else RUNNER_TOKEN
 * (which the loader adds as a top-level token unless the file chose an App).
 */
export async function resolveAuth(
  s: ScaleSetSettings,
  set: number,
  c: Checker,
): Promise<GitHubAuth | undefined> {
  if (c.prov.broken(set, ['token']) || c.prov.broken(set, ['github-app'])) return undefined;
  const app = hasGitHubApp(s) ? s['github-app'] : undefined;
  if (s.token && app) {
    c.problem(set, ['github-app'], 'expected either token or [github-app], got both');
    return undefined;
  }
  if (app) return resolveApp(app, set, c);
  if (s.token) {
    const token = c.secret(s.token, set, ['token']);
    return token && { kind: 'pat', token };
  }
  c.problem(
    set,
    ['token'],
    'expected a token (or "env:VAR"), a [github-app] table, or RUNNER_TOKEN in the environment, got none of them',
  );
  return undefined;
}

async function resolveApp(app: AppSettings, set: number, c: Checker): Promise<GitHubAuth | undefined> {
  const at = (key: string) => ['github-app', key];
  const clientId = app['client-id'] ?? (app['app-id'] === undefined ? undefined : String(app['app-id']));
  if (app['client-id'] !== undefined && app['app-id'] !== undefined) {
    c.problem(set, at('app-id'), 'expected either client-id or app-id, got both');
  } else if (clientId === undefined) {
    c.problem(set, at('client-id'), "expected the App's client ID (or app-id), got nothing");
  }
  const installationId = app['installation-id'];
  if (installationId === undefined) {
    c.problem(
      set,
      at('installation-id'),
      'expected the installation ID of the App (an integer ≥ 1), got nothing',
    );
  }
  const key = await privateKey(app, set, c);
  if (clientId === undefined || installationId === undefined || key === undefined) return undefined;
  return { kind: 'app', clientId, installationId, privateKey: key.secret, privateKeyPath: key.path };
}

async function privateKey(
  app: AppSettings,
  set: number,
  c: Checker,
): Promise<{ secret: Secret; path: string } | undefined> {
  const inline = app['private-key'];
  const file = app['private-key-path'];
  if (inline && file !== undefined) {
    c.problem(
      set,
      ['github-app', 'private-key'],
      'expected either private-key or private-key-path, got both',
    );
    return undefined;
  }
  if (inline) {
    const secret = c.secret(inline, set, ['github-app', 'private-key']);
    if (!secret) return undefined;
    if (!PEM_KEY.test(secret.reveal())) {
      c.problem(
        set,
        ['github-app', 'private-key'],
        'expected a PEM private key (-----BEGIN … PRIVATE KEY-----), got other text',
      );
      return undefined;
    }
    return { secret, path: '' };
  }
  if (file === undefined) {
    c.problem(
      set,
      ['github-app', 'private-key-path'],
      "expected the path of the App's PEM private key (or private-key), got nothing",
    );
    return undefined;
  }
  const key = ['github-app', 'private-key-path'];
  const path = c.path(set, key, file);
  const text = await c.read(set, key, path);
  if (text === undefined) return undefined;
  if (!PEM_KEY.test(text)) {
    c.problem(
      set,
      key,
      `expected a PEM private key file, got ${JSON.stringify(path)} without a PRIVATE KEY block`,
    );
    return undefined;
  }
  return { secret: new Secret(text), path };
}
