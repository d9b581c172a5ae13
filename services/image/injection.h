// banger's own files in every image: one synthetic layer stacked on top of the image's
// own layers, so it wins without any replace logic (IMAGE-NOTES, flattening): the guest
// agent and banger-init, their units (enabled), the hardened sshd drop-in, the host-key
// fallback, the first-boot step, and the drop-ins and masks that leave the boot's records
// to banger-init and take the console's getty out (docs/guest.md, docs/images.md). And what is left
// out of every image: SSH host keys, since each VM gets its own.
#pragma once

#include <cstdint>
#include <string>

#include "guest_files.h"
#include "guest_layout.h"

namespace banger::image {

inline constexpr const char* kSshdDropIn = "/etc/ssh/sshd_config.d/99-banger.conf";
// Debian's ssh.service, started early (agent/files/ssh-early.conf); other units are untouched.
inline constexpr const char* kSshUnitDropIn =
    "/etc/systemd/system/ssh.service.d/10-banger-early.conf";
// No /run/nologin made at boot, so no unit has to start a program to remove it
// (agent/boot_records.h).
inline constexpr const char* kNologinTmpfiles = "/etc/tmpfiles.d/systemd-nologin.conf";

// Units masked in every image: the runlevel record is banger-init's (guest_layout.h); and no
// login prompt on the serial console, since banger connects nothing to its input (its output
// is `vm logs`), so a getty there can never be answered, and its start costs the boot a
// program beside the first SSH login (console-getty in a container: the simulator).
inline constexpr const char* kMaskedUnits[] = {guest::kUnitMaskedForBoot, "serial-getty@.service",
                                               "console-getty.service"};

// The layer as an uncompressed tar; every entry dated `mtime`, so it is reproducible.
// Unavailable when one of the guest files is missing on this host.
std::string injectionLayer(std::int64_t mtime, const GuestFiles& guest);

// Whether an entry path ("/etc/ssh/ssh_host_ed25519_key") is one of the
// image's own SSH host keys, which never reach the base rootfs.
bool isSshHostKey(const std::string& path);

}  // namespace banger::image
