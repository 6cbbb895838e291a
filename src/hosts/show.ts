import type { StatusTarget } from '../status/client.js';
import { cordonHost, fetchHosts } from './client.js';
import { type Paint, renderHosts } from './render.js';

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

export interface HostsCommand {
  target: StatusTarget;
  /** Absent: list the hosts. */
  cordon?: { name: string; cordoned: boolean };
  json: boolean;
  color: boolean;
  timeoutMs: number;
  write: (text: string) => void;
}

/** `runner hosts [cordon|uncordon NAME]`: one request to the daemon, its answer printed. */
export async function runHostsCommand(o: HostsCommand): Promise<void> {
  const paint: Paint = (style, text) => (o.color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text);
  if (o.cordon) {
    const host = await cordonHost(o.target, o.cordon.name, o.cordon.cordoned, o.timeoutMs);
    if (o.json) {
      o.write(`${JSON.stringify({ host })}\n`);
      return;
    }
    const busy = host.used.count;
    o.write(
      host.cordoned
        ? `${host.name} cordoned: no new runners there; ${busy} runner${busy === 1 ? '' : 's'} on it finish${busy === 1 ? 'es' : ''} their jobs.\n`
        : `${host.name} uncordoned: it takes new runners again.\n`,
    );
    return;
  }
  const { hosts, raw } = await fetchHosts(o.target, o.timeoutMs);
  o.write(o.json ? `${raw.trimEnd()}\n` : renderHosts(hosts, paint));
}
