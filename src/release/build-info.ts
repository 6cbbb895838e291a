import { isSea } from 'node:sea';
import { NODE_RANGE, VERSION } from '../version.js';

/** What `runner version` reports. The single-binary build fixes the env reads below at bundle time. */
export interface BuildInfo {
  version: string;
  commit: string;
  /** ISO time of the build, when the build recorded one. */
  date?: string;
  node: string;
  /** The Node versions runner runs on (package.json engines.node), when known. */
  nodeRange?: string;
  os: NodeJS.Platform;
  arch: string;
  /** How this copy was installed: the single executable, or a script run by a separate node. */
  distribution: 'binary' | 'npm';
  /** The Node/V8 flags this process runs with (src/runtime-flags.ts, when started as shipped). */
  nodeFlags: string[];
}

export function buildInfo(): BuildInfo {
  const date = process.env.RUNNER_BUILD_DATE;
  return {
    version: VERSION,
    commit: process.env.RUNNER_BUILD_COMMIT || 'unknown',
    ...(date ? { date } : {}),
    node: process.versions.node,
    ...(NODE_RANGE ? { nodeRange: NODE_RANGE } : {}),
    os: process.platform,
    arch: process.arch,
    distribution: isSingleExecutable() ? 'binary' : 'npm',
    nodeFlags: [...process.execArgv],
  };
}

export function isSingleExecutable(): boolean {
  return isSea();
}

export function formatBuildInfo(info: BuildInfo): string {
  const lines = [
    `runner ${info.version}`,
    `  commit:  ${info.commit}`,
    ...(info.date ? [`  built:   ${info.date}`] : []),
    `  node:    ${info.node}${info.nodeRange ? ` (runner needs ${info.nodeRange})` : ''}`,
    `  os/arch: ${info.os}/${info.arch}`,
    `  install: ${info.distribution === 'binary' ? 'single binary' : 'npm package (node script)'}`,
    ...(info.nodeFlags.length > 0 ? [`  flags:   ${info.nodeFlags.join(' ')}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
