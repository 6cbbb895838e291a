import type { ServerResponse } from 'node:http';
import type { FakeState } from './state.js';

/**
 * Waits until `check` returns a value, the state changes make it so, `ms` passes (→ undefined) or the
 * client goes away (→ undefined). The long poll and the runner's claim both hold requests this way.
 */
export function holdUntil<T>(
  state: FakeState,
  res: ServerResponse,
  ms: number,
  check: () => T | undefined,
  extraWake?: (wake: () => void) => () => void,
): Promise<T | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: T | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      state.off('change', onChange);
      res.off('close', onClose);
      unhook?.();
      resolve(v);
    };
    const onChange = () => {
      const v = check();
      if (v !== undefined) finish(v);
    };
    const onClose = () => finish(undefined);
    const timer = setTimeout(() => finish(check()), ms);
    state.on('change', onChange);
    res.on('close', onClose);
    const unhook = extraWake?.(onChange);
    onChange();
  });
}
