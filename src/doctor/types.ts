import type { OwnedState } from '../../backends/types.js';

/** What a runner's resource is called on each backend, for messages. */
export const RESOURCE: Record<string, string> = { docker: 'container', tart: 'VM', dedalus: 'machine' };

/**
 * Something runner owns that nothing uses:
 * - `exited`: a container/VM/machine of ours whose runner ended and that was never removed;
 * - `unmanaged`: one still running while no daemon with this config runs to manage it;
 * - `registration`: a runner registered at GitHub by us (state file) whose resource is gone;
 * - `stale-record`: a state-file entry whose registration and resource are both gone.
 */
export type FindingKind = 'exited' | 'unmanaged' | 'registration' | 'stale-record';

export interface Finding {
  scaleSet: string;
  backend: string;
  kind: FindingKind;
  /** Runner name (also the resource's name at the backend). */
  name: string;
  resourceId?: string;
  runnerId?: number;
  state?: OwnedState;
}

export interface ScaleSetInspection {
  scaleSet: string;
  backend: string;
  findings: Finding[];
  /** Owned resources a running daemon manages: listed as a count, never touched. */
  inUse: number;
  /** What doctor deliberately did not check, and why: said, so "nothing found" is never read as more. */
  skipped: { name: string; reason: string }[];
  /** What could not be inspected: the report then cannot say "clean". */
  errors: string[];
}

export type FixOutcome =
  | { finding: Finding; result: 'removed'; detail: string }
  /** Deliberately left alone (e.g. the runner is busy with a job). */
  | { finding: Finding; result: 'skipped'; detail: string }
  | { finding: Finding; result: 'failed'; detail: string };
