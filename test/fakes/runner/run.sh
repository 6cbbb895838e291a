#!/bin/sh
# A fake ephemeral GitHub Actions runner for the fake Actions service (test/fakes/CONTRACT.md): claim one
# job, hold a lease while its script runs, report the exit code, exit.
# POSIX sh: runs under busybox (sh, wget, base64, sed, mktemp) and on a Debian host (GNU wget).
#
# Exit codes: 0 job done (or canceled at the service), 1 runner removed (410) or service unreachable,
# 2 bad JIT config, 128+N killed by signal N.
# shellcheck disable=SC2317 # several functions only run from traps
set -u

fail() {
  code=$1
  shift
  echo "run.sh: $*" >&2
  exit "$code"
}

jit=${ACTIONS_RUNNER_INPUT_JITCONFIG:-}
while [ $# -gt 0 ]; do
  case $1 in
  --jitconfig)
    [ $# -ge 2 ] || fail 2 "--jitconfig needs a value"
    jit=$2
    shift 2
    ;;
  --jitconfig=*)
    jit=${1#--jitconfig=}
    shift
    ;;
  *) shift ;;
  esac
done
[ -n "$jit" ] || fail 2 "no JIT config: set ACTIONS_RUNNER_INPUT_JITCONFIG or pass --jitconfig"
json=$(printf '%s' "$jit" | base64 -d 2>/dev/null) || fail 2 "the JIT config is not base64"
url=$(printf '%s\n' "$json" | sed -n 's/.*"runnerUrl":"\([^"]*\)".*/\1/p')
[ -n "$url" ] || fail 2 "the JIT config has no runnerUrl (not issued by the fake Actions service?)"

# The fake is never behind a proxy; an inherited one would break the long-held requests. Only the
# runner's own requests go without it: the job keeps the proxy variables the runner was given.
no_proxy_env() { unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY; }
if command -v wget >/dev/null 2>&1; then wget_cmd=wget; else wget_cmd='busybox wget'; fi
# GNU wget retries up to 20 times on its own; the loops below do the retrying. (busybox wget has no
# --tries, and its -T crashes busybox 1.35, so no timeout options at all: the fake's lease keep-alive
# bytes keep the 15-minute read timeout from firing.)
wget_opts=''
if $wget_cmd --version 2>/dev/null | grep -q 'GNU Wget'; then wget_opts='--tries=1'; fi

dir=$(cd "$(dirname "$0")" && pwd)
work=$dir/_work
mkdir -p "$work" || fail 1 "cannot create $work"
tmp=$(mktemp -d 2>/dev/null) || {
  tmp=${TMPDIR:-/tmp}/fake-runner.$$
  mkdir -p "$tmp" || fail 1 "cannot create $tmp"
}

# children PID: the pids whose parent is PID (Linux /proc; none where there is no /proc).
children() {
  cat /proc/[0-9]*/stat 2>/dev/null | sed -n "s/^\([0-9]*\) (.*) [A-Za-z] $1 .*/\1/p"
}
# tree PID: PID and its descendants, listed before any is killed (a killed parent's children move away).
tree() {
  echo "$1"
  for kid in $(children "$1"); do tree "$kid"; done
}

http_pid=''
job_pid=''
lease_pid=''
cleanup() {
  # The job's own children too: a script's `sleep` must not outlive a stopped runner.
  [ -z "$job_pid" ] || job_pid=$(tree "$job_pid")
  for pid in $http_pid $job_pid $lease_pid; do kill "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
# Stopped mid-job (docker stop, kill): end the job and drop the lease, so the service sees a dead runner.
on_signal() {
  trap - EXIT
  cleanup
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 129' HUP
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# post ENDPOINT: POSTs an empty body to the runner URL. Sets `status` (000 when no response came); the
# response body is in $tmp/body. wget runs in the background so a signal is handled at once, not after
# a claim held for half a minute.
post() {
  rm -f "$tmp/body" "$tmp/err"
  # shellcheck disable=SC2086 # wget_cmd and wget_opts are word lists
  (no_proxy_env && exec $wget_cmd $wget_opts -q -S -O "$tmp/body" --post-data '' "$url/$1" 2>"$tmp/err") &
  http_pid=$!
  wait "$http_pid"
  http_pid=''
  status=$(sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' "$tmp/err" | tail -n 1)
  status=${status:-000}
}

# post_retrying ENDPOINT OK_STATUSES…: retries anything but the given statuses a few times, then exits 1.
post_retrying() {
  endpoint=$1
  shift
  failures=0
  while :; do
    post "$endpoint"
    for ok in "$@"; do [ "$status" = "$ok" ] && return 0; done
    failures=$((failures + 1))
    [ "$failures" -lt 5 ] || fail 1 "POST $endpoint failed $failures times; last: HTTP $status $(head -c 300 "$tmp/err" 2>/dev/null)"
    sleep 1
  done
}

# 1. Claim until the service assigns a job (204 = nothing yet, claim again; 410 = removed).
while :; do
  post_retrying claim 200 204 410
  case $status in
  200) break ;;
  410) fail 1 "this runner was removed at the service (410)" ;;
  esac
done
job_id=$(sed -n '1s/^JOB \([0-9][0-9]*\).*/\1/p' "$tmp/body")
[ -n "$job_id" ] || fail 1 "the claim answered 200 without a job"
script=$(sed '1d' "$tmp/body")
echo "run.sh: running job $job_id"

# 2. The lease stays open while the job runs; if this runner dies, the service sees it drop.
# shellcheck disable=SC2086
(no_proxy_env && exec $wget_cmd $wget_opts -q -O /dev/null --post-data '' "$url/lease" 2>/dev/null) &
lease_pid=$!

# 3. The job, in the background so that a signal reaches the trap without waiting for it.
(cd "$work" && export RUNNER_JOB_ID="$job_id" && exec sh -c "$script") &
job_pid=$!
wait "$job_pid"
code=$?
job_pid=''
echo "run.sh: job $job_id exited $code"

# 4. Report; 410 means the service finished the job already (canceled, or failed after a lost lease).
post_retrying "complete?exit=$code" 200 410
kill "$lease_pid" 2>/dev/null
wait "$lease_pid" 2>/dev/null
lease_pid=''
exit 0
