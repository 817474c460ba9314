#!/usr/bin/env bash
# Installs or upgrades pi-image-receiver on a Raspberry Pi (Raspberry Pi OS / Debian Bookworm):
#   sudo scripts/install.sh
# Safe to run again: an upgrade replaces the program in /opt and restarts the service, and never
# touches the operator's files in /etc/pi-image-receiver or the images in /var/lib.
set -euo pipefail

NAME=pi-image-receiver
SRC=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
ROOT=''
SYSTEMCTL=yes
NPM=yes
BUILD=yes

usage() {
  cat <<EOF
Usage: sudo $0 [--root DIR] [--no-systemctl] [--skip-build] [--skip-npm]

Builds pi-image-receiver from this checkout, installs it to /opt/$NAME, creates the
$NAME user, writes /etc/$NAME/settings.json and /etc/$NAME/environment
when they are absent, installs the systemd unit, enables and (re)starts it, waits for /health
and prints the dashboard's address.

  --root DIR       write every file under DIR instead of / (for packaging and tests)
  --no-systemctl   touch no running system: no systemctl, no health check
  --skip-build     use the checkout's dist/ as it is, already built (npm ci && npm run build), and
                   build nothing; node_modules in /opt/$NAME is still installed
  --skip-npm       use the existing dist/ and install no node_modules (used only by the tests,
                   which have no business downloading packages into a temp directory)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --root) ROOT=$(mkdir -p -- "$2" && cd -- "$2" && pwd); shift 2 ;;
    --root=*) ROOT=$(mkdir -p -- "${1#*=}" && cd -- "${1#*=}" && pwd); shift ;;
    --no-systemctl) SYSTEMCTL=no; shift ;;
    --skip-build) BUILD=no; shift ;;
    --skip-npm) NPM=no; BUILD=no; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf '%s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
  die "run it as root: sudo $0"
fi

# --- Node.js 20.9 or newer, system-wide (the service cannot see /home: ProtectHome=yes) ---
NODE_HOWTO="Install Node.js 24 from NodeSource (on 32-bit Raspberry Pi OS, 20: setup_20.x), then run this script again:
  curl -fsSL https://deb.nodesource.com/setup_24.x | sudo -E bash -
  sudo apt-get install -y nodejs
