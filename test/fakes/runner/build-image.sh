#!/usr/bin/env bash
# Builds the fake runner image `runner-fake:test` (see test/fakes/CONTRACT.md): a busybox-static rootfs
# `docker import`ed with test/fakes/runner/run.sh at /home/runner/run.sh. No registry is needed.
#
# Idempotent and cheap when nothing changed: the image carries a hash of its inputs (run.sh, this script,
# the busybox binary) as a label and is only rebuilt when that hash differs. Concurrent callers (vitest
# workers) serialise on a lock file, so two builds never race on the tag.
#
# Env: IMAGE (default runner-fake:test), BUSYBOX (default: the busybox-static binary), RUN_SH (default:
# run.sh next to this script), EXTRA_BINARIES (absolute paths of host programs to add to /bin, with the
# shared libraries ldd lists for them: e.g. curl, for a job that makes a real TLS call).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image="${IMAGE:-runner-fake:test}"
run_sh="${RUN_SH:-$here/run.sh}"
busybox="${BUSYBOX:-/bin/busybox}"
read -r -a extra <<<"${EXTRA_BINARIES:-}"
hash_label="dev.runner.fake-image-hash"

die() {
  echo "build-image.sh: $*" >&2
  exit 1
}

[[ -f "$run_sh" ]] || die "fake runner script $run_sh does not exist; it must be written before the image is built"
[[ -x "$busybox" ]] || die "$busybox not found; install the Debian package busybox-static (apt-get install busybox-static)"
# A dynamically linked busybox (package `busybox`) would not run in an empty rootfs.
if ldd "$busybox" >/dev/null 2>&1; then
  die "$busybox is dynamically linked; install busybox-static instead of busybox"
fi
command -v docker >/dev/null || die "docker CLI not found"

# The libraries a dynamically linked program loads, the loader included (not the kernel's vdso).
libs_of() {
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}
extra_files=()
for bin in "${extra[@]}"; do
  [[ -x "$bin" ]] || die "extra binary $bin not found"
  extra_files+=("$bin")
  while read -r lib; do extra_files+=("$lib"); done < <(libs_of "$bin")
done

hash="$(cat "$run_sh" "${BASH_SOURCE[0]}" "$busybox" "${extra_files[@]}" | sha256sum | cut -c1-16)"

current() {
  docker image inspect --format "{{ index .Config.Labels \"$hash_label\" }}" "$image" 2>/dev/null || true
}

[[ "$(current)" == "$hash" ]] && exit 0

exec 9>"${TMPDIR:-/tmp}/runner-fake-image.lock"
flock -w 300 9 || die "timed out waiting for another build of $image"
# Another caller may have built it while we waited for the lock.
[[ "$(current)" == "$hash" ]] && exit 0

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT

mkdir -p "$rootfs"/{bin,etc,tmp,home/runner,var/run}
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [[ "$applet" == busybox ]] || ln -s busybox "$rootfs/bin/$applet"
done
for bin in "${extra[@]}"; do
  cp -L "$bin" "$rootfs/bin/$(basename "$bin")"
  while read -r lib; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done < <(libs_of "$bin")
done
cp "$run_sh" "$rootfs/home/runner/run.sh"
chmod 0755 "$rootfs/home/runner/run.sh"
# World-writable (sticky) so the runner works whether a test runs it as root or as uid 1001.
chmod 1777 "$rootfs/tmp" "$rootfs/home/runner"
printf 'root:x:0:0:root:/root:/bin/sh\nrunner:x:1001:1001:runner:/home/runner:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nrunner:x:1001:\n' >"$rootfs/etc/group"

tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -c . |
  docker import \
    --change 'ENV PATH=/bin' \
    --change 'ENV HOME=/home/runner' \
    --change 'WORKDIR /home/runner' \
    --change "LABEL $hash_label=$hash" \
    --change 'CMD ["/home/runner/run.sh"]' \
    - "$image" >/dev/null

[[ "$(current)" == "$hash" ]] || die "built $image but its hash label is not $hash"
echo "build-image.sh: built $image ($hash)"
