/** The config module's public face: load, render, describe. */

export { parseDays, parseHours } from '../schema/schedule.js';
export { formatDuration, parseDuration, parseSize } from '../schema/units.js';
export { ConfigError, type ConfigProblem, formatProblem, type ProblemSource } from './errors.js';
export { addConfigFlags, type ConfigFlags, FLAG_KEYS, type FlagKey, flagOverrides } from './flags.js';
export { type ConfigKey, configKeys, envVarName } from './keys.js';
export {
  CONFIG_SEARCH_PATH,
  type LoadConfigOptions,
  loadConfig,
  loadDaemonConfig,
  loadNetworkConfig,
  parseConfigText,
} from './load.js';
export { renderConfigToml } from './render.js';
export { defaultStateDir, type Identity } from './resolve-daemon.js';
export { runnerImageProblem } from './resolve-set.js';
export { type ConfigFileInput, DOCKER_DEFAULT_IMAGE } from './schema.js';
export type * from './types.js';
