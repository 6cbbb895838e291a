import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeActionsService, FakeOptions } from './index.js';
import { startFakeActionsService } from './index.js';

/*
 * Helpers for tests that talk to the fake over real HTTP, the way a client would. They walk the wire
 * protocol by hand on purpose: the fake's own tests must not depend on the client under test.
 */

export const RUN_SH = fileURLToPath(new URL('../runner/run.sh', import.meta.url));

/** Starts a fake with test-friendly timings; the caller closes it (e.g. `onTestFinished`). */
export function startTestFake(opts: FakeOptions = {}): Promise<FakeActionsService> {
  return startFakeActionsService({ holdMs: 300, runnerClaimHoldMs: 2_000, ...opts });
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body (a BOM stripped first), or undefined when empty or not JSON. */
  json: Record<string, unknown> | undefined;
}

export async function http(
  url: string,
  init: {
    method?: string;
    token?: string;
    auth?: string;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.auth !== undefined) headers.authorization = init.auth;
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: parseJson(text) };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, '')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export interface Admin {
  /** Actions service URL from runner-registration, with its trailing slash. */
  url: string;
  token: string;
}

/** Steps 2–3 of the auth chain (§2.3–2.4) with a bearer credential (PAT or installation token). */
export async function adminWith(
  fake: FakeActionsService,
  credential: string,
  scope = 'my-org',
): Promise<Admin> {
  const path = scope.startsWith('enterprises/')
    ? scope
    : scope.includes('/')
      ? `repos/${scope}`
      : `orgs/${scope}`;
  const reg = await http(`${fake.url}/api/v3/${path}/actions/runners/registration-token`, {
    method: 'POST',
    token: credential,
  });
  if (reg.status !== 201) throw new Error(`registration-token: ${reg.status} ${reg.text}`);
  const rr = await http(`${fake.url}/api/v3/actions/runner-registration`, {
    method: 'POST',
    auth: `RemoteAuth ${String(reg.json?.token)}`,
    body: { url: fake.configUrl(scope), runner_event: 'register' },
  });
  if (rr.status !== 201) throw new Error(`runner-registration: ${rr.status} ${rr.text}`);
  return { url: String(rr.json?.url), token: String(rr.json?.token) };
}

export const admin = (fake: FakeActionsService) => adminWith(fake, fake.pat);

/** An Actions call (§3.1): `api-version` added, admin token unless `token` says otherwise. */
export function actions(
  a: Admin,
  method: string,
  path: string,
  body?: unknown,
  token = a.token,
): Promise<Reply> {
  const sep = path.includes('?') ? '&' : '?';
  return http(`${a.url}${path}${sep}api-version=6.0-preview`, { method, token, body });
}

export interface Session {
  scaleSetId: number;
  sessionId: string;
  queueUrl: string;
  queueToken: string;
}

export async function createScaleSet(a: Admin, name: string, labels?: string[]): Promise<number> {
  const body = {
    name,
    runnerGroupId: 1,
    labels: (labels ?? [name]).map((l) => ({ type: 'System', name: l })),
    RunnerSetting: {},
  };
  const r = await actions(a, 'POST', '_apis/runtime/runnerscalesets', body);
  if (r.status !== 200) throw new Error(`create scale set: ${r.status} ${r.text}`);
  return Number(r.json?.id);
}

export async function openSession(a: Admin, scaleSetId: number): Promise<Session> {
  const r = await actions(a, 'POST', `_apis/runtime/runnerscalesets/${scaleSetId}/sessions`, {
    ownerName: 'test-host',
  });
  if (r.status !== 200) throw new Error(`create session: ${r.status} ${r.text}`);
  return {
    scaleSetId,
    sessionId: String(r.json?.sessionId),
    queueUrl: String(r.json?.messageQueueUrl),
    queueToken: String(r.json?.messageQueueAccessToken),
  };
}

