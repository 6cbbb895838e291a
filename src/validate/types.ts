import type { CheckResult } from '../checks/result.js';

export type { CheckResult } from '../checks/result.js';

export interface ValidationReport {
  ok: boolean;
  /** The config file checked ('' when none was found). */
  file: string;
  checks: CheckResult[];
}
