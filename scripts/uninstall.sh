#!/usr/bin/env bash
# Removes pi-image-receiver: stops and disables the service, removes the program and the unit.
# Keeps the images (/var/lib/pi-image-receiver), the settings (/etc/pi-image-receiver) and the
# user that owns them, so that installing again carries on where it stopped; --purge removes
# those too.
#   sudo scripts/uninstall.sh [--purge]
set -euo pipefail

NAME=pi-image-receiver
ROOT=''
SYSTEMCTL=yes
PURGE=no

usage() {
  cat <<EOF
Usage: sudo $0 [--purge] [--root DIR] [--no-systemctl]

  --purge          also delete the images, the settings, the unit's drop-ins and the user
  --root DIR       remove files under DIR instead of / (for tests)
  --no-systemctl   touch no running system: no systemctl
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --purge) PURGE=yes; shift ;;
    --root) ROOT=$(cd -- "$2" && pwd); shift 2 ;;
    --root=*) ROOT=$(cd -- "${1#*=}" && pwd); shift ;;
    --no-systemctl) SYSTEMCTL=no; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "uninstall.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
  echo "uninstall.sh: run it as root: sudo $0" >&2
  exit 1
fi

UNIT=$ROOT/etc/systemd/system/$NAME.service
if [ "$SYSTEMCTL" = yes ]; then
  systemctl disable --now --quiet "$NAME.service" 2>/dev/null || true
fi
rm -f -- "$UNIT" "$UNIT.d/50-display-devices.conf" "$UNIT.d/60-labels-memory.conf"
# The directory stays when the operator keeps a drop-in of their own there.
rmdir -- "$UNIT.d" 2>/dev/null || true
rm -rf -- "$ROOT/opt/$NAME" "$ROOT/opt/$NAME.new" "$ROOT/opt/$NAME.old"

if [ "$PURGE" = yes ]; then
  rm -rf -- "$UNIT.d" "$ROOT/etc/$NAME" "$ROOT/var/lib/$NAME" "$ROOT/var/lib/private/$NAME"
  rm -f -- "$ROOT/usr/lib/sysusers.d/$NAME.conf"
  prefix=()
  if [ -n "$ROOT" ]; then prefix=(--prefix "$ROOT"); fi
  if grep -q "^$NAME:" "$ROOT/etc/passwd" 2>/dev/null; then userdel "${prefix[@]}" "$NAME"; fi
  if grep -q "^$NAME:" "$ROOT/etc/group" 2>/dev/null; then groupdel "${prefix[@]}" "$NAME"; fi
  echo "Removed pi-image-receiver, its images, settings and user."
else
  echo "Removed pi-image-receiver. Kept the images in /var/lib/$NAME, the settings in /etc/$NAME"
  echo "and the user $NAME; remove them with: sudo $0 --purge"
fi

if [ "$SYSTEMCTL" = yes ]; then
  systemctl daemon-reload
  systemctl reset-failed "$NAME.service" 2>/dev/null || true
fi
