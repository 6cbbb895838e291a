import type { Readable } from 'node:stream';

/**
 * Newline-delimited JSON objects from an engine stream (events, pull progress). A chunk may end
 * mid-object, so text is carried over to the next chunk. Lines that are not JSON objects are skipped:
 * one garbled line must not end a watch. Ends when the stream ends; throws when it errors or is
 * destroyed before its end, which is how a broken event connection is noticed.
 */
export async function* jsonLines(stream: Readable): AsyncGenerator<Record<string, unknown>> {
  let rest = '';
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      const obj = parse(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
      if (obj) yield obj;
      nl = rest.indexOf('\n');
    }
  }
  const last = parse(rest);
  if (last) yield last;
}

function parse(line: string): Record<string, unknown> | undefined {
  const text = line.trim();
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
