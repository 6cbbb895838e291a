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
    // A check may change state itself (a claim starts a job), which emits 'change' synchronously: that
    // nested call must not run the check again (it would hand the same runner a second job); it is
    // noted and re-run once the outer check is done.
    let checking = false;
    let again = false;
    const onChange = () => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          const v = check();
          if (v !== undefined) {
            finish(v);
            return;
          }
        } while (again && !done);
      } finally {
        checking = false;
      }
    };
    const onClose = () => finish(undefined);
    const timer = setTimeout(() => finish(check()), ms);
    state.on('change', onChange);
    res.on('close', onClose);
    onChange();
  });
}
