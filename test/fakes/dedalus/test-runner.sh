#!/bin/sh
# A stand-in for the Actions runner's run.sh, for Dedalus backend tests that do not need the fake
# Actions service: the "JIT config" is base64 of a shell script, run as the job in <runner dir>/_work.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/_work"
cd "$dir/_work" || exit 2
script=$(printf %s "${ACTIONS_RUNNER_INPUT_JITCONFIG:-}" | base64 -d 2>/dev/null) || { echo "JIT config is not base64" >&2; exit 2; }
exec /bin/sh -c "$script"
