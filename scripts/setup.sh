#!/usr/bin/env bash
# Sets banger up on this machine and runs the main job: installs the dependencies,
# builds, installs (prefix /usr, where D-Bus, polkit and systemd look), creates the
# "banger" group, reloads the buses and systemd, checks the host with `banger doctor`,
# then runs `banger vm run . -- make test`. Run as root (sudo is not needed).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build-product.sh build -Dwerror=false
meson install -C build --quiet

groupadd -f --system banger
if [ -n "${SUDO_USER:-}" ]; then
  usermod -aG banger "$SUDO_USER"
  echo "setup: added $SUDO_USER to the banger group (log in again for it to apply)"
fi
# Make the new policy, activation files and units known where those managers run.
busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig 2>/dev/null || true
systemctl daemon-reload 2>/dev/null || true

run() {
  # Without a login session there is no user bus: give the command a private one.
  if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then "$@"; else dbus-run-session -- "$@"; fi
}
echo "setup: checking this machine with banger doctor"
if ! run banger doctor; then
  echo "setup: banger doctor found problems (above); fix them, then run: banger vm run . -- make test" >&2
  exit 1
fi
run banger vm run . -- make test
