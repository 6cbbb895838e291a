import { expect } from 'vitest';
import {
  ConfigError,
  type ConfigFlags,
  parseConfigText,
  type RunnerConfig,
  type ScaleSetConfig,
} from '../../src/config/index.js';

export const USER = { uid: 1000, home: '/home/ci' };

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  flags?: ConfigFlags;
  /** Files readable by the loader (private keys, scripts), by absolute path. */
  files?: Record<string, string>;
  fileName?: string;
}

/** parseConfigText with a fixed user, cwd and a fake file system; a token is provided unless env says otherwise. */
export function load(text: string, opts: LoadOptions = {}): Promise<RunnerConfig> {
  const files = opts.files ?? {};
  return parseConfigText(
    text,
    opts.fileName ?? 'config.toml',
    opts.env ?? { RUNNER_TOKEN: 'ghp_fallbacktoken' },
    opts.flags ?? {},
    {
      cwd: '/work',
      identity: USER,
      readFile: async (path) => {
        const content = files[path];
        if (content === undefined)
          throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
        return content;
      },
    },
  );
}

export async function loadSet(text: string, opts: LoadOptions = {}): Promise<ScaleSetConfig> {
  const config = await load(text, opts);
  expect(config.scaleSets).toHaveLength(1);
  return config.scaleSets[0] as ScaleSetConfig;
}

/** The formatted problem lines of a load that must fail. */
export async function problems(text: string, opts: LoadOptions = {}): Promise<string[]> {
  const error = await load(text, opts).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ConfigError);
  const configError = error as ConfigError;
  expect(configError.code).toBe('CONFIG_INVALID');
  return configError.lines;
}

/** The minimum a valid single-set file needs besides a token. */
export const BASE = 'url = "https://github.com/my-org"\nname = "linux"\n';

/** Issue 16's own example of job shapes (two sizes, an alias label, an image alias), for a set named by BASE. */
export const SHAPES_EXAMPLE = `
[images]
full = "ghcr.io/acme/runner-full:2"

[[shape]]
cpu = 2
ram = 4
labels = ["ubuntu-latest-2core"]
min-runners = 1

[[shape]]
cpu = 8
ram = 32
arch = "arm64"
image = "full"
max-runners = 4
`;
