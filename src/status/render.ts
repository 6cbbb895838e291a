import { stripVTControlCharacters } from 'node:util';
import { CUSTOM_LABELS_FLAG } from '../github/scale-set-labels.js';
import { jobState } from '../health/job-record.js';
import { hostsTable } from '../hosts/render.js';
import type { ShownStatus } from './schema.js';

type ScaleSet = ShownStatus['scaleSets'][number];

export interface RenderOptions {
  color: boolean;
  now: number;
  /** Most recent jobs shown per scale set. */
  jobs?: number;
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
type Style = keyof typeof CODES;

/** A plain-text status report: one block per scale set, rows in a stable order. */
export function renderStatus(s: ShownStatus, opts: RenderOptions): string {
  const paint = (style: Style, text: string) =>
    opts.color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
  const flag = (ok: boolean, yes: string, no: string) => paint(ok ? 'green' : 'red', ok ? yes : no);
  const lines = [
    `${paint('bold', `runner ${s.version}`)} · up ${span(opts.now - Date.parse(s.startedAt))} · ${flag(s.healthy, 'healthy', 'unhealthy')} · ${flag(s.ready, 'ready', 'not ready')}`,
  ];
  if (s.scaleSets.length === 0) lines.push('', 'No scale sets registered yet.');
  for (const set of s.scaleSets) lines.push('', ...scaleSetBlock(set, opts, paint, flag));
  if (s.hosts && s.hosts.length > 0) {
    lines.push('', paint('bold', 'hosts'), ...hostsTable(s.hosts, paint).map((l) => `  ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

function scaleSetBlock(
  set: ScaleSet,
  opts: RenderOptions,
  paint: (style: Style, text: string) => string,
  flag: (ok: boolean, yes: string, no: string) => string,
): string[] {
  const total = set.runners.length;
  const lines = [
    `${paint('bold', set.name)}  ${set.backend}  ${set.phase}  ${flag(set.healthy, 'healthy', 'unhealthy')}`,
  ];
  if (!set.healthy && set.reason) lines.push(`  ${paint('red', `reason   ${set.reason}`)}`);
  for (const warning of set.warnings ?? []) lines.push(`  ${paint('yellow', `warning  ${warning}`)}`);
  const counts = Object.entries(set.runnerCounts)
    .filter(([state, n]) => n > 0 || state === 'idle' || state === 'busy')
    .map(([state, n]) => `${state} ${n}`)
    .join(' · ');
  lines.push(
    `  runners  ${total}/${set.maxRunners} (min ${set.minRunners}, desired ${set.desiredRunners})  ${counts}`,
  );
  const pool = Object.entries(set.pool).map(([tier, n]) => `${tier} ${n}`);
  if (pool.length > 0) lines.push(`  pool     ${pool.join(' · ')}`);
  const costs = (set.costs ?? []).map((c) => costText(c));
  if (costs.length > 0) lines.push(`  costs    ${costs.join(' · ')}`);
  if (set.shape) lines.push(`  shape    ${shapeText(set.shape)}`);
  if (set.waiting)
    lines.push(
      `  ${paint('yellow', `waiting  ${set.waiting.text ?? `${set.waiting.jobs} (${set.waiting.reason})`}`)}`,
    );
  if (set.droppedLabels && set.droppedLabels.length > 0) {
    lines.push(
      `  ${paint('red', `labels   dropped by GitHub: ${set.droppedLabels.join(', ')} (jobs that need them wait; on GHES 3.18–3.20 turn on ${CUSTOM_LABELS_FLAG})`)}`,
    );
  }
  const decoding = decodingLine(set, opts.now);
  if (decoding) lines.push(`  ${paint(decoding.lost ? 'red' : 'yellow', `decoding ${decoding.text}`)}`);

  if (total > 0) {
    const rows = [...set.runners]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((r) => [
        r.name,
        paintState(r.state, paint),
        r.tier ?? '-',
        span(opts.now - Date.parse(r.since)),
        r.jobRequestId?.toString() ?? '-',
      ]);
    lines.push(...table(['NAME', 'STATE', 'TIER', 'FOR', 'JOB'], rows).map((l) => `  ${l}`));
  }
  const jobs = [...set.recentJobs]
    .sort((a, b) => lastMoment(b).localeCompare(lastMoment(a)))
    .slice(0, opts.jobs ?? 5);
  if (jobs.length > 0) {
    lines.push('  recent jobs');
    const rows = jobs.map((j) => [
      String(j.requestId),
      paintResult(
        j.state ?? jobState({ result: j.result, started: j.startedAt, completed: j.completedAt }),
        paint,
      ),
      j.repository ?? '-',
      j.jobDisplayName ?? '-',
      j.pickupMs === undefined ? '-' : span(j.pickupMs),
      j.executionMs === undefined ? '-' : span(j.executionMs),
      j.completedAt ? `${span(opts.now - Date.parse(j.completedAt))} ago` : '-',
    ]);
    lines.push(
      ...table(['JOB', 'RESULT', 'REPOSITORY', 'NAME', 'PICKUP', 'DURATION', 'FINISHED'], rows).map(
        (l) => `  ${l}`,
      ),
    );
  }
  return lines;
}

/** "cpu=2 ram=4 arch=arm64 of linux": the size as the labels say it, and the set it was declared in. */
function shapeText(shape: NonNullable<ScaleSet['shape']>): string {
  const parts = [`cpu=${shape.cpu}`, `ram=${shape.ram}`];
  if (shape.disk !== undefined) parts.push(`disk=${shape.disk}`);
  if (shape.arch !== undefined) parts.push(`arch=${shape.arch}`);
  if (shape.image !== undefined) parts.push(`image=${shape.image}`);
  return `${parts.join(' ')} of ${shape.base}`;
}

/** What could not be decoded, when anything: counts, then the last one with its id and reason. */
function decodingLine(set: ScaleSet, now: number): { text: string; lost: boolean } | undefined {
  const messages = set.counters?.undecodableMessages ?? 0;
  const jobMessages = set.counters?.invalidJobMessages ?? 0;
  const last = set.lastUndecodable;
  if (messages === 0 && jobMessages === 0 && !last) return undefined;
  const parts = [];
  if (messages > 0) parts.push(`${plural(messages, 'message')} acknowledged unread (their jobs lost)`);
  if (jobMessages > 0) parts.push(`${plural(jobMessages, 'job message')} skipped`);
  if (last) {
    const where =
      last.kind === 'message'
        ? `message ${last.messageId}`
        : `job message ${last.jobIndex ?? '?'} of message ${last.messageId}${last.runnerRequestId !== undefined ? ` (job ${last.runnerRequestId})` : ''}`;
    parts.push(`last: ${where}, ${span(now - Date.parse(last.at))} ago: ${last.reason}`);
  }
  return { text: parts.join(' · '), lost: messages > 0 };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The latest thing that happened to a job, for "newest first": a queued job is as new as its queueing. */
function lastMoment(j: ScaleSet['recentJobs'][number]): string {
  return j.completedAt ?? j.startedAt ?? j.queuedAt ?? '';
}

function paintState(state: string, paint: (style: Style, text: string) => string): string {
  if (state === 'failed') return paint('red', state);
  if (state === 'busy') return paint('yellow', state);
  if (state === 'idle') return paint('green', state);
  return state;
}

function paintResult(result: string, paint: (style: Style, text: string) => string): string {
  return result === 'succeeded'
    ? paint('green', result)
    : result === 'failed'
      ? paint('red', result)
      : result;
}

/** Columns padded to the widest cell, measured without colour codes. */
function table(header: string[], rows: string[][]): string[] {
  const visible = (s: string) => stripVTControlCharacters(s).length;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visible(c))))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** 850 ms → "0.9s", 75 s → "1m15s", 3 h 4 m → "3h4m". */
export function span(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}

/** "hold-window 312.5 s awake ≈ $0.0079": a backend's cost beyond its jobs since the daemon started. */
export function costText(c: { cause: string; seconds: number; usd: number }): string {
  return `${c.cause} ${c.seconds} s awake ≈ $${c.usd.toFixed(4)}`;
}
