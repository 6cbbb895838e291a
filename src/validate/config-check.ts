import type { CheckResult } from '../checks/result.js';
import { ConfigError, type ConfigFlags, formatProblem, loadConfig } from '../config/index.js';
import type { RunnerConfig } from '../config/types.js';

export interface ConfigSource {
  /** --config; without it the loader's own search (RUNNER_CONFIG, ./config.toml, /etc/runner). */
  configFile?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** `runner run --dry-run` passes its flags, so the dry run checks what run would use. */
  flags?: ConfigFlags | undefined;
}

export type LoadedConfig =
  | { ok: true; config: RunnerConfig; check: CheckResult }
  | { ok: false; file: string; checks: CheckResult[] };

/**
 * The schema part: the very loader `runner run` uses, so validate accepts exactly what run accepts.
 * Every problem it finds becomes its own ✗ line.
 */
export async function checkConfig(src: ConfigSource): Promise<LoadedConfig> {
  const started = performance.now();
  try {
    const config = await loadConfig({ file: src.configFile, env: src.env, flags: src.flags ?? {} });
    const names = config.scaleSets.map((s) => `${s.name} (${s.backend})`).join(', ');
    return {
      ok: true,
      config,
      check: {
        id: 'config',
        title: `config ${config.file || '(flags and environment only)'} is valid`,
        status: 'ok',
        detail: `${config.scaleSets.length === 1 ? '1 scale set' : `${config.scaleSets.length} scale sets`}: ${names}`,
        ms: Math.round(performance.now() - started),
      },
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const lines = [...new Set(err.problems.map(formatProblem))];
    const checks: CheckResult[] = lines.map((line) => ({ id: 'config', title: line, status: 'fail' }));
    const last = checks[checks.length - 1];
    if (last)
      last.hint = 'fix the config (config.example.toml documents every key) and run runner validate again';
    checks.push({
      id: 'remote',
      title: 'GitHub, backend and host checks',
      status: 'skip',
      detail: 'they need a valid config',
    });
    return { ok: false, file: src.configFile ?? '', checks };
  }
}
