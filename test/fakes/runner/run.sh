#!/bin/sh
# Plays an ephemeral GitHub Actions runner against the fake Actions service (test/fakes/CONTRACT.md):
# claim a job, hold a lease while running its script, report completion, exit.
# POSIX sh; runs under busybox (sh, wget, base64, sed) and on a Debian host.
set -u

cfg="${ACTIONS_RUNNER_INPUT_JITCONFIG:-}"
if [ "${1:-}" = "--jitconfig" ]; then cfg="${2:-}"; fi
[ -n "$cfg" ] || { echo "run.sh: no JIT config" >&2; exit 2; }

if command -v wget >/dev/null 2>&1; then WGET=wget; else WGET="busybox wget"; fi
json=$(printf '%s' "$cfg" | base64 -d 2>/dev/null) || { echo "run.sh: JIT config is not base64" >&2; exit 2; }
url=$(printf '%s' "$json" | sed -n 's/.*"runnerUrl":"\([^"]*\)".*/\1/p')
[ -n "$url" ] || { echo "run.sh: JIT config has no runnerUrl" >&2; exit 2; }

dir=$(cd "$(dirname "$0")" && pwd)
work="$dir/_work"
tmp="${TMPDIR:-/tmp}/fake-runner.$$"
mkdir -p "$work" "$tmp"
trap 'rm -rf "$tmp"' EXIT

# post PATH OUTFILE: prints the HTTP status (busybox wget has no --server-response parsing we can rely on,
# so a 204 shows as an empty body with exit 0, and 4xx/5xx as a non-zero exit).
errors=0
while :; do
  rm -f "$tmp/claim"
  if $WGET -q -O "$tmp/claim" --post-data '' "$url/claim" 2>"$tmp/err"; then
    errors=0
    if [ -s "$tmp/claim" ]; then break; fi
    continue # 204: no job yet, claim again
  fi
  if grep -q '410' "$tmp/err" 2>/dev/null; then echo "run.sh: runner was removed" >&2; exit 1; fi
  errors=$((errors + 1))
  if [ "$errors" -ge 5 ]; then echo "run.sh: cannot reach the service: $(cat "$tmp/err")" >&2; exit 1; fi
  sleep 1
done

job=$(sed -n '1s/^JOB //p' "$tmp/claim")
sed '1d' "$tmp/claim" >"$tmp/script.sh"

# The lease stays open while the job runs; if this process dies, the service sees it drop.
$WGET -q -O /dev/null --post-data '' "$url/lease" 2>/dev/null &
lease=$!

code=0
(cd "$work" && RUNNER_JOB_ID="$job" sh "$tmp/script.sh") || code=$?

$WGET -q -O /dev/null --post-data '' "$url/complete?exit=$code" 2>/dev/null || true
kill "$lease" 2>/dev/null || true
wait "$lease" 2>/dev/null || true
exit 0