(Debian Bookworm's own nodejs package is 18.x, too old.) Or unpack an official build from
https://nodejs.org/en/download (linux arm64 for 64-bit Raspberry Pi OS, armv7l for 32-bit) into /usr/local."
node_bin=$(command -v node || true)
[ -n "$node_bin" ] || die "Node.js is not installed. $NODE_HOWTO"
node_version=$("$node_bin" -v 2>/dev/null || true)
if ! [[ $node_version =~ ^v([0-9]+)\.([0-9]+) ]] ||
   [ "${BASH_REMATCH[1]}" -lt 20 ] || { [ "${BASH_REMATCH[1]}" -eq 20 ] && [ "${BASH_REMATCH[2]}" -lt 9 ]; }; then
  die "Node.js ${node_version:-of unknown version} at $node_bin is too old; 20.9 or newer is needed. $NODE_HOWTO"
fi
case $(readlink -f "$node_bin") in
  /home/*|/root/*) die "node at $node_bin lives in a home directory, which the service cannot read (ProtectHome=yes). $NODE_HOWTO" ;;
esac
if [ "$NPM" = yes ]; then
  command -v npm >/dev/null || die "npm is not installed (it comes with NodeSource's nodejs). $NODE_HOWTO"
fi

APP=$ROOT/opt/$NAME
ETC=$ROOT/etc/$NAME

# --- Build the compiled JS in the checkout, as the checkout's owner ---
if [ "$BUILD" = yes ]; then
  say "Building in $SRC ..."
  owner=$(stat -c %U "$SRC")
  as_owner=()
  if [ "$(id -u)" -eq 0 ] && [ "$owner" != root ]; then
    # Their own HOME too, so that npm's cache is theirs and not root's.
    as_owner=(runuser -u "$owner" -- env HOME="$(getent passwd "$owner" | cut -d: -f6)")
  fi
  (cd "$SRC" && "${as_owner[@]}" npm ci --no-audit --no-fund && "${as_owner[@]}" npm run build)
fi
[ -f "$SRC/dist/server/main.js" ] || die "$SRC/dist/server/main.js is missing: run npm ci && npm run build"

# --- The program: staged beside the old one, swapped in only once complete ---
say "Installing the program to /opt/$NAME ..."
rm -rf -- "$APP.new"
# Exactly what scripts/runtime-files.txt lists: the one list of what the daemon needs at run time.
while IFS= read -r item || [ -n "$item" ]; do
  item=${item%%#*}
  item=$(printf '%s' "$item" | tr -d '[:space:]')
  [ -n "$item" ] || continue
  [ -e "$SRC/$item" ] || die "$SRC/$item is missing (listed in scripts/runtime-files.txt): run npm ci && npm run build"
  mkdir -p -- "$(dirname -- "$APP.new/$item")"
  cp -R -- "$SRC/$item" "$APP.new/$item"
done < "$SRC/scripts/runtime-files.txt"
chmod -R u=rwX,go=rX -- "$APP.new"
if [ "$NPM" = yes ]; then
  (cd "$APP.new" && npm ci --omit=dev --no-audit --no-fund)
fi

# --- The label models, only where labels will run (docs/labels.md) ---
# `labels` from the operator's settings (the built-in defaults on a first install), decided by the
# daemon's own rule (labelsWanted in server/labels/models-dir.ts): on, or auto on 1 GB or more.
labels_wanted='const { labelsWanted } = require(process.argv[2]);
const settings = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
process.exit(labelsWanted({ labels: settings.labels ?? "auto" }) ? 0 : 1);'
labels_settings=$ETC/settings.json
[ -e "$labels_settings" ] || labels_settings=$SRC/config/defaults.json
labels_on=no
if [ "$NPM" = yes ] && "$node_bin" -e "$labels_wanted" "$labels_settings" "$APP.new/dist/server/labels/models-dir.js" 2>/dev/null; then
  labels_on=yes
  # CLIP's runtime (15 MB more) only where the operator names a CLIP export.
  clip=
  if "$node_bin" -e 'process.exit(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).clip_model_dir ? 0 : 1)' "$labels_settings" 2>/dev/null; then
    clip=yes
  fi
  say "Labels are on: installing the label models (about 10 MB${clip:+, and the CLIP runtime, 15 MB}) ..."
  # The models of the copy being replaced are kept when their versions still match.
  if [ -d "$APP/models" ]; then cp -R -- "$APP/models" "$APP.new/models"; fi
  "$node_bin" "$APP.new/scripts/models-install.js" ${clip:+--clip} "$APP.new/models"
  chmod -R u=rwX,go=rX -- "$APP.new/models"
fi
if [ -e "$APP" ]; then
  rm -rf -- "$APP.old"
  mv -- "$APP" "$APP.old"
fi
mv -- "$APP.new" "$APP"
rm -rf -- "$APP.old"

# --- The user, declared for systemd-sysusers so that it is created the same way every time ---
install -D -m 0644 -- "$SRC/systemd/sysusers.d/$NAME.conf" "$ROOT/usr/lib/sysusers.d/$NAME.conf"
if [ -n "$ROOT" ]; then
  mkdir -p -- "$ROOT/etc"
  systemd-sysusers --root="$ROOT" "$NAME.conf" >/dev/null
else
  systemd-sysusers "$NAME.conf" >/dev/null
fi

# --- The operator's files: written once, never overwritten ---
mkdir -p -- "$ETC"
if [ ! -e "$ETC/settings.json" ]; then
  install -m 0644 -- "$SRC/config/defaults.json" "$ETC/settings.json"
  say "Wrote /etc/$NAME/settings.json (the built-in defaults, for you to edit)."
fi
if [ ! -e "$ETC/environment" ]; then
  # Read by systemd as root before it starts the daemon: 0600 keeps a future API_TOKEN private.
  install -m 0600 /dev/null "$ETC/environment"
  cat > "$ETC/environment" <<'EOF'
# Environment of the pi-image-receiver service: VARIABLE=value, one a line.
# After a change: sudo systemctl restart pi-image-receiver
#PORT=8000
#HOST=0.0.0.0
#LOG_LEVEL=info
# Any setting, in upper case, overrides /etc/pi-image-receiver/settings.json:
#MAX_IMAGE_DIMENSION=2000
EOF
  say "Wrote /etc/$NAME/environment."
fi

# --- The unit ---
install -D -m 0644 -- "$SRC/systemd/$NAME.service" "$ROOT/etc/systemd/system/$NAME.service"

# The unit's drop-ins that install.sh owns: each written whole (the new file renamed over the
# old) while what it is for is on, and removed when it is off.
DROPIN_DIR=$ROOT/etc/systemd/system/$NAME.service.d
write_dropin() { # FILE: its content on stdin
  mkdir -p -- "$DROPIN_DIR"
  cat > "$DROPIN_DIR/$1.new"
  chmod 0644 -- "$DROPIN_DIR/$1.new"
  mv -- "$DROPIN_DIR/$1.new" "$DROPIN_DIR/$1"
}
remove_dropin() { # FILE: removed, with the folder once it is empty; true when there was one
  [ -e "$DROPIN_DIR/$1" ] || return 1
  rm -f -- "$DROPIN_DIR/$1"
  rmdir -- "$DROPIN_DIR" 2>/dev/null || true
}

# --- The display drop-in: SPI and GPIO devices, only while a display has a command ---
has_command='const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
process.exit(Array.isArray(s.displays) && s.displays.some((d) => d && Array.isArray(d.command)) ? 0 : 1);'
if "$node_bin" -e "$has_command" "$ETC/settings.json" 2>/dev/null; then
  # Only groups that exist here: systemd refuses to start a unit naming an unknown group.
  groups=''
  for group in spi gpio i2c; do
    if grep -q "^$group:" "$ROOT/etc/group" 2>/dev/null; then groups="$groups $group"; fi
  done
  sed "s/^SupplementaryGroups=.*/SupplementaryGroups=${groups# }/" "$SRC/systemd/$NAME.service.d/50-display-devices.conf" |
    write_dropin 50-display-devices.conf
  say "A display has a command: wrote $NAME.service.d/50-display-devices.conf (SPI, GPIO and I2C devices; groups:${groups:- none})."
elif remove_dropin 50-display-devices.conf; then
  say "No display has a command: removed $NAME.service.d/50-display-devices.conf."
fi

# --- The labels drop-in: room for the labels worker (about 200 MB) beside the daemon ---
if [ "$labels_on" = yes ]; then
  printf '%s\n' '# Written by install.sh while labels are on: the labels worker holds about 200 MB beside the daemon (docs/labels.md).' \
    '[Service]' 'MemoryHigh=512M' 'MemoryMax=640M' | write_dropin 60-labels-memory.conf
  say "Labels are on: wrote $NAME.service.d/60-labels-memory.conf (MemoryHigh=512M, MemoryMax=640M)."
elif remove_dropin 60-labels-memory.conf; then
  say "Labels are off: removed $NAME.service.d/60-labels-memory.conf."
fi

if [ "$SYSTEMCTL" = no ]; then
  say "Installed under ${ROOT:-/}; systemctl not run (--no-systemctl)."
  exit 0
fi

systemctl daemon-reload
systemctl enable --quiet "$NAME.service"
systemctl reset-failed "$NAME.service" 2>/dev/null || true
systemctl restart "$NAME.service"

port=$(sed -n 's/^PORT=\([0-9]*\).*/\1/p' "$ETC/environment" | tail -n 1)
port=${port:-8000}
say "Waiting for http://127.0.0.1:$port/health ..."
for _ in $(seq 1 60); do
  if "$node_bin" -e "fetch('http://127.0.0.1:$port/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
    address=$(hostname -I 2>/dev/null | awk '{print $1}')
    say "pi-image-receiver is running."
    say "Dashboard: http://${address:-$(hostname)}:$port/   (or http://$(hostname).local:$port/)"
    say "Logs:      journalctl -u $NAME -f"
    exit 0
  fi
  sleep 1
done
journalctl -u "$NAME" -n 30 --no-pager >&2 || true
die "the service did not answer on port $port within 60 s; see the log above (journalctl -u $NAME)"
