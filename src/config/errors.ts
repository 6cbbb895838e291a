import { RunnerError } from '../kernel/errors.js';
import type { ProblemLocation } from '../schema/location.js';

export type { ProblemLocation, ProblemSource } from '../schema/location.js';

export interface ConfigProblem extends ProblemLocation {
  /** Usually `expected …, got …`. */
  message: string;
}

/**
 * `config.toml: scaleset[1].max-runners: expected an integer ≥ 1, got -1`, or for overrides
 * `env RUNNER_MAX_RUNNERS: …` and `--max-runners: …` (the variable or flag already names the key).
 */
export function formatProblem(p: ConfigProblem): string {
  switch (p.source.kind) {
    case 'file': {
      const at = p.source.line === undefined ? '' : `:${p.source.line}:${p.source.column ?? 1}`;
      const file = p.source.file || 'config';
      return [`${file}${at}`, p.key, p.message].filter(Boolean).join(': ');
    }
    case 'env':
      return `env ${p.source.variable}: ${p.message}`;
    case 'flag':
      return `${p.source.flag}: ${p.message}`;
  }
}

/**
 * Every problem found in the configuration, not just the first: fixing a config one error per
 * restart is how people give up on a tool. Callers match on `code`.
 */
export class ConfigError extends RunnerError {
  readonly code = 'CONFIG_INVALID' as const;
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = uniqueLines(problems);
    const count = lines.length === 1 ? '1 problem' : `${lines.length} problems`;
    super(`invalid configuration (${count}):\n  ${lines.join('\n  ')}`);
    this.problems = problems;
  }

  /** One formatted line per problem, duplicates removed. */
  get lines(): string[] {
    return uniqueLines(this.problems);
  }
}

/** A global value inherited by several scale sets can fail the same way in each: say it once. */
function uniqueLines(problems: readonly ConfigProblem[]): string[] {
  return [...new Set(problems.map(formatProblem))];
}
