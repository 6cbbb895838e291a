import type { DoctorReport } from './diagnose.js';
import { type Finding, type FixOutcome, RESOURCE } from './types.js';

const CODES = { ok: '32', fail: '31', warn: '33', dim: '2', bold: '1' } as const;

/** What doctor cannot see, said every time so "nothing found" is never read as more than it is. */
export const BLIND_SPOTS = [
  'Message sessions at GitHub cannot be listed through the API. A session a crashed daemon left behind expires on its own; until then runner run retries its session conflict. Doctor cannot see or remove it.',
  'Registrations at GitHub are checked only for runners this state-dir recorded; GitHub has no API to list a scale set’s runners by owner.',
];

export function renderDoctor(report: DoctorReport, opts: { color: boolean }): string {
  const paint = (style: keyof typeof CODES, text: string) =>
    opts.color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
  const out: string[] = [
    `runner doctor: ${report.file || '(flags and environment only)'}`,
    `daemon: ${report.daemon.state === 'running' ? 'running' : report.daemon.state === 'stopped' ? 'not running' : 'unknown'} — ${report.daemon.detail}`,
  ];
  if (report.instanceId === undefined) {
    out.push(
      `no instance-id in ${report.stateDir}: no daemon with this config has run here, so nothing can be ours`,
    );
  }
  for (const s of report.scaleSets) {
    out.push('', paint('bold', `scale set ${JSON.stringify(s.scaleSet)} (${s.backend})`));
    for (const f of s.findings) out.push(`  ${paint('fail', '✗')} ${describeFinding(f)}`);
    for (const e of s.errors) out.push(`  ${paint('fail', '✗')} ${e}`);
    for (const k of s.skipped) out.push(`  ${paint('warn', '–')} runner ${k.name} not checked: ${k.reason}`);
    if (s.findings.length === 0 && s.errors.length === 0) {
      out.push(`  ${paint('ok', '✓')} nothing ${s.skipped.length > 0 ? 'else ' : ''}left over`);
    }
    if (s.inUse > 0)
      out.push(paint('dim', `  ${s.inUse} runner(s) in use by the running daemon (not touched)`));
  }
  out.push('', 'Not checked:', ...BLIND_SPOTS.map((b) => `  - ${b}`));
  if (report.refused) out.push('', paint('fail', `refusing to --fix: ${report.refused}`));
  if (report.fixed) {
    out.push('', 'Fixing:');
    for (const o of report.fixed) out.push(`  ${mark(o, paint)} ${describeFinding(o.finding)}: ${o.detail}`);
  }
  for (const e of report.errors) out.push(`${paint('fail', '✗')} ${e}`);
  out.push('', summary(report, paint));
  return `${out.join('\n')}\n`;
}

function describeFinding(f: Finding): string {
  const id = f.runnerId === undefined ? '' : `, runner id ${f.runnerId}`;
  const what = RESOURCE[f.backend] ?? 'resource';
  switch (f.kind) {
    case 'exited':
      return `exited ${what} ${f.name} (${shortId(f.resourceId)}${id}): its runner ended and it was never removed`;
    case 'unmanaged':
      return `${f.state ?? 'running'} ${what} ${f.name} (${shortId(f.resourceId)}${id}): no daemon manages it`;
    case 'registration':
      return `runner ${f.name} registered at GitHub${id}, but its ${what} is gone`;
    case 'stale-record':
      return `state-file entry ${f.name}: gone at GitHub and at the backend`;
  }
}

function mark(o: FixOutcome, paint: (s: keyof typeof CODES, t: string) => string): string {
  return o.result === 'removed'
    ? paint('ok', '✓')
    : o.result === 'skipped'
      ? paint('warn', '–')
      : paint('fail', '✗');
}

function summary(r: DoctorReport, paint: (s: keyof typeof CODES, t: string) => string): string {
  const findings = r.scaleSets.reduce((n, s) => n + s.findings.length, 0);
  const problems = r.scaleSets.reduce((n, s) => n + s.errors.length, 0) + r.errors.length;
  const unchecked = r.scaleSets.reduce((n, s) => n + s.skipped.length, 0);
  // Never "nothing left" while something was not looked at: say how much, every time.
  const butUnchecked =
    unchecked > 0 ? ` among what was checked; ${unchecked} not checked (the – lines above)` : '';
  if (r.fixed) {
    const removed = r.fixed.filter((o) => o.result === 'removed').length;
    const skipped = r.fixed.filter((o) => o.result === 'skipped').length;
    const failed = r.fixed.filter((o) => o.result === 'failed').length;
    if (r.ok) {
      return paint(
        'ok',
        `${removed === 0 ? 'Nothing to remove' : `Removed ${removed} of ${removed}`}${butUnchecked}.`,
      );
    }
    const parts = [`removed ${removed} of ${r.fixed.length}`];
    if (skipped > 0) parts.push(`${skipped} left alone`);
    if (failed > 0) parts.push(`${failed} failed`);
    if (problems > 0) parts.push(`${problems} other error(s)`);
    if (unchecked > 0) parts.push(`${unchecked} not checked`);
    return paint(
      'fail',
      `Not clean: ${parts.join(', ')}. See the lines above, then run runner doctor again.`,
    );
  }
  if (r.ok) return paint('ok', `Nothing left over${butUnchecked}.`);
  const parts: string[] = [];
  if (findings > 0) parts.push(`${findings} left over`);
  if (problems > 0) parts.push(`${problems} could not be checked`);
  if (unchecked > 0) parts.push(`${unchecked} not checked`);
  const next = r.refused
    ? ''
    : findings > 0
      ? ` ${r.daemon.state === 'stopped' ? 'Run' : 'Stop the daemon, then run'} runner doctor --fix to remove them (only what carries our ownership marks).`
      : '';
  return paint('fail', `${parts.join(', ') || 'Not fixed'}.${next}`);
}

function shortId(id: string | undefined): string {
  if (!id) return '?';
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}
