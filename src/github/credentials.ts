import type { GitHubAuth } from '../config/types.js';
import type { GitHubCredentials } from './auth.js';

/** The protocol client's credentials from a scale set's resolved `token` / `[github-app]`. */
export function credentialsFromConfig(auth: GitHubAuth): GitHubCredentials {
  return auth.kind === 'pat'
    ? { kind: 'pat', token: auth.token }
    : {
        kind: 'app',
        clientId: auth.clientId,
        installationId: auth.installationId,
        privateKey: auth.privateKey,
      };
}
