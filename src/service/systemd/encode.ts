import { RunnerError } from '../../kernel/errors.js';
/**
 * Encoders for systemd unit values. The unit writer only accepts `Encoded` values, so a path or
 * argument from the user can reach a unit file only through one of these: `%` specifiers, `$`
 * expansion, quotes, backslashes and line breaks are all handled here, once.
 * Rules: systemd.syntax(7) (quoting, C escapes) and systemd.unit(5) "Specifiers".
 */
export type Encoded = string & { readonly __systemdEncoded: unique symbol };

export class UnitValueError extends RunnerError {
  readonly code = 'UNIT_VALUE' as const;
}

const SAFE_WORD = /^[A-Za-z0-9_.:@+/=,-]+$/;
const ACCOUNT = /^[a-z_][a-z0-9_-]{0,31}$/;

function checkText(value: string, what: string): void {
  // A newline would start a new setting chosen by whoever controls the value.
  if (hasControlCharacter(value)) {
    throw new UnitValueError(
      `${what} contains a control character (newline, tab, …): ${JSON.stringify(value)}`,
    );
  }
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Specifiers (`%n`, `%h`, …) are expanded in almost every setting; a literal `%` is `%%`. */
function noSpecifiers(value: string): string {
  return value.replaceAll('%', '%%');
}

/** A fixed token such as `on-failure`, `yes`, `network-online.target`; never user input. */
export function word(value: string): Encoded {
  if (!SAFE_WORD.test(value)) throw new UnitValueError(`not a plain unit word: ${JSON.stringify(value)}`);
  return value as Encoded;
}

/** A space-separated list of fixed tokens (After=, RestrictAddressFamilies=). */
export function words(values: readonly string[]): Encoded {
  return values.map(word).join(' ') as Encoded;
}

/** An empty assignment, which resets a list setting (CapabilityBoundingSet= drops every capability). */
export function empty(): Encoded {
  return '' as Encoded;
}

/** Free text (Description=): one line, specifiers escaped. */
export function text(value: string): Encoded {
  checkText(value, 'text');
  return noSpecifiers(value.trim()) as Encoded;
}

export function integer(value: number): Encoded {
  if (!Number.isInteger(value) || value < 0) throw new UnitValueError(`not a non-negative integer: ${value}`);
  return String(value) as Encoded;
}

/** User=, Group=, SupplementaryGroups= entries: POSIX-ish account names only. */
export function account(name: string): Encoded {
  if (!ACCOUNT.test(name))
    throw new UnitValueError(`not a valid user or group name: ${JSON.stringify(name)}`);
  return name as Encoded;
}

export function accounts(names: readonly string[]): Encoded {
  return names.map(account).join(' ') as Encoded;
}

function absolute(path: string, what: string): void {
  checkText(path, what);
  if (!path.startsWith('/'))
    throw new UnitValueError(`${what} must be an absolute path, got ${JSON.stringify(path)}`);
}

/** A double-quoted word with C escapes (systemd.syntax(7)); unquoted when it needs nothing. */
function quoteWord(value: string): string {
  if (SAFE_WORD.test(value)) return value;
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * Settings that take the rest of the line as one path (EnvironmentFile=, WorkingDirectory=): no
 * quoting is parsed there, so spaces are fine and only specifiers need escaping. Outer whitespace
 * would be trimmed by systemd, so it is refused instead of silently changing the path.
 */
export function linePath(path: string, opts: { optional?: boolean } = {}): Encoded {
  absolute(path, 'path');
  if (path !== path.trim())
    throw new UnitValueError(`path has leading or trailing spaces: ${JSON.stringify(path)}`);
  return `${opts.optional ? '-' : ''}${noSpecifiers(path)}` as Encoded;
}

/** Space-separated path lists (ReadWritePaths=), each entry quoted when needed. */
export function pathList(paths: readonly { path: string; optional?: boolean }[]): Encoded {
  return paths
    .map(({ path, optional }) => {
      absolute(path, 'path');
      return quoteWord(`${optional ? '-' : ''}${noSpecifiers(path)}`);
    })
    .join(' ') as Encoded;
}

/**
 * ExecStart= command line. Besides quoting, `$` in arguments must be doubled (systemd expands `$VAR`
 * and `${VAR}` there, though not in the executable's path) and a lone `;` would separate commands.
 */
export function commandLine(argv: readonly string[]): Encoded {
  const [exe] = argv;
  if (exe === undefined) throw new UnitValueError('empty command line');
  absolute(exe, 'executable');
  return argv
    .map((arg, i) => {
      checkText(arg, `argument ${i}`);
      const escaped = i === 0 ? noSpecifiers(arg) : noSpecifiers(arg).replaceAll('$', '$$$$');
      if (escaped === ';') return '\\;';
      return escaped === '' ? '""' : quoteWord(escaped);
    })
    .join(' ') as Encoded;
}

/** Environment= assignments, each quoted as a whole: `"PATH=/a b:/c"`. No `$` expansion happens here. */
export function environment(vars: Readonly<Record<string, string>>): Encoded {
  return Object.entries(vars)
    .map(([key, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
        throw new UnitValueError(`not a valid variable name: ${key}`);
      checkText(value, `${key}`);
      return quoteWord(`${key}=${noSpecifiers(value)}`);
    })
    .join(' ') as Encoded;
}
