import { build } from 'esbuild';

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
    legalComments: 'none',
    logLevel: 'warning',
  });
}
