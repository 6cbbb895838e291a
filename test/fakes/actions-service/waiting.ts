import type { ServerResponse } from 'node:http';
import type { FakeState } from './state.js';

/**
 * Holds a request until `check` returns a value (re-checked on every state change), `ms` passes (→ one
 * last check) or the client goes away (→ undefined). Long polls and runner claims wait this way.
 */
export function holdUntil<T>(
  state: FakeState,
  res: ServerResponse,
  ms: number,
  check: () => T | undefined,
): Promise<T | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: T | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      state.off('change', onChange);
      res.off('close', onClose);
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
    onChange();
  });
}