/** A scale set named `name` with an open session. */
export async function scaleSetWithSession(a: Admin, name = 'linux'): Promise<Session> {
  return openSession(a, await createScaleSet(a, name));
}

export interface Polled extends Reply {
  messageId: number;
  /** Job messages of the body, in order. */
  jobs: { messageType: string; runnerRequestId: number; [k: string]: unknown }[];
}

/** One long poll (§6.1). */
export async function poll(s: Session, lastMessageId = 0, capacity = 10): Promise<Polled> {
  const q = lastMessageId > 0 ? `?lastMessageId=${lastMessageId}` : '';
  const r = await http(`${s.queueUrl}${q}`, {
    token: s.queueToken,
    headers: {
      accept: 'application/json; api-version=6.0-preview',
      'x-scalesetmaxcapacity': String(capacity),
    },
  });
  const body = typeof r.json?.body === 'string' && r.json.body !== '' ? r.json.body : '[]';
  return { ...r, messageId: Number(r.json?.messageId ?? 0), jobs: r.status === 200 ? JSON.parse(body) : [] };
}

export function ack(s: Session, messageId: number): Promise<Reply> {
  return http(`${s.queueUrl}/${messageId}`, { method: 'DELETE', token: s.queueToken });
}

/** Polls and acks until `count` job messages arrived; returns them in order. */
export async function drain(s: Session, count: number, capacity = 10): Promise<Polled['jobs']> {
  const jobs: Polled['jobs'] = [];
  let last = 0;
  while (jobs.length < count) {
    const m = await poll(s, last, capacity);
    if (m.status !== 200) continue;
    jobs.push(...m.jobs);
    last = m.messageId;
    await ack(s, m.messageId);
  }
  return jobs;
}

export async function acquireJobs(a: Admin, s: Session, ids: number[]): Promise<Reply> {
  return actions(a, 'POST', `_apis/runtime/runnerscalesets/${s.scaleSetId}/acquirejobs`, ids, s.queueToken);
}

export async function jitConfig(
  a: Admin,
  scaleSetId: number,
  name: string,
): Promise<{ id: number; jit: string }> {
  const r = await actions(a, 'POST', `_apis/runtime/runnerscalesets/${scaleSetId}/generatejitconfig`, {
    name,
    workFolder: '',
  });
  if (r.status !== 200) throw new Error(`generatejitconfig: ${r.status} ${r.text}`);
  const runner = r.json?.runner as { id?: number } | undefined;
  return { id: Number(runner?.id), jit: String(r.json?.encodedJITConfig) };
}

export interface RunnerProcess {
  child: ChildProcess;
  /** The copy of run.sh's directory; `_work` is created in it. */
  dir: string;
  exit: Promise<number | null>;
  signal: Promise<NodeJS.Signals | null>;
  output: () => string;
  /** SIGKILL to the runner's whole process group, like `docker kill`. */
  killGroup(): void;
  dispose(): Promise<void>;
}

/** Runs a copy of run.sh (so `_work` lands in a temp dir) in its own process group. */
export async function runRunner(jit: string, shell: 'sh' | 'busybox' = 'sh'): Promise<RunnerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-runner-'));
  await copyFile(RUN_SH, join(dir, 'run.sh'));
  const [cmd, args] = shell === 'busybox' ? ['busybox', ['sh', 'run.sh']] : ['sh', ['run.sh']];
  const child = spawn(cmd, args, {
    cwd: dir,
    env: { ...process.env, ACTIONS_RUNNER_INPUT_JITCONFIG: jit },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  // 'exit', not 'close': a process the job left behind may hold the pipes open after run.sh is gone.
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (code, sig) => resolve([code, sig])),
  );
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  return {
    child,
    dir,
    exit: exited.then(([code]) => code),
    signal: exited.then(([, sig]) => sig),
    output: () => out,
    killGroup,
    async dispose() {
      killGroup();
      await exited;
      child.stdout?.destroy();
      child.stderr?.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
