export { type ValidateCommandOptions, validateCommand } from './command.js';
export { renderReport } from './render.js';
export type { CheckResult, ValidationReport } from './types.js';
export { DEFAULT_CHECK_TIMEOUT_MS, type ValidateOptions, validateConfig } from './validate.js';
