#!/bin/sh
# Installs the single `runner` binary from a release.
#
#   curl -fsSL https://github.com/<owner>/runner/releases/latest/download/install.sh | sh
#
# Environment:
#   RUNNER_VERSION           release to install, e.g. 1.4.2 (default: latest)
#   INSTALL_DIR              where to put `runner` (default: ~/.local/bin; no sudo needed)
#   RUNNER_RELEASE_BASE_URL  release location (default: GitHub Releases of the project)
#
# The archive is checked against the release's checksums.txt (SHA-256) before anything is installed.
set -eu

DEFAULT_BASE_URL='https://github.com/<owner>/runner/releases'
BASE_URL=${RUNNER_RELEASE_BASE_URL:-$DEFAULT_BASE_URL}
BASE_URL=${BASE_URL%/}
VERSION=${RUNNER_VERSION:-latest}
INSTALL_DIR=${INSTALL_DIR:-"$HOME/.local/bin"}

say() { printf '%s\n' "$*" >&2; }
die() {
  say "install.sh: $*"
  exit 1
}

# https, or plain http to this machine only (a mirror or a test server on loopback): checksums.txt comes
# from the same place as the binary, so over plain http across a network both could be swapped together.
case $BASE_URL in
*'<owner>'*) die "no release location configured in this script; set RUNNER_RELEASE_BASE_URL, e.g. https://github.com/<owner>/runner/releases" ;;
https://*) protocols='=https' ;;
http://127.0.0.1 | http://127.0.0.1[:/]* | http://localhost | http://localhost[:/]* | http://\[::1\] | http://\[::1\][:/]*) protocols='=http,https' ;;
*) die "RUNNER_RELEASE_BASE_URL must start with https:// (plain http:// only to 127.0.0.1, localhost or [::1]), got $BASE_URL" ;;
esac

case $(uname -s) in
Linux) os=linux ;;
Darwin) os=darwin ;;
*) die "unsupported OS $(uname -s): runner binaries exist for Linux and macOS" ;;
esac
case $(uname -m) in
x86_64 | amd64) arch=x64 ;;
aarch64 | arm64) arch=arm64 ;;
*) die "unsupported CPU $(uname -m): runner binaries exist for x64 and arm64" ;;
esac

# fetch URL FILE: curl or wget (GNU or busybox), redirects followed, with timeouts.
if command -v curl >/dev/null 2>&1; then
  # A redirect may not downgrade https to http either.
  fetch() { curl --fail --silent --show-error --location --proto "$protocols" --proto-redir "$protocols" --connect-timeout 20 --max-time 600 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  # Some busybox builds lack -T (Debian's crashes on it); they keep their built-in read timeout.
  if wget --help 2>&1 | grep -q -- '-T'; then
    fetch() { wget -q -T 60 -O "$2" "$1"; }
  else
    fetch() { wget -q -O "$2" "$1"; }
  fi
else
  die "neither curl nor wget found; install one of them"
fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
  die "neither sha256sum nor shasum found; cannot verify the download"
fi

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t runner-install)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

if [ "$VERSION" = latest ]; then
  fetch "$BASE_URL/latest/download/latest.json" "$tmp/latest.json" || die "cannot get $BASE_URL/latest/download/latest.json"
  VERSION=$(sed -n 's/.*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$tmp/latest.json" | head -n 1)
  [ -n "$VERSION" ] || die "no version in $BASE_URL/latest/download/latest.json"
fi
VERSION=${VERSION#v}
case $VERSION in
*[!0-9A-Za-z.+-]*) die "RUNNER_VERSION must look like 1.2.3, got $VERSION" ;;
esac

archive="runner-$os-$arch.tar.gz"
release="$BASE_URL/download/v$VERSION"
say "downloading runner $VERSION for $os-$arch from $release"
fetch "$release/$archive" "$tmp/$archive" || die "cannot download $release/$archive (does release v$VERSION exist for $os-$arch?)"
fetch "$release/checksums.txt" "$tmp/checksums.txt" || die "cannot download $release/checksums.txt"

expected=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/checksums.txt")
[ -n "$expected" ] || die "checksums.txt has no entry for $archive; refusing an unverified download"
actual=$(sha256 "$tmp/$archive")
[ "$expected" = "$actual" ] || die "checksum mismatch for $archive (expected $expected, got $actual); nothing was installed"

mkdir "$tmp/x"
tar -xzf "$tmp/$archive" -C "$tmp/x" runner || die "$archive has no runner file"
[ -f "$tmp/x/runner" ] || die "$archive has no runner file"

mkdir -p "$INSTALL_DIR" || die "cannot create $INSTALL_DIR; set INSTALL_DIR to a directory you can write"
# Copy next to the target, then rename: an interrupted install never leaves half a binary.
cp "$tmp/x/runner" "$INSTALL_DIR/.runner.install.$$" || die "cannot write to $INSTALL_DIR; set INSTALL_DIR or run with sudo"
chmod 0755 "$INSTALL_DIR/.runner.install.$$"
mv -f "$INSTALL_DIR/.runner.install.$$" "$INSTALL_DIR/runner"

say "installed runner $VERSION to $INSTALL_DIR/runner"
case ":$PATH:" in
*":$INSTALL_DIR:"*) ;;
*)
  say ""
  say "$INSTALL_DIR is not on your PATH. Add it, e.g. in ~/.profile:"
  say "  export PATH=\"$INSTALL_DIR:\$PATH\""
  ;;
esac
say "next: runner init   (then: runner service install --user, or sudo runner service install)"
