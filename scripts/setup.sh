#!/usr/bin/env bash
# Sets banger up on this machine and runs the main job: installs the dependencies,
# builds, installs (prefix /usr, where D-Bus, polkit and systemd look), readies the host
# with `banger system install` (the banger group with the user who ran sudo, D-Bus and
# systemd reloaded, .vm routed), offers Firecracker v1.16.1 when there is none, checks
# the host with `banger doctor`, then runs `banger vm run . -- make test`.
# Run as root (sudo is not needed).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly FIRECRACKER_VERSION=v1.16.1
readonly FIRECRACKER_URL="https://github.com/firecracker-microvm/firecracker/releases/download/${FIRECRACKER_VERSION}/firecracker-${FIRECRACKER_VERSION}-x86_64.tgz"

scripts/install-deps.sh
scripts/build-product.sh build -Dwerror=false
meson install -C build --quiet
banger system install

# Firecracker is the one thing Debian does not ship. Offered, never fetched unasked: the
# official release for x86_64, checked against the SHA-256 published beside it.
offer_firecracker() {
  if command -v firecracker >/dev/null 2>&1; then return 0; fi
  echo "setup: Firecracker is not on PATH; banger needs ${FIRECRACKER_VERSION}."
  echo "setup: the official release is ${FIRECRACKER_URL}"
  if [ "$(uname -m)" != x86_64 ]; then
    echo "setup: this host is $(uname -m); banger runs on x86_64 only" >&2
    return 0
  fi
  if [ ! -t 0 ]; then
    echo "setup: no terminal to ask on; install it by hand, or run scripts/setup.sh from a terminal"
    return 0
  fi
  read -r -p "setup: download it into /usr/local/bin now? [y/N] " answer
  [ "$answer" = y ] || [ "$answer" = Y ] || return 0
  local dir
  dir=$(mktemp -d)
  if ! curl -fsSL --connect-timeout 10 -o "$dir/fc.tgz" "$FIRECRACKER_URL" ||
     ! curl -fsSL --connect-timeout 10 -o "$dir/fc.tgz.sha256.txt" "${FIRECRACKER_URL}.sha256.txt"; then
    echo "setup: cannot download from github.com (no network here?); install Firecracker ${FIRECRACKER_VERSION} by hand" >&2
    rm -rf "$dir"
    return 0
  fi
  if ! (cd "$dir" && sed "s/ .*/  fc.tgz/" fc.tgz.sha256.txt | sha256sum --check --quiet); then
    echo "setup: the download does not match its published SHA-256; nothing was installed" >&2
    rm -rf "$dir"
    return 1
  fi
  tar -xzf "$dir/fc.tgz" -C "$dir"
  install -m 0755 "$dir/release-${FIRECRACKER_VERSION}-x86_64/firecracker-${FIRECRACKER_VERSION}-x86_64" \
    /usr/local/bin/firecracker
  rm -rf "$dir"
  echo "setup: installed /usr/local/bin/firecracker ($(firecracker --version | head -n1))"
}
offer_firecracker

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
