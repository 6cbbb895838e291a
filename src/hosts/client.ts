import { askDaemon, type StatusTarget } from '../status/client.js';
import { parseCordon, parseHosts, type ShownHost } from '../status/schema.js';

/** GET /api/hosts: every host of the daemon; `raw` as the daemon sent it, for --json. */
export async function fetchHosts(
  target: StatusTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ hosts: ShownHost[]; raw: string }> {
  const { value, raw } = await askDaemon(
    target,
    { path: '/api/hosts', timeoutMs, signal, what: 'a list of hosts' },
    parseHosts,
  );
  return { hosts: value, raw };
}

/** POST /api/hosts/NAME/cordon (or uncordon): the host as it is afterwards. */
export async function cordonHost(
  target: StatusTarget,
  name: string,
  cordoned: boolean,
  timeoutMs: number,
): Promise<ShownHost> {
  const path = `/api/hosts/${encodeURIComponent(name)}/${cordoned ? 'cordon' : 'uncordon'}`;
  const { value } = await askDaemon(
    target,
    { path, method: 'POST', timeoutMs, what: 'the host it cordoned' },
    parseCordon,
  );
  return value;
}
