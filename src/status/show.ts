import { every } from '../util/every.js';
import { fetchStatus, type StatusTarget } from './client.js';
import { renderStatus } from './render.js';

export interface ShowOptions {
  target: StatusTarget;
  json: boolean;
  /** Refresh interval; undefined shows once. */
  watchMs?: number;
  timeoutMs: number;
  color: boolean;
  /** Redraw in place (a terminal) rather than append. */
  clearScreen: boolean;
  write: (text: string) => void;
  now?: () => number;
  signal?: AbortSignal;
}

/** Once: fetch and print, errors thrown. With watchMs: until the signal aborts, errors shown and retried. */
export async function showStatus(o: ShowOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const once = async () => {
    const { status, raw } = await fetchStatus(o.target, o.timeoutMs, o.signal);
    // Watching with --json prints one compact line per refresh (NDJSON), so it can be piped.
    if (o.json)
      return o.watchMs === undefined ? `${raw.trimEnd()}\n` : `${JSON.stringify(JSON.parse(raw))}\n`;
    return renderStatus(status, { color: o.color, now: now() });
  };
  if (o.watchMs === undefined) {
    o.write(await once());
    return;
  }
  const signal = o.signal ?? new AbortController().signal;
  const clear = o.clearScreen && !o.json ? '\u001b[2J\u001b[H' : '';
  const stamp = () =>
    `${new Date(now()).toLocaleTimeString()} · every ${o.watchMs! / 1000}s · Ctrl-C to stop\n`;
  const { done } = every(
    o.watchMs,
    async () => {
      const text = await once();
      if (!signal.aborted) o.write(o.json ? text : `${clear}${stamp()}${text}${clear ? '' : '\n'}`);
    },
    {
      signal,
      onError: (err) => {
        if (!signal.aborted)
          o.write(
            `${clear}${stamp()}${err instanceof Error ? err.message : String(err)}\n${clear ? '' : '\n'}`,
          );
      },
    },
  );
  await done;
}
