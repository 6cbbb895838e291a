/** A property list value; integers only, as launchd's keys need. */
export type PlistValue =
  | string
  | number
  | boolean
  | readonly PlistValue[]
  | { readonly [key: string]: PlistValue };

/** Serialises a plist as XML (the format launchd reads), escaping every string. */
export function renderPlist(root: PlistValue): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    ...value(root, ''),
    '</plist>',
    '',
  ].join('\n');
}

function value(v: PlistValue, indent: string): string[] {
  if (typeof v === 'string') return [`${indent}<string>${escapeXml(v)}</string>`];
  if (typeof v === 'boolean') return [`${indent}<${v}/>`];
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`plist integers only, got ${v}`);
    return [`${indent}<integer>${v}</integer>`];
  }
  const inner = `${indent}  `;
  if (isArray(v))
    return [`${indent}<array>`, ...v.flatMap((item) => value(item, inner)), `${indent}</array>`];
  const lines = [`${indent}<dict>`];
  for (const [key, item] of Object.entries(v)) {
    lines.push(`${inner}<key>${escapeXml(key)}</key>`, ...value(item, inner));
  }
  lines.push(`${indent}</dict>`);
  return lines;
}

function isArray(v: PlistValue): v is readonly PlistValue[] {
  return Array.isArray(v);
}

function escapeXml(s: string): string {
  // XML 1.0 cannot carry control characters other than tab, newline and carriage return, even escaped.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) {
      throw new Error(`plist string contains a control character: ${JSON.stringify(s)}`);
    }
  }
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
