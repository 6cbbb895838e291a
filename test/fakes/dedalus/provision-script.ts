import { readFileSync } from 'node:fs';

/**
 * A provision script that installs `runSh` (a host file) as `$RUNNER_DIR/run.sh`. The file's text is
 * embedded, not copied by path: the fake rewrites guest paths in scripts, and a host path that happens
 * to start with /tmp must not be rewritten with them.
 */
export function provisionInstalling(runSh: string, extra = ''): string {
  const body = readFileSync(runSh, 'utf8');
  const marker = 'RUNNER_SCRIPT_EOF';
  if (body.includes(marker)) throw new Error(`${runSh} contains ${marker}`);
  return [
    '#!/bin/sh',
    'set -eu',
    'mkdir -p "$RUNNER_DIR"',
    `cat > "$RUNNER_DIR/run.sh" <<'${marker}'`,
    body.replace(/\n$/, ''),
    marker,
    'chmod +x "$RUNNER_DIR/run.sh"',
    extra,
    '',
  ].join('\n');
}
