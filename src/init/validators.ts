import { readFile } from 'node:fs/promises';
import { normalizeConfigUrl, URL_EXPECTED } from '../config/github-url.js';

/**
 * Checks for one answer each: `undefined` when fine, else an "expected …, got …" sentence. The wizard
 * shows it under the prompt (so a typo is fixed where it was made) and flags turn it into an error.
 * The URL rule is the config's own, so init cannot accept a URL that `run` would reject.
 */

export function checkUrl(value: string): string | undefined {
  return normalizeConfigUrl(value) === undefined ? `expected ${URL_EXPECTED}, got ${show(value)}` : undefined;
}

export function checkNonEmpty(value: string): string | undefined {
  return value.trim().length > 0 ? undefined : 'expected a non-empty value';
}

export function checkEnvName(value: string): string | undefined {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(value)
    ? undefined
    : `expected an environment variable name like RUNNER_TOKEN (letters, digits, _), got ${show(value)}`;
}

export function parseIntIn(value: string, min: number, max = Number.MAX_SAFE_INTEGER): number | string {
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    return `expected an integer ${range}, got ${show(value)}`;
  }
  return n;
}

/** The key is read at start-up; a wrong path found now saves a failed first start. */
export async function checkPrivateKeyFile(path: string): Promise<string | undefined> {
  if (path.trim() === '') return 'expected the path of the App’s PEM private key';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : String(code);
    return `expected a readable PEM private key file, got ${show(path)} (${why})`;
  }
  return /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/.test(text)
    ? undefined
    : `expected a PEM private key file, got ${show(path)} without a PRIVATE KEY block`;
}

function show(value: string): string {
  return JSON.stringify(value);
}
