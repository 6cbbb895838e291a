import { renderReport } from './render.js';
import { type ValidateOptions, validateConfig } from './validate.js';

export interface ValidateCommandOptions extends ValidateOptions {
  json: boolean;
  color: boolean;
  write: (text: string) => void;
}

/**
 * `runner validate` and `runner run --dry-run`: check, print the checklist (or JSON), and return the
 * exit code: 1 when anything failed, 0 otherwise.
 */
export async function validateCommand(opts: ValidateCommandOptions): Promise<number> {
  const report = await validateConfig(opts);
  opts.write(
    opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, { color: opts.color }),
  );
  return report.ok ? 0 : 1;
}
