import { z } from 'zod';
import { type TartCli, TIMEOUTS } from './cli.js';
import { TartError } from './errors.js';

/** One row of `tart list --format json`. Older tart versions have `Running` but no `State`. */
const VmRow = z.object({
  Name: z.string(),
  Source: z.string(),
  State: z.string().optional(),
  Running: z.boolean().optional(),
});

export interface TartVm {
  name: string;
  source: 'local' | 'oci';
  running: boolean;
}

/** Lists VMs and images, validating tart's output rather than trusting it. */
export async function listVms(cli: TartCli, signal?: AbortSignal): Promise<TartVm[]> {
  const stdout = await cli.call(['list', '--format', 'json'], {
    timeout: TIMEOUTS.quick,
    ...(signal ? { signal } : {}),
  });
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (err) {
    throw new TartError('TART_COMMAND_FAILED', `tart list printed invalid JSON: ${stdout.slice(0, 120)}`, {
      cause: err,
    });
  }
  const rows = z.array(VmRow).safeParse(json);
  if (!rows.success) {
    throw new TartError('TART_COMMAND_FAILED', `unexpected tart list output: ${rows.error.message}`);
  }
  return rows.data.map((r) => ({
    name: r.Name,
    source: r.Source.toLowerCase() === 'oci' ? 'oci' : 'local',
    running: r.State === undefined ? r.Running === true : r.State === 'running',
  }));
}

/** Local VMs by exact name. */
export function localVms(vms: readonly TartVm[]): Map<string, TartVm> {
  return new Map(vms.filter((v) => v.source === 'local').map((v) => [v.name, v]));
}
