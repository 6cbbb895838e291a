import type { Clock } from '../kernel/clock.js';

/** How often the parent is looked for. */
const CHECK_EVERY_MS = 1_000;

/**
 * True when npm started this process (`npx runner …`, `npm exec`, `npm run`/`npm start`): npm runs the
 * command through `sh -c`, so the tree is npm → sh → runner. A SIGTERM to npm is passed to sh, which
 * dies of it without passing it on; runner is left re-parented, never told to stop.
 */
export function startedByNpm(env: NodeJS.ProcessEnv): boolean {
  return env.npm_lifecycle_event !== undefined || env.npm_command !== undefined;
}

export interface ParentWatchOptions {
  clock: Clock;
  /** The current parent pid (process.ppid). */
  ppid: () => number;
  /** Called once, when the parent that started this process is gone. */
  onGone: (formerParent: number) => void;
}

/**
 * Notices when the process that started this one is gone (the process is re-parented, so its parent
 * pid changes) and calls `onGone` once. Returns the function that stops watching.
 */
export function watchParent(opts: ParentWatchOptions): () => void {
  const parent = opts.ppid();
  let cancel = () => {};
  let stopped = false;
  const check = () => {
    if (stopped) return;
    if (opts.ppid() !== parent) {
      stopped = true;
      opts.onGone(parent);
      return;
    }
    cancel = opts.clock.setTimer(check, CHECK_EVERY_MS);
  };
  cancel = opts.clock.setTimer(check, CHECK_EVERY_MS);
  return () => {
    stopped = true;
    cancel();
  };
}
