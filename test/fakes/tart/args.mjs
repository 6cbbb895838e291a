import { UsageError } from './errors.mjs';

/**
 * Parses argv the way swift-argument-parser does for our subcommands: `--opt value`, `--opt=value`,
 * flags, positionals anywhere, and (for `exec`) everything after the last positional passed through.
 * spec: { positionals: ['name', ...], rest?: 'command', options: { cpu: 'value', 'random-mac': 'flag' },
 *         short?: { i: 'interactive' }, variadic?: true }
 */
export function parseArgs(command, argv, spec) {
  const opts = {};
  const pos = [];
  const short = spec.short ?? {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (spec.rest && pos.length === spec.positionals.length) {
      return finish(command, spec, opts, pos, argv.slice(i));
    }
    if (a.startsWith('--')) {
      const [key, inline] = a.slice(2).split(/=(.*)/s, 2);
      const kind = spec.options?.[key];
      if (!kind) throw new UsageError(command, `Unknown option '--${key}'`);
      if (kind === 'flag') opts[key] = true;
      else {
        const v = inline ?? argv[++i];
        if (v === undefined) throw new UsageError(command, `Missing value for '--${key}'`);
        opts[key] = kind === 'multi' ? [...(opts[key] ?? []), v] : v;
      }
    } else if (/^-[a-zA-Z]+$/.test(a)) {
      for (const ch of a.slice(1)) {
        const long = short[ch];
        if (!long) throw new UsageError(command, `Unknown option '-${ch}'`);
        if (spec.options?.[long] === 'flag') opts[long] = true;
        else {
          const v = argv[++i];
          if (v === undefined) throw new UsageError(command, `Missing value for '-${ch}'`);
          opts[long] = v;
        }
      }
    } else {
      pos.push(a);
    }
  }
  return finish(command, spec, opts, pos, []);
}

function finish(command, spec, opts, pos, rest) {
  if (pos.length < spec.positionals.length) {
    throw new UsageError(command, `Missing expected argument '<${spec.positionals[pos.length]}>'`);
  }
  if (spec.rest && rest.length === 0)
    throw new UsageError(command, `Missing expected argument '<${spec.rest}> ...'`);
  if (!spec.variadic && !spec.rest && pos.length > spec.positionals.length) {
    throw new UsageError(command, `Unexpected argument '${pos[spec.positionals.length]}'`);
  }
  return { opts, pos, rest };
}
