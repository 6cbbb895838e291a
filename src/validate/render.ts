import type { CheckResult, ValidationReport } from './types.js';

const CODES = { ok: '32', fail: '31', skip: '2', warn: '33', dim: '2', bold: '1' } as const;
const MARKS = { ok: '✓', fail: '✗', skip: '–', warn: '!' } as const;

/**
 * The checklist as people read it: config first, then one block per scale set, then the daemon.
 * Every ✗ carries what was seen and a "→" line saying what to do.
 */
export function renderReport(report: ValidationReport, opts: { color: boolean }): string {
  const paint = (style: keyof typeof CODES, text: string) =>
    opts.color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
  const out: string[] = [];
  const line = (c: CheckResult, indent: string) => {
    out.push(
      `${indent}${paint(c.status, MARKS[c.status])} ${c.title}${c.detail ? paint('dim', `: ${c.detail}`) : ''}`,
    );
    if (c.route) out.push(`${indent}  ${paint('dim', `↳ ${c.route}`)}`);
    if (c.hint && (c.status === 'fail' || c.status === 'warn')) out.push(`${indent}  → ${c.hint}`);
  };
  const sets: string[] = [];
  for (const c of report.checks)
    if (c.scaleSet !== undefined && !sets.includes(c.scaleSet)) sets.push(c.scaleSet);

  for (const c of report.checks.filter((c) => c.id === 'config' || c.id === 'remote')) line(c, '');
  for (const name of sets) {
    out.push('', paint('bold', `scale set ${JSON.stringify(name)}`));
    for (const c of report.checks.filter((c) => c.scaleSet === name)) line(c, '  ');
  }
  const daemon = report.checks.filter(
    (c) => c.scaleSet === undefined && c.id !== 'config' && c.id !== 'remote',
  );
  if (daemon.length > 0) {
    out.push('', paint('bold', 'daemon'));
    for (const c of daemon) line(c, '  ');
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  const warnings = warned === 0 ? '' : ` (${warned === 1 ? '1 warning' : `${warned} warnings`})`;
  out.push(
    '',
    failed === 0
      ? paint('ok', `All checks passed${warnings}.`)
      : paint('fail', `${failed === 1 ? '1 problem' : `${failed} problems`} found${warnings}.`),
  );
  return `${out.join('\n')}\n`;
}
