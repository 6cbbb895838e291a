import type { Encoded } from './encode.js';

/** One setting; `undefined` values are left out so callers can write optional settings inline. */
export type UnitEntry = readonly [key: string, value: Encoded | undefined];

export interface UnitSection {
  name: 'Unit' | 'Service' | 'Install';
  /** Shown as `# …` lines above the settings: why the section looks the way it does. */
  comments?: readonly string[];
  entries: readonly UnitEntry[];
}

/** Renders sections in order. Keys are checked; values are already encoded (see encode.ts). */
export function renderUnitFile(sections: readonly UnitSection[], header: readonly string[] = []): string {
  const out: string[] = header.map(comment);
  for (const section of sections) {
    if (out.length > 0) out.push('');
    out.push(`[${section.name}]`);
    for (const c of section.comments ?? []) out.push(comment(c));
    for (const [key, value] of section.entries) {
      if (!/^[A-Z][A-Za-z]*$/.test(key)) throw new Error(`not a unit setting name: ${key}`);
      if (value !== undefined) out.push(`${key}=${value}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function comment(line: string): string {
  return line === '' ? '#' : `# ${line.replace(/[\r\n]+/g, ' ')}`;
}
