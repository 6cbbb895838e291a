import { request } from 'undici';
import type { RunnerConfig } from '../config/types.js';

export type Liveness =
  | { state: 'running'; detail: string }
  | { state: 'stopped'; detail: string }
  /** Neither proven up nor proven down: --fix must not assume the daemon is gone. */
  | { state: 'unknown'; detail: string };

const PROBE_TIMEOUT_MS = 3_000;

/**
 * Whether a daemon with this config is up, asked at the health server the config names. Any HTTP
 * answer counts, 503 and 401 included: runscaler's doctor only saw a daemon when /readyz said 200,
 * so --fix ran while the daemon was still pulling images. Only a refused connection on both
 * endpoints means stopped. runner holds no lock file in state-dir, so this is the only signal.
 */
export async function probeDaemon(config: RunnerConfig): Promise<Liveness> {
  if (config.healthPort === 0) {
    return {
      state: 'unknown',
      detail:
        'the health server is off (health-port = 0), so doctor cannot tell whether a daemon with this config runs',
    };
  }
  const base = `http://${connectHost(config.healthHost)}:${config.healthPort}`;
  const answers = await Promise.all(['/readyz', '/healthz'].map((path) => probe(`${base}${path}`)));
  const answered = answers.find((a) => a.kind === 'http');
  if (answered) return { state: 'running', detail: `a daemon answers at ${base} (${answered.detail})` };
  if (answers.every((a) => a.kind === 'refused'))
    return { state: 'stopped', detail: `nothing listens at ${base}` };
  const other = answers.find((a) => a.kind === 'error');
  return {
    state: 'unknown',
    detail: `${base} neither answered nor refused (${other?.detail ?? 'no answer'})`,
  };
}

type ProbeResult = { kind: 'http' | 'refused' | 'error'; detail: string };

async function probe(url: string): Promise<ProbeResult> {
  try {
    const res = await request(url, { method: 'GET', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.body.dump();
    return { kind: 'http', detail: `${new URL(url).pathname} ${res.statusCode}` };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ECONNREFUSED') return { kind: 'refused', detail: String(code) };
    return { kind: 'error', detail: err instanceof Error ? err.message : String(err) };
  }
}

/** A wildcard bind address is not one to connect to: use the loopback of the same family. */
function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
