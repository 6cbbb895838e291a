import { stringify } from 'smol-toml';
import { ConfigError } from './errors.js';
import { type IssueContext, issueProblems } from './issues.js';
import { formatKeyPath, isTable } from './paths.js';
import { type ConfigFileInput, fileSchema } from './schema.js';

/**
 * A config file as TOML text, for `runner init`. Written by the serialiser, never a string template,
 * so every global key lands before the first table header (runscaler's init put log-level inside
 * [docker]); checked against the schema first, so init cannot write a file run would reject.
 * `comment` lines go on top, each prefixed with "# ".
 */
export function renderConfigToml(config: ConfigFileInput, comment: readonly string[] = []): string {
  const result = fileSchema.safeParse(config);
  if (!result.success) {
    const ctx: IssueContext = {
      raw: config,
      locate: (path) => ({ source: { kind: 'file', file: '(rendered config)' }, key: formatKeyPath(path) }),
      inScaleSet: false,
    };
    throw new ConfigError(result.error.issues.flatMap((issue) => issueProblems(issue, ctx)));
  }
  const header = comment.map((line) => (line === '' ? '#' : `# ${line}`)).join('\n');
  const body = stringify(withoutUndefined(config));
  return header === '' ? body : `${header}\n\n${body}`;
}

/** smol-toml rejects undefined; an optional key left undefined simply means "not written". */
function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (isTable(v)) out[key] = withoutUndefined(v);
    else if (Array.isArray(v)) out[key] = v.map((item) => (isTable(item) ? withoutUndefined(item) : item));
    else out[key] = v;
  }
  return out;
}
