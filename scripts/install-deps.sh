#!/usr/bin/env bash
# Installs every Debian 12 package banger needs to build, test and run. Idempotent:
# it only calls apt-get when something is missing.
set -euo pipefail

packages=(
  # build
  g++ meson ninja-build pkg-config python3 git
  # libraries
  libsdbus-c++-dev libsdbus-c++-bin libsystemd-dev libsqlite3-dev libcurl4-openssl-dev
  libarchive-dev libzstd-dev libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libssl-dev
  libnl-route-3-dev libnftables-dev libext2fs-dev liblzma-dev
  # tests
  libgtest-dev libgmock-dev clang libclang-rt-14-dev
  # run time and test peers: buses, polkit, systemd tools, networking
  dbus dbus-daemon polkitd systemd iproute2 nftables iputils-ping
  # DNS: dig for the tests, dnsperf and dnsmasq for the benchmark
  bind9-dnsutils dnsperf dnsmasq-base
  # images: a real Debian rootfs, a local registry and the OCI tools the tests push with
  mmdebstrap skopeo umoci docker-registry e2fsprogs
  # mmdebstrap's unshare mode (newuidmap) for users, fakechroot mode where user namespaces
  # are off
  uidmap fakechroot fakeroot
  # kernels: gpgv and the archive keyring verify Debian's packages; the tests check what
  # banger made with readelf, GNU cpio and kmod's modinfo, and sign a test archive with gpg
  gpgv debian-archive-keyring binutils cpio kmod gnupg lz4 zstd xz-utils
  # the Firecracker stand-ins: the spec converter, the guest simulator's containers, and
  # what its tests reach the guest with
  python3-yaml systemd-container openssh-client iperf3
  # set-up: curl fetches Firecracker when the user accepts the offer
  curl
  # a TLS web server for the port probe's test
  openssl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run this script as root (sudo)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
