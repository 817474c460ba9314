#!/usr/bin/env bash
# Builds, once per machine, the Debian root that test/systemd/boot.test.ts boots with
# systemd-nspawn: a minimal Debian of this machine's release with systemd, cached as a tarball and
# unpacked beside it. The test never writes to the unpacked root: it boots an overlay over it.
#   sudo bash .ci/systemd-root.sh      (prints the unpacked root's path)
# Needs root, debootstrap and the mirror apt already uses (read from /etc/apt/sources.list*).
set -euo pipefail

CACHE=${PIR_CI_CACHE:-/var/cache/pi-image-receiver-ci}
. /etc/os-release
SUITE=${VERSION_CODENAME:?/etc/os-release names no VERSION_CODENAME}
ARCH=$(dpkg --print-architecture)
NAME=systemd-root-$SUITE-$ARCH
TARBALL=$CACHE/$NAME.tar.gz
ROOT=$CACHE/$NAME
# Written last into an unpacked root: a root without it is half unpacked, and unpacked again.
STAMP=.pi-image-receiver-root

die() { printf 'systemd-root.sh: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run it as root"

# The first mirror apt uses for $SUITE itself (not -updates or -security), in either sources
# format: deb822 stanzas (URIs: / Suites:) or one-line `deb [options] URI SUITE COMPONENTS`.
mirror() {
  # Either file may be absent: cat's complaint is no failure here.
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
    awk -v suite="$SUITE" '
      function flush() { if (uris != "" && (" " suites " ") ~ (" " suite " ")) { split(uris, u, " "); print u[1]; exit } uris = ""; suites = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0; next }
      /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0; next }
      /^deb[[:space:]]/ { sub(/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?/, ""); if ($2 == suite) { print $1; exit } }
      END { flush() }' | head -n 1
}

if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || die "debootstrap is not installed: apt-get install debootstrap"
  url=$(mirror)
  [ -n "$url" ] || die "no mirror for $SUITE in /etc/apt/sources.list*"
  mkdir -p "$CACHE"
  build=$(mktemp -d "$CACHE/build.XXXXXX")
  trap 'rm -rf -- "$build"' EXIT
  echo "systemd-root.sh: debootstrap $SUITE ($ARCH) from $url ..." >&2
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus "$SUITE" "$build/root" "$url" >"$build/log" 2>&1 ||
    { tail -n 20 "$build/log" >&2; die "debootstrap failed"; }
  # npm (run by scripts/install.sh inside) checks the registry's certificate: the host's bundle.
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$build/root/etc/ssl/certs/ca-certificates.crt"
  echo pi > "$build/root/etc/hostname"
  # apt's downloaded packages are not needed to boot.
  rm -rf "$build/root/var/cache/apt/archives/"*.deb "$build/root/var/lib/apt/lists/"*
  tar -C "$build/root" -cf - . | gzip -1 > "$build/root.tar.gz"
  mv "$build/root.tar.gz" "$TARBALL"
  rm -rf -- "$ROOT"
  mv "$build/root" "$ROOT"
  touch "$ROOT/$STAMP"
fi

if [ ! -e "$ROOT/$STAMP" ]; then
  rm -rf -- "$ROOT" "$ROOT.new"
  mkdir -p "$ROOT.new"
  tar -C "$ROOT.new" -xzf "$TARBALL"
  touch "$ROOT.new/$STAMP"
  mv "$ROOT.new" "$ROOT"
fi
echo "$ROOT"
