// banger's initrd: a newc cpio (what the kernel unpacks into its rootfs) holding
// banger-init as /init, /dev/console for the first messages, and the guest's modules
// flat in /lib/modules. Uncompressed (IMAGE-NOTES §4: ~2.8 MB, nothing to inflate at
// boot) and reproducible: sorted entries, owner 0, one fixed time, numbered inodes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace banger::image {

struct KernelModule {
  std::string name;   // "virtio_net"
  std::string bytes;  // the .ko
};

// The cpio's bytes. Equal inputs give equal bytes.
std::string buildInitrd(const std::string& init, const std::vector<KernelModule>& modules,
                        std::int64_t mtime);

}  // namespace banger::image
