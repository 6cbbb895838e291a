import { configKeys } from './keys.js';

/**
 * The README's configuration reference, rendered from the schema so the docs cannot drift:
 * test/config/reference.test.ts fails when README.md holds anything else.
 */
export function renderConfigReference(): string {
  const rows = configKeys().map((k) => {
    const def = k.default ?? (k.defaultNote ? `*${k.defaultNote}*` : '—');
    const where = k.scope === 'global' ? 'global' : 'global, `[[scaleset]]`';
    const env = k.env ? `\`${k.env}\`` : '';
    const range = k.range ?? '';
    return `| \`${k.path}\` | ${mdEscape(def)} | ${mdEscape(range)} | ${where} | ${env} | ${mdEscape(k.description)} |`;
  });
  const header = [
    '| key | default | range | where | env | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  return [...header, ...rows].join('\n');
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export const REFERENCE_START =
  '<!-- config-reference:start (generated from the schema; UPDATE_README=1 npx vitest run test/config/reference.test.ts) -->';
export const REFERENCE_END = '<!-- config-reference:end -->';
