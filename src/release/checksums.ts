import { createHash } from 'node:crypto';

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `sha256sum` output: one `<hex>  <name>` line per file, which `sha256sum -c` and `shasum -a 256 -c` read. */
export function formatChecksums(entries: ReadonlyMap<string, string>): string {
  return [...entries]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, hex]) => `${hex}  ${name}\n`)
    .join('');
}

/**
 * Reads `sha256sum` output (text `  ` or binary ` *` mode). Lines that are not checksums are an error
 * rather than skipped: a mangled file must not silently lose the entry we are about to look up.
 */
export function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(trimmed);
    if (!m)
      throw new Error(
        `checksums.txt line ${i + 1} is not "<sha256>  <file>": ${JSON.stringify(trimmed.slice(0, 80))}`,
      );
    out.set(m[2]!, m[1]!.toLowerCase());
  }
  return out;
}
