#!/usr/bin/env bash
# The boot check that needs a KVM host (docs/guest.md): banger's default image and its
# debian-cloud kernel (pulled first when missing), under the real Firecracker, from the
# same three disks and command line the Vm service uses. Passes when banger-init assembled
# the root, systemd started the agent, and the agent answers /healthz over vsock.
#
#   scripts/kvm-smoke.sh [FIRECRACKER]      (default: firecracker on PATH; BANGER=banger)
#
# Needs /dev/kvm access (group kvm), mkfs.ext4 and python3. Leaves nothing behind.
set -euo pipefail
firecracker=${1:-firecracker}
banger=${BANGER:-banger}
work=$(mktemp -d)
fc_pid=
cleanup() {
  [ -n "$fc_pid" ] && kill -9 "$fc_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
"$banger" kernel show debian-cloud --json > "$work/kernel.json" 2>/dev/null ||
  { "$banger" kernel pull debian-cloud && "$banger" kernel show debian-cloud --json > "$work/kernel.json"; }
"$banger" image show debian-bookworm --json > "$work/image.json" 2>/dev/null ||
  { "$banger" image pull debian-bookworm && "$banger" image show debian-bookworm --json > "$work/image.json"; }

truncate -s 1G "$work/overlay.ext4"
mkfs.ext4 -q "$work/overlay.ext4"
cp --sparse=always "$(field "$work/image.json" work_seed_path)" "$work/work.ext4"
chmod 0644 "$work/work.ext4"
cat > "$work/vm.json" <<EOF
{
  "boot-source": {
    "kernel_image_path": "$(field "$work/kernel.json" vmlinux_path)",
    "initrd_path": "$(field "$work/kernel.json" initrd_path)",
    "boot_args": "console=ttyS0 reboot=k panic=1 banger.base=/dev/vda banger.overlay=/dev/vdb banger.work=/dev/vdc banger.hostname=smoke"
  },
  "drives": [
    {"drive_id": "base", "path_on_host": "$(field "$work/image.json" rootfs_path)", "is_root_device": true, "is_read_only": true},
    {"drive_id": "overlay", "path_on_host": "$work/overlay.ext4", "is_root_device": false, "is_read_only": false},
    {"drive_id": "work", "path_on_host": "$work/work.ext4", "is_root_device": false, "is_read_only": false}
  ],
  "machine-config": {"vcpu_count": 1, "mem_size_mib": 512},
  "vsock": {"guest_cid": 3, "uds_path": "$work/v.sock"}
}
EOF
"$firecracker" --no-api --config-file "$work/vm.json" > "$work/console.log" 2>&1 &
fc_pid=$!

healthz() {
  python3 - "$work/v.sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"CONNECT 1024\nGET /healthz HTTP/1.0\r\n\r\n")
reply = b""
while chunk := s.recv(4096):
    reply += chunk
print(reply.decode(errors="replace"))
EOF
}

for _ in $(seq 240); do
  if grep -q 'banger-init: / is the overlay' "$work/console.log" &&
     health=$(healthz 2>/dev/null) && grep -q '"status":"ok"' <<< "$health"; then
    grep -a 'banger-init:' "$work/console.log" | tr -d '\r'
    echo "agent: ${health##*$'\r\n\r\n'}"
    echo "kvm-smoke: PASS"
    exit 0
  fi
  kill -0 "$fc_pid" 2>/dev/null || break
  sleep 0.5
done
echo "kvm-smoke: FAIL; the console said:" >&2
tr -d '\r' < "$work/console.log" | tail -40 >&2
exit 1
