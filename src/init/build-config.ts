import { type ConfigFileInput, renderConfigToml } from '../config/index.js';
import type { InitAnswers } from './answers.js';

export interface BuildOptions {
  /** The PAT itself, only with --token-inline; otherwise the file references `env:<tokenEnv>`. */
  inlineToken?: string | undefined;
  /** For the header comment. */
  now?: Date;
}

/** The config file as data: only the answered keys, every other key keeps its documented default. */
export function configFromAnswers(a: InitAnswers, opts: BuildOptions = {}): ConfigFileInput {
  const config: ConfigFileInput = {
    url: a.url,
    name: a.name,
    ...auth(a, opts.inlineToken),
    'max-runners': a.maxRunners,
    backend: a.backend,
  };
  switch (a.backend) {
    case 'docker':
      config['runner-image'] = required(a.runnerImage, 'runnerImage');
      config.docker = { dind: a.dind ?? false };
      break;
    case 'tart':
      config['runner-image'] = required(a.runnerImage, 'runnerImage');
      config.tart = { 'pool-size': a.poolSize ?? 0 };
      break;
    case 'dedalus':
      config.dedalus = {
        'api-key': `env:${required(a.dedalusApiKeyEnv, 'dedalusApiKeyEnv')}`,
        max: required(a.dedalusMax, 'dedalusMax'),
      };
      break;
  }
  return config;
}

function auth(a: InitAnswers, inlineToken: string | undefined): Partial<ConfigFileInput> {
  if (a.auth === 'pat') {
    return { token: inlineToken ?? `env:${required(a.tokenEnv, 'tokenEnv')}` };
  }
  const id = required(a.appClientId, 'appClientId');
  // A numeric id is an App ID (the config's app-id); client IDs start with "Iv".
  const who = /^\d+$/.test(id) ? { 'app-id': Number(id) } : { 'client-id': id };
  return {
    'github-app': {
      ...who,
      'installation-id': required(a.appInstallationId, 'appInstallationId'),
      'private-key-path': required(a.appPrivateKey, 'appPrivateKey'),
    },
  };
}

/** The file `runner init` writes: serialised and schema-checked by renderConfigToml, never a template. */
export function renderInitConfig(a: InitAnswers, opts: BuildOptions = {}): string {
  const date = (opts.now ?? new Date()).toISOString().slice(0, 10);
  const secret =
    a.auth === 'pat' && opts.inlineToken === undefined
      ? `The token is read from $${a.tokenEnv} when runner starts; it is not in this file.`
      : a.auth === 'pat'
        ? 'This file holds the token itself (--token-inline): keep it private (mode 0600).'
        : 'The App key stays in its own file; only its path is here.';
  return renderConfigToml(configFromAnswers(a, opts), [
    `runner configuration, written by \`runner init\` on ${date}.`,
    secret,
    'Every other key keeps its default; config.example.toml lists them all.',
    'Check it with: runner validate --config <this file>',
  ]);
}

function required<T>(value: T | undefined, what: string): T {
  // collectAnswers asks every question that applies, so a gap here is a bug in the question table.
  if (value === undefined) throw new Error(`init: answer ${what} missing for this backend/auth`);
  return value;
}
