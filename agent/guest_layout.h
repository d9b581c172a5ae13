// Where banger's guest side lives inside every image and on the vsock, shared by the
// Image service (which writes it into images and initrds) and the Vm service (which
// boots and asks it). docs/guest.md states the same.
#pragma once

namespace banger::guest {

inline constexpr unsigned kAgentVsockPort = 1024;  // the first unprivileged port, as Kata's
inline constexpr const char* kInitInImage = "/usr/lib/banger/banger-init";  // for init=
inline constexpr const char* kAgentInImage = "/usr/lib/banger/banger-agent";
inline constexpr const char* kAgentUnit = "banger-agent.service";
// The boot's records are banger-init's in every image (boot_records.h): these systemd units
// start without a program, through the drop-in of this name
// (agent/files/done-by-banger-init.conf) in /etc/systemd/system/UNIT.d/, and
// systemd-update-utmp-runlevel.service, which has nothing to do at shutdown, is masked.
inline constexpr const char* kRecordsUnit = "systemd-update-utmp.service";
inline constexpr const char* kUnitsDoneAtBoot[] = {kRecordsUnit, "systemd-user-sessions.service"};
inline constexpr const char* kDoneAtBootDropIn = "10-banger-init.conf";
inline constexpr const char* kUnitMaskedForBoot = "systemd-update-utmp-runlevel.service";
inline constexpr const char* kInitInInitrd = "/init";
inline constexpr const char* kModulesInInitrd = "/lib/modules";  // flat: <name>.ko

// The modules a guest needs when its kernel has them as modules (Debian's cloud kernel):
// the virtio-mmio transport, the disks, the network, vsock and overlayfs. Their
// dependencies come along (module_info.h).
inline constexpr const char* kGuestModules[] = {"virtio_mmio", "virtio_blk", "virtio_net",
                                                "vmw_vsock_virtio_transport", "overlay"};

}  // namespace banger::guest
