// The guest's AF_VSOCK, and its mounts of devtmpfs and sysfs, handled outside it through
// a seccomp user-notification filter installed before systemd-nspawn is executed:
//   socket(AF_VSOCK, SOCK_STREAM)  → an AF_UNIX stream socket put in its place
//   bind(port P)                   → bound to "<uds_path>.guest_P" (where the host side
//                                    of the vsock device connects for "CONNECT P")
//   connect(CID 2, port P)         → "<uds_path>_P", Firecracker's guest-initiated path
//   mount("devtmpfs"|"sysfs")      → EPERM unless systemd-nspawn itself mounts the
//                                    container's /sys: a guest never sees host devices
// Every other call continues untouched. A real AF_VSOCK is never reached: on a build
// machine that is itself a VM, CID 2 is its real hypervisor.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/stop_signal.h"
#include "core/vm_config.h"

namespace fcfake::sim {

// In the child, just before exec: installs the filter and returns its listener.
// Async-signal-safe (no allocation); -1 on failure with errno set.
int installGuestFilter();

class SyscallSupervisor {
 public:
  // `udsPath` empty: the VM has no vsock device and AF_VSOCK fails as without one.
  SyscallSupervisor(UniqueFd listener, std::string udsPath, std::string nspawnBinary);
  ~SyscallSupervisor();
  SyscallSupervisor(const SyscallSupervisor&) = delete;
  SyscallSupervisor& operator=(const SyscallSupervisor&) = delete;

 private:
  void run();
  UniqueFd listener_;
  std::string udsPath_;
  dev_t nspawnDev_ = 0;
  ino_t nspawnIno_ = 0;
  StopSignal stop_;
  std::set<ino_t> translated_;  // inodes of the Unix sockets standing in for vsock ones
  unsigned nextEphemeralPort_ = 49152;
  std::thread thread_;
};

}  // namespace fcfake::sim
