// banger-init's steps, in the order it takes them (docs/guest.md). Each throws
// BootStepError naming the step and the device or path, which banger-init prints as its
// one console line before it ends the VM.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "boot_params.h"

namespace banger::guest {

class BootStepError : public std::runtime_error {
 public:
  BootStepError(const std::string& step, const std::string& what)
      : std::runtime_error(step + ": " + what) {}
};

// /proc, /sys, /dev (devtmpfs) and /run (tmpfs), each only where nothing is mounted yet;
// then fds 0-2 on /dev/console if the kernel found no console to give us.
void mountApiFilesystems();

// Every *.ko directly in `directory`, in dependency order. Returns one line per module
// that did not load ("overlay: Operation not permitted"); whether that matters is
// decided by what the later steps find missing.
std::vector<std::string> loadModules(const std::string& directory);

// Waits for the three disks (and eth0 when the network is configured) to appear.
void waitForDevices(const BootParams& params, const std::vector<std::string>& moduleFailures);

// Mounts base (read-only), overlay disk, the overlay root and the work disk on its /root
// in `staging` and returns the new root; checks overlayfs is there first.
std::string assembleRoot(const BootParams& params, const std::string& staging,
                         const std::vector<std::string>& moduleFailures);

// lo, eth0, the hostname (also /etc/hostname), /etc/resolv.conf of `newRoot`, and the login
// banner's kernel line where the image leaves it to banger-init (login_banner.h).
void configureGuest(const BootParams& params, const std::string& newRoot);

// Moves /dev /proc /sys /run into `newRoot`, makes it / and execs `init` there. Returns
// only by throwing.
[[noreturn]] void switchRoot(const std::string& newRoot, const std::string& init,
                             char* const* environment);

}  // namespace banger::guest
