import { type CheckResult, fail, type Outcome, ok } from '../checks/result.js';
import { runCheck } from '../checks/run-check.js';
import type { ScaleSetConfig } from '../config/types.js';
import {
  type ConfigScope,
  findActionsServiceError,
  gitHubApiUrl,
  parseConfigUrl,
  type RunnerGroup,
} from '../github/index.js';
import { networkAdvice } from '../net/advice.js';
import type { NetworkAccess } from '../net/types.js';
import { actionsClientFor } from './github-client.js';
import { scaleSetLabelsCheck } from './scale-set-labels.js';

/**
 * GitHub access for one scale set, with one lookup: fetching the configured runner group runs the whole
 * auth chain (App token → registration token → runner-registration → admin token) and then asks the
 * Actions service, so it proves reachability, credentials and the group in one read-only request.
 */
export async function githubChecks(
  set: ScaleSetConfig,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal | undefined,
  network: NetworkAccess,
): Promise<CheckResult[]> {
  let group: RunnerGroup | undefined;
  let groupMissing = false;
  // Creating a client sends nothing (§13.3); one client, so the labels check reuses the admin token.
  const client = actionsClientFor(set, env, timeoutMs, network.dispatcher);
  const checked = await runCheck(
    {
      id: 'github',
      scaleSet: set.name,
      title: `GitHub reachable at ${set.url}, ${set.auth.kind === 'app' ? 'GitHub App' : 'token'} accepted`,
      run: async (sig) => {
        try {
          group = await client.getRunnerGroupByName(set.runnerGroup, sig);
        } catch (err) {
          if (sig.aborted) throw err;
          if ((err as { code?: unknown }).code === 'RUNNER_GROUP_NOT_FOUND') {
            groupMissing = true;
            return ok('the registration chain works; runner-registration issued an admin token');
          }
          return accessFailure(err, set, network, client.actionsServiceUrl);
        }
        return ok('the registration chain works; runner-registration issued an admin token');
      },
    },
    timeoutMs,
    signal,
  );
  const access = { ...checked, route: githubRoute(set, network, client.actionsServiceUrl) };
  const groupTitle = `runner group ${JSON.stringify(set.runnerGroup)} exists`;
  const groupCheck: CheckResult = group
    ? { id: 'runner-group', scaleSet: set.name, title: groupTitle, status: 'ok', detail: `id ${group.id}` }
    : groupMissing
      ? {
          id: 'runner-group',
          scaleSet: set.name,
          title: groupTitle,
          status: 'fail',
          detail: `no runner group named ${JSON.stringify(set.runnerGroup)} at ${set.url}`,
          hint: 'create it under Settings → Actions → Runner groups, or set runner-group to an existing one ("default" always exists)',
        }
      : {
          id: 'runner-group',
          scaleSet: set.name,
          title: groupTitle,
          status: 'skip',
          detail: 'needs GitHub access',
        };
  return [access, groupCheck, await scaleSetLabelsCheck(set, client, group, timeoutMs, signal)];
}

/**
 * The route of the REST API (the auth chain) and, when it differs, of the Actions service: on
 * github.com they are different hosts, and NO_PROXY may list one and not the other.
 */
function githubRoute(set: ScaleSetConfig, network: NetworkAccess, actionsUrl: string | undefined): string {
  const api = apiUrl(set);
  const apiRoute = api ? network.describeRoute(api) : undefined;
  const parts = apiRoute ? [apiRoute] : [];
  if (actionsUrl) {
    const actionsRoute = network.describeRoute(actionsUrl);
    if (actionsRoute !== apiRoute) parts.push(`Actions service ${new URL(actionsUrl).host}: ${actionsRoute}`);
  }
  return [...parts, network.trust].join('; ');
}

function apiUrl(set: ScaleSetConfig): string | undefined {
  try {
    return gitHubApiUrl(parseConfigUrl(set.url), '/');
  } catch {
    return undefined;
  }
}

function accessFailure(
  err: unknown,
  set: ScaleSetConfig,
  network: NetworkAccess,
  actionsUrl: string | undefined,
): Outcome {
  const message = firstLine(err instanceof Error ? err.message : String(err));
  const status = findActionsServiceError(err)?.status ?? statusOf(err);
  if (status === undefined) {
    // The request that failed is the Actions service's once the chain gave its URL, else the API's.
    const url = actionsUrl ?? apiUrl(set);
    const advice =
      url &&
      networkAdvice(err, {
        url,
        route: network.route(url),
        urlKey: 'url',
        caFile: network.config.caFile?.path,
        useSystemCa: network.config.useSystemCa,
      });
    if (advice) return fail(advice.detail, advice.hint);
    return fail(
      message,
      'GitHub could not be reached: check the host in url, DNS, the firewall, and HTTPS_PROXY (or proxy) if this host needs a proxy',
    );
  }
  const scope = scopeHint(set);
  switch (status) {
    case 401:
      return fail(
        message,
        set.auth.kind === 'pat'
          ? `the token was rejected: it is wrong, expired or revoked; check the value the config's token (or RUNNER_TOKEN) gives. ${scope}`
          : `the App was rejected: check client-id/app-id, installation-id and that the key belongs to this App. ${scope}`,
      );
    case 403:
      return fail(message, `the credentials lack permission. ${scope}`);
    case 404:
      return fail(
        message,
        `GitHub answers 404 when the org/repo does not exist or the credentials may not see it: check url (${set.url}). ${scope}`,
      );
    default:
      return fail(message, `GitHub answered ${status}; if it persists, see https://www.githubstatus.com`);
  }
}

/** What the credentials need for this kind of URL, as GitHub names it. */
function scopeHint(set: ScaleSetConfig): string {
  let scope: ConfigScope;
  try {
    scope = parseConfigUrl(set.url).scope;
  } catch {
    return '';
  }
  if (set.auth.kind === 'app') {
    return scope.kind === 'repository'
      ? 'The App needs the repository permission "Administration: read and write" and an installation on that repo.'
      : 'The App needs the organization permission "Self-hosted runners: read and write" and an installation on that org.';
  }
  switch (scope.kind) {
    case 'organization':
      return 'A classic PAT needs the admin:org scope; a fine-grained one "Self-hosted runners: read and write" on the org.';
    case 'repository':
      return 'A classic PAT needs the repo scope; a fine-grained one "Administration: read and write" on the repo.';
    case 'enterprise':
      return 'A classic PAT needs the manage_runners:enterprise scope.';
  }
}

/** RetriesExhaustedError keeps the last status on itself, not only on its cause. */
function statusOf(err: unknown): number | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 8 && cur instanceof Error; depth++) {
    const s = (cur as { status?: unknown }).status;
    if (typeof s === 'number') return s;
    cur = cur.cause;
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
