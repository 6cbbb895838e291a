import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

export interface BundleOptions {
  /** The CLI entry, e.g. cmd/runner.ts. */
  entry: string;
  outFile: string;
  version: string;
  commit: string;
  date: string;
}

/**
 * Bundles the CLI into one ESM file whose only imports are Node built-ins. Build facts are fixed here
 * by replacing the `process.env.RUNNER_BUILD_*` reads, so the binary reports what it was built from
 * regardless of the environment it later runs in.
 */
export async function bundleCli(opts: BundleOptions): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
  await build({
    entryPoints: [opts.entry],
    outfile: opts.outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Optional native add-ons (dockerode → ssh2 → cpu-features, ssh2's crypto binding) cannot live in
    // a single file. Their callers already wrap the require in try/catch and fall back to JS.
    external: ['cpu-features', '*.node'],
    define: {
      'process.env.RUNNER_BUILD_VERSION': JSON.stringify(opts.version),
      'process.env.RUNNER_BUILD_COMMIT': JSON.stringify(opts.commit),
      'process.env.RUNNER_BUILD_DATE': JSON.stringify(opts.date),
      // The binary has no package.json beside it; `runner version` still says which Node runner needs.
      'process.env.RUNNER_BUILD_NODE_RANGE': JSON.stringify(pkg.engines.node),
      // CommonJS dependencies read these; in an ESM bundle they would be undefined globals.
      __filename: '__runnerFilename',
      __dirname: '__runnerDirname',
    },
    banner: {
      js: [
        "import { createRequire as __runnerCreateRequire } from 'node:module';",
        "import { dirname as __runnerPathDirname } from 'node:path';",
        // esbuild's require shim for bundled CommonJS calls this for built-ins it left external.
        'const require = __runnerCreateRequire(process.execPath);',
        'const __runnerFilename = process.execPath;',
        'const __runnerDirname = __runnerPathDirname(process.execPath);',
      ].join('\n'),
    },
    plugins: [deferredModules],
    // Drops comments too: a few in dependencies hold non-ASCII characters, which made V8 keep the whole
    // 6 MB source as a two-byte string (measured −8 MB RSS). Names stay, so stack traces still read.
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

/**
 * Modules a dependency requires at load time but runner only needs in a rare case: dockerode's
 * BuildKit session (gRPC and protobuf) and docker-modem's SSH transport (ssh2, whose poly1305 alone
 * allocates a 16 MB heap), used only for `ssh://` engines. Each is replaced, for that importer only, by
 * a function that requires the real module on first call; the bundle still contains it.
 */
const DEFERRED: readonly { importer: RegExp; specifier: string }[] = [
  { importer: /[\\/]docker-modem[\\/]lib[\\/]modem\.js$/, specifier: './ssh' },
  { importer: /[\\/]dockerode[\\/]lib[\\/]docker\.js$/, specifier: './session' },
];

const deferredModules: Plugin = {
  name: 'runner-deferred-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\/(ssh|session)$/ }, async (args) => {
      if (args.namespace === 'deferred') return undefined;
      if (!DEFERRED.some((d) => d.specifier === args.path && d.importer.test(args.importer)))
        return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'deferred' };
    });
    b.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => ({
      // Both modules export a single function.
      contents: `module.exports = function deferred(...args) { return require(${JSON.stringify(args.path)})(...args); };`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};
