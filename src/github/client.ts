import { type Logger, silentLogger } from '../log.js';
import { registerSecret } from '../secret.js';
import { ActionsService } from './actions-service.js';
import { AdminAuth, type GitHubCredentials } from './auth.js';
import { type ConfigUrl, parseConfigUrl } from './config-url.js';
import { parseErrorBody, responseError } from './error-body.js';
import { typeNameKind } from './error-kinds.js';
import { InvalidResponseError, RunnerGroupNotFoundError } from './errors.js';
import { bodyText } from './json.js';
import { type RunnerScaleSetInput, scaleSetBody } from './scale-set-body.js';
import { MessageSession } from './session.js';
import { decodeSessionResponse } from './session-decode.js';
import { HttpTransport, type TransportOptions } from './transport.js';
import type {
  JitRunnerConfig,
  JitRunnerSetting,
  RunnerGroup,
  RunnerReference,
  RunnerScaleSet,
} from './types.js';
import { pathSegment } from './url.js';
import { formatUserAgent, resolveSystemInfo, type SystemInfo } from './user-agent.js';
import {
  jitConfigSchema,
  listSchema,
  runnerGroupSchema,
  runnerReferenceSchema,
  scaleSetSchema,
} from './wire-decoders.js';

export interface ActionsClientOptions extends TransportOptions {
  /** Registration URL: `https://github.com/org`, `…/org/repo` or `…/enterprises/name` (§1). */
  configUrl: string;
  auth: GitHubCredentials;
  systemInfo?: Partial<SystemInfo>;
  logger?: Logger;
  /** Environment consulted for GITHUB_ACTIONS_FORCE_GHES; default process.env. */
  env?: NodeJS.ProcessEnv;
}

const SCALE_SETS = '_apis/runtime/runnerscalesets';
const AGENTS = '_apis/distributedtask/pools/0/agents';
const scaleSetPath = (id: number) => `${SCALE_SETS}/${pathSegment(id)}`;
const agentPath = (id: number) => `${AGENTS}/${pathSegment(id)}`;

/**
 * Client for GitHub's runner scale-set API. Construction does no I/O (§2): the auth chain runs
 * inside the first Actions-service call and again whenever the admin token nears expiry.
 */
export class ActionsClient {
  readonly config: ConfigUrl;
  readonly #transport: HttpTransport;
  readonly #actions: ActionsService;
  readonly #auth: AdminAuth;
  readonly #logger: Logger;
  #systemInfo: SystemInfo;

  constructor(opts: ActionsClientOptions) {
    this.config = parseConfigUrl(opts.configUrl, opts.env);
    this.#logger = opts.logger ?? silentLogger;
    this.#systemInfo = resolveSystemInfo(opts.systemInfo);
    this.#transport = new HttpTransport({ ...opts, logger: this.#logger });
    const userAgent = () => this.userAgent;
    const auth = new AdminAuth({
      config: this.config,
      credentials: opts.auth,
      transport: this.#transport,
      userAgent,
      logger: this.#logger,
      ...(opts.now ? { now: opts.now } : {}),
    });
    this.#auth = auth;
    this.#actions = new ActionsService(auth, this.#transport, userAgent);
  }

  /**
   * The Actions service URL runner-registration gave (§2.4), once the auth chain has run: on github.com
   * another host than the API's, so its route (proxy or not) can differ.
   */
  get actionsServiceUrl(): string | undefined {
    return this.#auth.current?.actionsUrl;
  }

  get systemInfo(): Readonly<SystemInfo> {
    return this.#systemInfo;
  }

