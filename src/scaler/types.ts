import type { RunnerStateName } from '../health/status-types.js';
import type { Secret } from '../secret.js';

/** What the scaler needs from GitHub (an adapter over ActionsClient). */
export interface Registrar {
  /** JIT-registers a runner named `name`. */
  register(name: string, signal?: AbortSignal): Promise<{ runnerId: number; jitConfig: Secret }>;
  /** Removes a registration. 'busy' = GitHub says a job is still running on it (keep the runner). */
  unregister(runnerId: number, signal?: AbortSignal): Promise<'removed' | 'not-found' | 'busy'>;
  /** Finds a registration by name (to recover the id of a runner whose id we lost). */
  findByName?(name: string, signal?: AbortSignal): Promise<number | undefined>;
}

export interface RunnerRecord {
  name: string;
  state: RunnerStateName;
  runnerId?: number;
  resourceId?: string;
  tier?: 'cold' | 'warm' | 'woken';
  /** When the runner entered its current state (ms epoch). */
  since: number;
  createdAt: number;
  jobRequestId?: number;
  /** Taken over from a previous process after a restart. */
  adopted?: boolean;
  /** The JIT config handed to the backend; forgotten by the log scrubber once the runner is gone. */
  jitConfig?: Secret;
  /** The runner's process is known to be over: its resource may go even if GitHub can't be reached. */
  exited?: boolean;
  unregistered?: boolean;
  resourceRemoved?: boolean;
  /** A scale-down whose deregistration failed is not retried before this time (ms epoch). */
  retireBlockedUntil?: number;
  /** The backend reported the exit while the start was still in flight. */
  exitedEarly?: boolean;
}
