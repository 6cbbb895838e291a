import { VERSION } from '../version.js';

/** Who is calling, as reported in the JSON User-Agent (§3.3). */
export interface SystemInfo {
  system: string;
  version: string;
  commitSha: string;
  /** 0 until the scale set exists; `setSystemInfo` updates it afterwards. */
  scaleSetId: number;
  subsystem: string;
}

export const DEFAULT_SYSTEM_INFO: Readonly<SystemInfo> = Object.freeze({
  system: 'runner',
  version: VERSION,
  commitSha: 'unknown',
  scaleSetId: 0,
  subsystem: 'listener',
});

/** Go's scaleset reuses a plain semver module version as the commit; we do the same for ours. */
const BUILD_COMMIT = /^v?\d+\.\d+\.\d+$/.test(VERSION) ? VERSION : 'unknown';

export function resolveSystemInfo(info: Partial<SystemInfo> = {}): SystemInfo {
  return { ...DEFAULT_SYSTEM_INFO, ...definedOnly(info) };
}

/** The compact JSON document with the key order of §3.3; GitHub parses it, so the order is kept stable. */
export function formatUserAgent(info: SystemInfo): string {
  return JSON.stringify({
    system: info.system,
    version: info.version,
    commit_sha: info.commitSha,
    scale_set_id: info.scaleSetId,
    subsystem: info.subsystem,
    build_version: VERSION,
    build_commit_sha: BUILD_COMMIT,
    kind: 'scaleset',
  });
}

function definedOnly(info: Partial<SystemInfo>): Partial<SystemInfo> {
  return Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)) as Partial<SystemInfo>;
}
