/**
 * Ends a command that failed at run time: `error: <message>` on stderr, exit code 1. Not commander's
 * `cmd.error()`, which appends "(add --help for usage)" — right for a bad flag, noise after a failed
 * download. Messages of our errors already say what to do next.
 */
export function reportError(err: unknown): void {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
