// The kernel command line banger-init reads: the `banger.*` parameters the Vm service
// writes (docs/guest.md), checked before anything is mounted so that a bad one is named
// in the one console line the user sees in `banger vm logs`.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "banger/ipv4.h"

namespace banger::guest {

// A parameter banger-init cannot use; what() names it.
class BootParamError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct GuestNetwork {
  Ipv4 address;
  unsigned prefix = 24;
  std::optional<Ipv4> gateway;
  unsigned mtu = 1500;
  std::vector<Ipv4> nameservers;  // at most 3, as resolv.conf reads them
};

struct BootParams {
  std::string baseDevice;     // the image's rootfs, mounted read-only
  std::string overlayDevice;  // the VM's writable layer over it
  std::string workDevice;     // mounted on /root
  std::string fsType = "ext4";
  std::optional<GuestNetwork> network;  // absent: eth0 is left down
  std::string hostname;                 // empty: the image's own
  std::string init = "/sbin/init";      // the image's init, exec'd last
};

// The words of a kernel command line as the kernel splits them: on spaces, except inside
// double quotes, which are then dropped.
std::vector<std::string> splitCommandLine(std::string_view commandLine);

// The `banger.*` words of `commandLine`; other words are the kernel's or the image's and
// are ignored. Throws BootParamError naming the word for anything unusable: an unknown
// or repeated banger.* key, a missing disk, a bad address, prefix, gateway, MTU,
// nameserver, hostname or init path.
BootParams parseBootParams(std::string_view commandLine);

// The words the Vm service puts on the command line for `params` (parse gives it back).
std::string renderBootParams(const BootParams& params);

}  // namespace banger::guest