  /** The JSON User-Agent sent on every request (§3.3). */
  get userAgent(): string {
    return formatUserAgent(this.#systemInfo);
  }

  /** Applies to later requests, e.g. `scaleSetId` once the scale set exists. */
  setSystemInfo(info: Partial<SystemInfo>): void {
    this.#systemInfo = resolveSystemInfo({ ...this.#systemInfo, ...info });
  }

  /** §4.2: exactly one group must match; zero is an error, not null. The default group has id 1. */
  async getRunnerGroupByName(name: string, signal?: AbortSignal): Promise<RunnerGroup> {
    const list = await this.#actions.json(listSchema(runnerGroupSchema), {
      method: 'GET',
      path: '_apis/runtime/runnergroups/', // the trailing slash is what the service routes on
      query: { groupName: name },
      expect: 200,
      signal,
    });
    if (list.count === 0) throw new RunnerGroupNotFoundError(name);
    return single(list, `multiple runner group found with name ${JSON.stringify(name)}`);
  }

  /** §4.3: null when `count` is 0, even if `value` is not empty. */
  async getRunnerScaleSet(
    runnerGroupId: number,
    name: string,
    signal?: AbortSignal,
  ): Promise<RunnerScaleSet | null> {
    const query = { runnerGroupId: String(runnerGroupId), name };
    const list = await this.#actions.json(listSchema(scaleSetSchema), {
      method: 'GET',
      path: SCALE_SETS,
      query,
      expect: 200,
      signal,
    });
    if (list.count === 0) return null;
    return single(list, `multiple runner scale sets found with name ${JSON.stringify(name)}`);
  }

  /** A 200 with a `null` body is null; a 404 is an error (§9.3). */
  async getRunnerScaleSetById(id: number, signal?: AbortSignal): Promise<RunnerScaleSet | null> {
    return this.#actions.json(scaleSetSchema.nullable(), {
      method: 'GET',
      path: scaleSetPath(id),
      expect: 200,
      signal,
    });
  }

  async createRunnerScaleSet(scaleSet: RunnerScaleSetInput, signal?: AbortSignal): Promise<RunnerScaleSet> {
    const body = scaleSetBody(scaleSet, 'create');
    return this.#actions.json(scaleSetSchema, {
      method: 'POST',
      path: SCALE_SETS,
      body,
      expect: 200,
      signal,
    });
  }

  async updateRunnerScaleSet(
    id: number,
    scaleSet: RunnerScaleSetInput,
    signal?: AbortSignal,
  ): Promise<RunnerScaleSet> {
    const body = scaleSetBody(scaleSet, 'update');
    return this.#actions.json(scaleSetSchema, {
      method: 'PATCH',
      path: scaleSetPath(id),
      body,
      expect: 200,
      signal,
    });
  }

  async deleteRunnerScaleSet(id: number, signal?: AbortSignal): Promise<void> {
    await this.#actions.call({ method: 'DELETE', path: scaleSetPath(id), expect: 204, signal });
  }

  /**
   * Opens a message session (§5.2). A 409 (another listener holds the session) is not retried:
   * match it with `isSessionConflict` and decide at the call site.
   */
  async createMessageSession(
    scaleSetId: number,
    ownerName: string,
    signal?: AbortSignal,
  ): Promise<MessageSession> {
    const res = await this.#actions.call({
      method: 'POST',
      path: `${scaleSetPath(scaleSetId)}/sessions`,
      // ARC's shape; scaleset v0.4.0 also sends a nil-UUID sessionId, which the service ignores.
      body: { ownerName },
      expect: 200,
      signal,
    });
    return new MessageSession({
      actions: this.#actions,
      transport: this.#transport,
      scaleSetId,
      session: decodeSessionResponse(res),
      userAgent: this.userAgent,
      logger: this.#logger.child({ scaleSetId }),
    });
  }

  async generateJitRunnerConfig(
    setting: JitRunnerSetting,
    scaleSetId: number,
    signal?: AbortSignal,
  ): Promise<JitRunnerConfig> {
    const path = `${scaleSetPath(scaleSetId)}/generatejitconfig`;
    const body = { name: setting.name, workFolder: setting.workFolder };
    const jit = await this.#actions.json(jitConfigSchema, {
      method: 'POST',
      path,
      body,
      expect: 200,
      signal,
    });
    if (!jit.runner)
      throw new InvalidResponseError(`invalid JIT config for ${setting.name}: runner is missing`);
    if (!jit.encodedJITConfig) {
      throw new InvalidResponseError(`invalid JIT config for ${setting.name}: encodedJITConfig is missing`);
    }
    registerSecret(jit.encodedJITConfig);
    return { runner: jit.runner, encodedJITConfig: jit.encodedJITConfig };
  }

  async getRunner(runnerId: number, signal?: AbortSignal): Promise<RunnerReference> {
    return this.#actions.json(runnerReferenceSchema, {
      method: 'GET',
      path: agentPath(runnerId),
      expect: 200,
      signal,
    });
  }

  async getRunnerByName(name: string, signal?: AbortSignal): Promise<RunnerReference | null> {
    const list = await this.#actions.json(listSchema(runnerReferenceSchema), {
      method: 'GET',
      path: AGENTS,
      query: { agentName: name },
      expect: 200,
      signal,
    });
    if (list.count === 0) return null;
    return single(list, `multiple runners found with name ${JSON.stringify(name)}`);
  }

  async removeRunner(runnerId: number, signal?: AbortSignal): Promise<void> {
    await this.#actions.call({ method: 'DELETE', path: agentPath(runnerId), expect: 204, signal });
  }

  /**
   * removeRunner for a runner that may be gone already (an ephemeral runner deregisters after its
   * job): RunnerNotFound is an answer here, not an error. Building an error (with its stack) for the
   * usual answer cost a few percent of the daemon's CPU per job under load. Other statuses still throw.
   */
  async removeRunnerIfPresent(runnerId: number, signal?: AbortSignal): Promise<'removed' | 'not-found'> {
    const res = await this.#actions.send({ method: 'DELETE', path: agentPath(runnerId), signal });
    if (res.status === 204) return 'removed';
    if (res.status === 404) {
      const { typeName } = parseErrorBody(bodyText(res.body), res.headers['content-type'] ?? '');
      if (typeNameKind(typeName) === 'RunnerNotFound') return 'not-found';
    }
    throw responseError(res);
  }
}

/** `count` is trusted over `value.length`, as in Go (§4.2, §4.3). */
function single<T>(list: { count: number; value: T[] }, multiple: string): T {
  if (list.count > 1) throw new InvalidResponseError(multiple);
  const [first] = list.value;
  if (first === undefined)
    throw new InvalidResponseError(`response says count ${list.count} but value is empty`);
  return first;
}
