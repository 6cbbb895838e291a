import type { ActionsClient } from '../github/index.js';
import { findActionsServiceError, isJobStillRunning, isRunnerNotFound } from '../github/index.js';

/**
 * The id of runner `name` if GitHub still has it registered. A stored id is checked against the name,
 * so an id that now belongs to someone else's runner is never touched.
 */
export async function registeredId(
  client: ActionsClient,
  name: string,
  runnerId: number | undefined,
  signal: AbortSignal,
): Promise<number | undefined> {
  if (runnerId === undefined) return (await client.getRunnerByName(name, signal))?.id;
  try {
    const r = await client.getRunner(runnerId, signal);
    return r.name === name ? r.id : undefined;
  } catch (err) {
    if (isGone(err)) return undefined;
    throw err;
  }
}

/** Removes a registration: 'busy' when GitHub refuses because the runner is running a job. */
export async function unregister(
  client: ActionsClient,
  runnerId: number,
  signal: AbortSignal,
): Promise<'removed' | 'gone' | 'busy'> {
  try {
    await client.removeRunner(runnerId, signal);
    return 'removed';
  } catch (err) {
    if (isGone(err)) return 'gone';
    if (isJobStillRunning(err)) return 'busy';
    throw err;
  }
}

function isGone(err: unknown): boolean {
  return isRunnerNotFound(err) || findActionsServiceError(err)?.status === 404;
}
