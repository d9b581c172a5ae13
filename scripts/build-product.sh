#!/usr/bin/env bash
# The product build as scripts/setup.sh installs it: release, prefix /usr, no tests.
# Usage: scripts/build-product.sh BUILD_DIR [MESON_OPTION...]
# setup.sh passes -Dwerror=false, as distributions do, so a newer compiler's new warning
# cannot stop an install; CI builds the same with -Dwerror=true and installs it into a
# scratch DESTDIR (scripts/test.sh), so the code keeps building clean at -O3.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: scripts/build-product.sh BUILD_DIR [MESON_OPTION...]}
shift
options=(--prefix=/usr --buildtype=release -Dtests=false "$@")
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" "${options[@]}"
else
  meson setup "$dir" "${options[@]}"
fi
ninja -C "$dir"
