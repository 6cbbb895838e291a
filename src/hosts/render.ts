import type { ShownHost } from '../status/schema.js';

/** How `runner hosts` and `runner status` paint: the same styles as the status report. */
export type Paint = (style: 'red' | 'green' | 'yellow' | 'dim' | 'bold', text: string) => string;

const plain: Paint = (_style, text) => text;

/**
 * The hosts as a table: name, state, cordon, runners, CPUs and memory (in use / budget), then the last
 * error of a host that is not up. Rows in the daemon's order (the config's).
 */
export function hostsTable(hosts: readonly ShownHost[], paint: Paint = plain): string[] {
  if (hosts.length === 0) return ['No hosts.'];
  const rows = hosts.map((h) => [
    h.name,
    h.state,
    h.cordoned ? 'cordoned' : '-',
    `${h.used.count}/${limit(h.budget.count, String)}`,
    `${cpus(h.used.cpus)}/${limit(h.budget.cpus, cpus)}`,
    `${bytes(h.used.memory)}/${limit(h.budget.memory, bytes)}`,
  ]);
  const head = ['HOST', 'STATE', 'CORDON', 'RUNNERS', 'CPUS', 'MEMORY'];
  const widths = head.map((t, i) => Math.max(t.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[], styles: (Parameters<Paint>[0] | undefined)[] = []) =>
    cells
      .map((c, i) => {
        // Padded before painting, so escape codes never upset the columns.
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i] as number);
        const style = styles[i];
        return style ? padded.replace(c, paint(style, c)) : padded;
      })
      .join('  ');
  const out = [
    line(
      head,
      head.map(() => 'bold' as const),
    ),
  ];
  hosts.forEach((h, i) => {
    const state = h.state === 'up' ? 'green' : h.state === 'down' ? 'red' : 'yellow';
    out.push(line(rows[i] as string[], [undefined, state, h.cordoned ? 'yellow' : undefined]));
    if (h.state !== 'up' && h.error) out.push(paint('red', `  ${h.name}: ${h.error}`));
  });
  return out;
}

/** `runner hosts`: the table, and a line saying what a cordon means when some host has one. */
export function renderHosts(hosts: readonly ShownHost[], paint: Paint = plain): string {
  const lines = hostsTable(hosts, paint);
  if (hosts.some((h) => h.cordoned))
    lines.push('', paint('dim', 'A cordoned host takes no new runners; its busy runners finish.'));
  return `${lines.join('\n')}\n`;
}

function limit(value: number | 'unlimited' | 'unknown', show: (n: number) => string): string {
  if (value === 'unlimited') return '∞';
  if (value === 'unknown') return '?';
  return show(value);
}

/** CPUs with at most two decimals: limits like 1.5 stay exact, sums of 0.1 do not print 0.30000000000000004. */
function cpus(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** Bytes in the largest binary unit that keeps a number ≥ 1, one decimal at most. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Math.round(value * 10) / 10}${units[unit]}`;
}
